"""webui's shared globals: cmd_opts, opts, state, and sd_model (a module property)."""

import os
import sys
import types

from modules import options, paths_internal, shared_cmd_options, shared_options, shared_state, styles

cmd_opts = shared_cmd_options.cmd_opts
parallel_processing_allowed = True
config_filename = os.path.join(paths_internal.data_path, "config.json")

OptionInfo = options.OptionInfo

# hires-fix upscalers: the latent modes by name, and the image upscalers webui found
latent_upscale_modes = {"Latent": {"mode": "bilinear", "antialias": False}, "Latent (nearest)": {"mode": "nearest", "antialias": False}}
sd_upscalers = [types.SimpleNamespace(name=name) for name in ("None", "Lanczos", "Nearest")]
# webui's saved styles, from two styles files as Forge has them (so with its dividers)
prompt_styles = styles.StyleDatabase({"styles": [
    styles.PromptStyle("cinematic", "{prompt}, cinematic", "", "styles.csv"),
    styles.PromptStyle("clean", "sharp focus", "blurry, watermark", "styles.csv"),
], "styles_integrated": [styles.PromptStyle("moody", "dark, moody", "", "styles_integrated.csv")]})
opts = options.Options(shared_options.options_templates())
state = shared_state.State()


class _Shared(types.ModuleType):
    """As in webui, reading shared.sd_model loads the default model when none was loaded yet."""

    @property
    def sd_model(self):
        from modules import sd_models

        return sd_models.model_data.get_sd_model()

    @sd_model.setter
    def sd_model(self, value):
        from modules import sd_models

        sd_models.model_data.set_sd_model(value)


sys.modules[__name__].__class__ = _Shared
