"""VAEs as webui's sd_vae.py resolves them: opts.sd_vae ("Automatic", "None" or a file name),
a VAE named like the checkpoint, or the checkpoint's own."""

import glob
import logging
import os
from dataclasses import dataclass

import safetensors.torch

from modules import hashes, script_callbacks, shared, util

log = logging.getLogger(__name__)

vae_dict = {}
loaded_vae_file = None


def get_loaded_vae_name():
    return None if loaded_vae_file is None else os.path.basename(loaded_vae_file)


def get_loaded_vae_hash():
    if loaded_vae_file is None:
        return None
    # webui caches every VAE's hash under the one title 'vae' (so a VAE file older than the
    # last one hashed reports that one's hash); kept as is.
    sha256 = hashes.sha256(loaded_vae_file, "vae")
    return sha256[0:10] if sha256 else None


def vae_folder():
    """The stand-in's models/VAE: a `VAE` folder beside the checkpoint folder."""
    return os.path.join(os.path.dirname(os.path.abspath(shared.cmd_opts.ckpt_dir or ".")), "VAE")


def refresh_vae_list():
    vae_dict.clear()
    patterns = [os.path.join(vae_folder(), "**", "*.safetensors")]
    if shared.cmd_opts.ckpt_dir is not None and os.path.isdir(shared.cmd_opts.ckpt_dir):
        patterns.append(os.path.join(shared.cmd_opts.ckpt_dir, "**", "*.vae.safetensors"))
    if shared.cmd_opts.vae_dir is not None and os.path.isdir(shared.cmd_opts.vae_dir):
        patterns.append(os.path.join(shared.cmd_opts.vae_dir, "**", "*.safetensors"))

    for pattern in patterns:
        for filepath in glob.iglob(pattern, recursive=True):
            vae_dict[os.path.basename(filepath)] = filepath

    ordered = sorted(vae_dict.items(), key=lambda item: util.natural_sort_key(item[0]))
    vae_dict.clear()
    vae_dict.update(ordered)


def find_vae_near_checkpoint(checkpoint_file):
    checkpoint_path = os.path.basename(checkpoint_file).rsplit(".", 1)[0]
    for vae_file in vae_dict.values():
        if os.path.basename(vae_file).startswith(checkpoint_path):
            return vae_file
    return None


@dataclass
class VaeResolution:
    vae: str = None
    source: str = None
    resolved: bool = True

    def tuple(self):
        return self.vae, self.source


def is_automatic():
    return shared.opts.sd_vae in {"Automatic", "auto"}


def resolve_vae_from_setting():
    if shared.opts.sd_vae == "None":
        return VaeResolution()
    vae_from_options = vae_dict.get(shared.opts.sd_vae, None)
    if vae_from_options is not None:
        return VaeResolution(vae_from_options, "specified in settings")
    if not is_automatic():
        print(f"Couldn't find VAE named {shared.opts.sd_vae}; using None instead")
    return VaeResolution(resolved=False)


def resolve_vae_near_checkpoint(checkpoint_file):
    vae_near_checkpoint = find_vae_near_checkpoint(checkpoint_file)
    if vae_near_checkpoint is not None and (not shared.opts.sd_vae_overrides_per_model_preferences or is_automatic()):
        return VaeResolution(vae_near_checkpoint, "found near the checkpoint")
    return VaeResolution(resolved=False)


def resolve_vae(checkpoint_file):
    if shared.cmd_opts.vae_path is not None:
        return VaeResolution(shared.cmd_opts.vae_path, "from commandline argument")
    if shared.opts.sd_vae_overrides_per_model_preferences and not is_automatic():
        return resolve_vae_from_setting()
    res = resolve_vae_near_checkpoint(checkpoint_file)
    if res.resolved:
        return res
    return resolve_vae_from_setting()


def load_vae(model, vae_file=None, vae_source="from unknown source"):
    """Puts vae_file's decoder into the model, or the checkpoint's own back when None."""
    global loaded_vae_file

    if vae_file:
        assert os.path.isfile(vae_file), f"VAE {vae_source} doesn't exist: {vae_file}"
        log.info("Loading VAE weights %s: %s", vae_source, vae_file)
        model.load_vae_dict(safetensors.torch.load_file(vae_file, device="cpu"))
        vae_dict.setdefault(os.path.basename(vae_file), vae_file)
    elif loaded_vae_file:
        log.info("Restoring base VAE")
        model.restore_checkpoint_vae()

    loaded_vae_file = vae_file
    model.loaded_vae_file = loaded_vae_file


def clear_loaded_vae():
    global loaded_vae_file
    loaded_vae_file = None


unspecified = object()


def reload_vae_weights(sd_model=None, vae_file=unspecified):
    if not sd_model:
        sd_model = shared.sd_model

    if vae_file == unspecified:
        vae_file, vae_source = resolve_vae(sd_model.sd_checkpoint_info.filename).tuple()
    else:
        vae_source = "from function argument"

    if loaded_vae_file == vae_file:
        return

    load_vae(sd_model, vae_file, vae_source)
    script_callbacks.model_loaded_callback(sd_model)
    return sd_model
