"""The subset of webui's settings the stand-in reads, with webui v1.10.1's defaults."""

import os

from modules import paths_internal
from modules.options import OptionInfo


def options_templates():
    """Built on demand: webui derives the output folders from data_path at start-up."""
    outputs = os.path.join(paths_internal.data_path, "outputs")
    defaults = {
        # Stable Diffusion
        "sd_model_checkpoint": None,
        "sd_checkpoints_limit": 1,
        "sd_checkpoint_hash": "",
        "sd_vae": "Automatic",
        "sd_vae_overrides_per_model_preferences": True,
        "CLIP_stop_at_last_layers": 1,
        "tiling": False,
        "face_restoration": False,
        "face_restoration_model": "CodeFormer",
        "token_merging_ratio": 0.0,
        "token_merging_ratio_hr": 0.0,
        "initial_noise_multiplier": 1.0,
        "s_min_uncond": 0.0,
        "s_churn": 0.0,
        "s_tmin": 0.0,
        "s_tmax": 0.0,
        "s_noise": 1.0,
        "hide_samplers": [],
        # user interface
        "quicksettings_list": ["sd_model_checkpoint"],
        # saving
        "samples_save": True,
        "samples_format": "png",
        "save_incomplete_images": False,
        "grid_save": True,
        "grid_format": "png",
        "grid_only_if_multiple": True,
        "grid_prevent_empty_spots": False,
        "grid_background_color": "#ffffff",
        "n_rows": -1,
        "return_grid": True,
        "enable_pnginfo": True,
        "save_to_dirs": True,
        "grid_save_to_dirs": True,
        "jpeg_quality": 80,
        "outdir_samples": "",
        "outdir_txt2img_samples": os.path.join(outputs, "txt2img-images"),
        "outdir_img2img_samples": os.path.join(outputs, "img2img-images"),
        "outdir_grids": "",
        "outdir_txt2img_grids": os.path.join(outputs, "txt2img-grids"),
        "outdir_img2img_grids": os.path.join(outputs, "img2img-grids"),
        # infotext
        "infotext_skip_pasting": [],
        "disable_weights_auto_swap": True,
        "add_model_hash_to_info": True,
        "add_model_name_to_info": True,
        "add_vae_name_to_info": True,
        "add_vae_hash_to_info": True,
        "add_version_to_infotext": True,
        # live previews
        "live_previews_enable": True,
        "live_previews_image_format": "png",
        "show_progress_grid": True,
        "show_progress_every_n_steps": 10,
    }
    return {key: OptionInfo(value, infotext=INFOTEXT.get(key)) for key, value in defaults.items()}


# the infotext labels of settings (webui's OptionInfo(..., infotext=...)): pasting an
# infotext sets them for the job
INFOTEXT = {
    "sd_model_checkpoint": "Model hash", "sd_vae": "VAE", "CLIP_stop_at_last_layers": "Clip skip", "tiling": "Tiling",
    "face_restoration": "Face restoration", "token_merging_ratio": "Token merging ratio",
    "token_merging_ratio_hr": "Token merging ratio hr", "initial_noise_multiplier": "Noise multiplier",
    "s_min_uncond": "NGMS", "s_churn": "Sigma churn", "s_tmin": "Sigma tmin", "s_tmax": "Sigma tmax", "s_noise": "Sigma noise",
}
