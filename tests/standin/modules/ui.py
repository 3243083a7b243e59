"""webui's ui.py, the part its API depends on: while webui builds its UI (never under
--nowebui), each tab's script controls are made (ScriptRunner.setup_ui) and the fields
for pasting an infotext are registered, the tab's own and its scripts'. webui's
Sampler and Seed scripts are folded into the tab's fields here."""

from modules import infotext_utils, scripts
from modules.infotext_utils import PasteField
from modules.scripts import Component


def _common():
    return [
        PasteField(Component("Prompt", ""), "Prompt", api="prompt"),
        PasteField(Component("Negative prompt", ""), "Negative prompt", api="negative_prompt"),
        PasteField(Component("Sampling steps", 20), "Steps", api="steps"),
        PasteField(Component("Sampling method", "DPM++ 2M"), "Sampler", api="sampler_name"),
        PasteField(Component("Schedule type", "Automatic"), "Schedule type", api="scheduler"),
        PasteField(Component("CFG Scale", 7.0), "CFG scale", api="cfg_scale"),
        PasteField(Component("Seed", -1), "Seed", api="seed"),
        PasteField(Component("Variation seed", -1), "Variation seed", api="subseed"),
        PasteField(Component("Variation strength", 0.0), "Variation seed strength", api="subseed_strength"),
        PasteField(Component("Width", 512), "Size-1", api="width"),
        PasteField(Component("Height", 512), "Size-2", api="height"),
        PasteField(Component("Batch size", 1), "Batch size", api="batch_size"),
        PasteField(Component("Denoising strength", 0.7), "Denoising strength", api="denoising_strength"),
    ]


def _txt2img():
    return [
        PasteField(Component("Hires. fix", False),
                   lambda d: "Denoising strength" in d and ("Hires upscale" in d or "Hires upscaler" in d
                                                             or "Hires resize-1" in d), api="enable_hr"),
        PasteField(Component("Upscale by", 2.0), "Hires upscale", api="hr_scale"),
        PasteField(Component("Upscaler", "Latent"), "Hires upscaler", api="hr_upscaler"),
        PasteField(Component("Hires steps", 0), "Hires steps", api="hr_second_pass_steps"),
        PasteField(Component("Resize width to", 0), "Hires resize-1", api="hr_resize_x"),
        PasteField(Component("Resize height to", 0), "Hires resize-2", api="hr_resize_y"),
        PasteField(Component("Hires checkpoint", "Use same checkpoint"), "Hires checkpoint", api="hr_checkpoint_name"),
        PasteField(Component("Hires sampling method", "Use same sampler"), "Hires sampler", api="hr_sampler_name"),
        PasteField(Component("Hires prompt", ""), "Hires prompt", api="hr_prompt"),
        PasteField(Component("Hires negative prompt", ""), "Hires negative prompt", api="hr_negative_prompt"),
    ]


def _img2img():
    return [
        PasteField(Component("Image CFG Scale", 1.5), "Image CFG scale", api="image_cfg_scale"),
        PasteField(Component("Mask blur", 4), "Mask blur", api="mask_blur"),
    ]


def create_ui():
    for tab, runner, own in (("txt2img", scripts.scripts_txt2img, _txt2img()),
                             ("img2img", scripts.scripts_img2img, _img2img())):
        runner.setup_ui()
        infotext_utils.add_paste_fields(tab, None, _common() + own + runner.infotext_fields)
