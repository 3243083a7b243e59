"""The stand-in's scripts, small versions of webui's own with their argument layouts:
- "Tint" (always-on): blends every image with red when enabled; visible in pixels;
  "Tint: <amount>" in the infotext, which pasting reads back into its arguments;
- "Prompt matrix" (selectable): every combination of the `|` parts of the prompt, and
  a grid in front, as webui's prompt_matrix.py;
- "X/Y/Z plot" (selectable): webui's 18 arguments; the X axis may be Seed or
  Checkpoint name (values from the dropdown list), each cell on its own model through
  override_settings, a grid in front (the cells too with "Include Sub Images"), and
  webui's default model loaded again after."""

import copy
import math

from PIL import Image

from modules import images, processing, scripts, sd_models, sd_vae
from modules.infotext_utils import PasteField
from modules.scripts import AlwaysVisible, Component


class Tint(scripts.Script):
    def title(self):
        return "Tint"

    def show(self, is_img2img):
        return AlwaysVisible

    def ui(self, is_img2img):
        enabled, amount = Component("Enable tint", False), Component("Tint amount", 0.5, minimum=0.0, maximum=1.0, step=0.05)
        self.infotext_fields = [PasteField(enabled, lambda d: "Tint" in d), PasteField(amount, "Tint")]
        return [enabled, amount]

    def process(self, p, enabled, amount):
        if enabled:  # in the infotext, as webui's scripts write their settings
            p.extra_generation_params["Tint"] = amount

    def postprocess(self, p, processed, enabled, amount):
        if not enabled:
            return
        for i, image in enumerate(processed.images):
            red = Image.new("RGB", image.size, (255, 0, 0))
            tinted = Image.blend(image.convert("RGB"), red, float(amount))
            tinted.info = dict(image.info)
            processed.images[i] = tinted


class PromptMatrix(scripts.Script):
    def title(self):
        return "Prompt matrix"

    def ui(self, is_img2img):
        return [
            Component("Put variable parts at start of prompt", False),
            Component("Use different seed for each picture", False),
            Component("Select prompt", "positive", choices=["positive", "negative"]),
            Component("Select joining char", "comma", choices=["comma", "space"]),
            Component("Grid margins (px)", 0, minimum=0, maximum=500, step=2),
        ]

    def run(self, p, put_at_start, different_seeds, prompt_type, variations_delimiter, margin_size):
        base, *options = [part.strip() for part in p.prompt.split("|")]
        joiner = ", " if variations_delimiter == "comma" else " "
        prompts = []
        for mask in range(2 ** len(options)):
            chosen = [o for i, o in enumerate(options) if mask & (1 << i)]
            prompts.append(joiner.join(chosen + [base] if put_at_start else [base] + chosen))
        p.n_iter = math.ceil(len(prompts) / p.batch_size)
        p.prompt = prompts
        p.seed = [p.seed + (i if different_seeds else 0) for i in range(len(prompts))]
        processed = processing.process_images(p)
        grid = images.image_grid(processed.images, rows=1 << ((len(options) + 1) // 2))
        processed.images.insert(0, grid)
        processed.index_of_first_image = 1
        processed.infotexts.insert(0, processed.infotexts[0])
        return processed


AXES = ["Nothing", "Seed", "Steps", "Checkpoint name"]


class XYZPlot(scripts.Script):
    def title(self):
        return "X/Y/Z plot"

    def ui(self, is_img2img):
        axis = lambda label: Component(label, 1 if label.startswith("X") else 0, choices=AXES)  # noqa: E731
        return [
            axis("X type"), Component("X values", ""), Component("X values", []),
            axis("Y type"), Component("Y values", ""), Component("Y values", []),
            axis("Z type"), Component("Z values", ""), Component("Z values", []),
            Component("Draw legend", True), Component("Include Sub Images", False),
            Component("Include Sub Grids", False), Component("Keep -1 for seeds", False),
            Component("Vary seeds for X", False), Component("Vary seeds for Y", False), Component("Vary seeds for Z", False),
            Component("Grid margins (px)", 0), Component("Use text inputs instead of dropdowns", False),
        ]

    def run(self, p, x_type, x_values, x_values_dropdown, y_type, y_values, y_values_dropdown, z_type, z_values,
            z_values_dropdown, draw_legend, include_lone_images, include_sub_grids, no_fixed_seeds, vary_seeds_x,
            vary_seeds_y, vary_seeds_z, margin_size, csv_mode):
        axis = AXES[x_type or 0]
        if (y_type or 0) or (z_type or 0):
            raise RuntimeError("the stand-in's X/Y/Z plot has an X axis only")
        if axis == "Checkpoint name" and not csv_mode:
            values = list(x_values_dropdown)
            for value in values:
                if sd_models.get_closet_checkpoint_match(value) is None:
                    raise RuntimeError(f"Unknown checkpoint: {value}")
        else:
            values = [v.strip() for v in str(x_values).split(",") if v.strip()] or [None]
        cells, texts = [], []
        try:
            for value in values:
                pc = copy.copy(p)
                pc.override_settings = dict(p.override_settings)
                if axis == "Seed":
                    pc.seed = int(value)
                elif axis == "Steps":
                    pc.steps = int(value)
                elif axis == "Checkpoint name":
                    pc.override_settings["sd_model_checkpoint"] = sd_models.get_closet_checkpoint_match(value).name
                done = processing.process_images(pc)
                cells += done.images[done.index_of_first_image:]
                texts += done.infotexts[done.index_of_first_image:]
        finally:  # as webui's SharedSettingsStackHelper: the model the options name, again
            sd_models.reload_model_weights()
            sd_vae.reload_vae_weights()
        grid = images.image_grid(cells, rows=1)
        if not include_lone_images:  # as webui: the grid alone
            cells, texts = [], texts[:1]
        return processing.Processed(p, [grid] + cells, seed=p.seed, info=texts[0], index_of_first_image=1,
                                    infotexts=[texts[0]] + texts[: len(cells)])


def install():
    """Fill webui's two script runners, as webui does when it builds its UI: these
    scripts, then the extensions' (scripts.extension_classes)."""
    classes = (Tint, PromptMatrix, XYZPlot, *scripts.extension_classes)
    scripts.scripts_txt2img.initialize_scripts(False, classes)
    scripts.scripts_img2img.initialize_scripts(True, classes)

