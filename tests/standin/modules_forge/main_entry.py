"""Forge's modules_forge/main_entry.py (dfdcbab6, ~140-275): the only place that changes
what Forge loads. `checkpoint_change` and `modules_change` skip a value equal to what the
options hold; `refresh_model_loading_parameters` points the loader at what the options
name (read on the calling thread) and asks for a global unload before the next job."""

import os

from modules import processing, sd_models, sd_vae, shared

module_list = {}  # file name -> path: VAEs (and, on Forge, text encoders)


def refresh_models():
    module_list.clear()
    sd_vae.refresh_vae_list()
    module_list.update(sd_vae.vae_dict)
    return sd_models.checkpoint_tiles(), module_list.keys()


def refresh_model_loading_parameters():
    checkpoint_info = sd_models.select_checkpoint()
    sd_models.model_data.forge_loading_parameters = dict(
        checkpoint_info=checkpoint_info,
        additional_modules=shared.opts.forge_additional_modules,
        unet_storage_dtype=None,
    )
    print(f"Model selected: {sd_models.model_data.forge_loading_parameters}")
    processing.need_global_unload = True


def checkpoint_change(ckpt_name, save=True, refresh=True):
    """True if the checkpoint changed."""
    new_ckpt_info = sd_models.get_closet_checkpoint_match(ckpt_name)
    current_ckpt_info = sd_models.get_closet_checkpoint_match(shared.opts.data.get("sd_model_checkpoint", ""))
    if new_ckpt_info == current_ckpt_info:
        return False
    shared.opts.set("sd_model_checkpoint", ckpt_name)
    if save:
        shared.opts.save(shared.config_filename)
    if refresh:
        refresh_model_loading_parameters()
    return True


def modules_change(module_values, save=True, refresh=True):
    """True if the modules changed."""
    modules = []
    for v in module_values:
        module_name = os.path.basename(v)
        if module_name in module_list:
            modules.append(module_list[module_name])
    if sorted(modules) == sorted(shared.opts.data.get("forge_additional_modules", [])):
        return False
    shared.opts.set("forge_additional_modules", modules)
    if save:
        shared.opts.save(shared.config_filename)
    if refresh:
        refresh_model_loading_parameters()
    return True
