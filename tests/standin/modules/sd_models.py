"""Checkpoints as webui's sd_models.py handles them: listing, hashes and titles, aliases,
and loading. Nothing here takes queue_lock: callers must hold it, as in webui."""

import hashlib
import logging
import os
import re
import sys
import threading
import time

import safetensors.torch

from modules import errors, hashes, script_callbacks, sd_hijack, sd_vae, shared, tiny_sd, util

log = logging.getLogger(__name__)

checkpoints_list = {}
checkpoint_aliases = {}
checkpoint_alisases = checkpoint_aliases  # webui keeps the old misspelt name too


def replace_key(d, key, new_key, value):
    """Rename key in place, keeping its position (so checkpoint order survives a new title)."""
    items = [(new_key, value) if k == key else (k, v) for k, v in d.items()]
    if key not in d:
        items.append((new_key, value))
    d.clear()
    d.update(items)


class CheckpointInfo:
    def __init__(self, filename):
        self.filename = filename
        abspath = os.path.abspath(filename)
        ckpt_dir = os.path.abspath(shared.cmd_opts.ckpt_dir) if shared.cmd_opts.ckpt_dir is not None else None
        self.is_safetensors = os.path.splitext(filename)[1].lower() == ".safetensors"

        if ckpt_dir and abspath.startswith(ckpt_dir):
            name = abspath.replace(ckpt_dir, "")
        else:
            name = os.path.basename(filename)
        if name.startswith(("\\", "/")):
            name = name[1:]

        self.name = name
        self.name_for_extra = os.path.splitext(os.path.basename(filename))[0]
        self.model_name = os.path.splitext(name.replace("/", "_").replace("\\", "_"))[0]
        self.hash = model_hash(filename)

        # Until the first load computes the sha256, the title is the bare name.
        self.sha256 = hashes.sha256_from_cache(self.filename, f"checkpoint/{name}")
        self.shorthash = self.sha256[0:10] if self.sha256 else None
        self.title = name if self.shorthash is None else f"{name} [{self.shorthash}]"
        self.short_title = self.name_for_extra if self.shorthash is None else f"{self.name_for_extra} [{self.shorthash}]"

        self.ids = [self.hash, self.model_name, self.title, name, self.name_for_extra, f"{name} [{self.hash}]"]
        if self.shorthash:
            self.ids += [self.shorthash, self.sha256, f"{self.name} [{self.shorthash}]", f"{self.name_for_extra} [{self.shorthash}]"]

    def register(self):
        checkpoints_list[self.title] = self
        for id in self.ids:
            checkpoint_aliases[id] = self

    def calculate_shorthash(self):
        """Hash the file (or take the cached hash); on the first time, retitle and re-register."""
        self.sha256 = hashes.sha256(self.filename, f"checkpoint/{self.name}")
        if self.sha256 is None:
            return None

        shorthash = self.sha256[0:10]
        if self.shorthash == shorthash:
            return self.shorthash
        self.shorthash = shorthash

        if self.shorthash not in self.ids:
            self.ids += [self.shorthash, self.sha256, f"{self.name} [{self.shorthash}]", f"{self.name_for_extra} [{self.shorthash}]"]

        old_title = self.title
        self.title = f"{self.name} [{self.shorthash}]"
        self.short_title = f"{self.name_for_extra} [{self.shorthash}]"
        replace_key(checkpoints_list, old_title, self.title, self)
        self.register()
        return self.shorthash


def checkpoint_tiles(use_short=False):
    return [x.short_title if use_short else x.title for x in checkpoints_list.values()]


def list_models():
    checkpoints_list.clear()
    checkpoint_aliases.clear()

    ckpt_dir = shared.cmd_opts.ckpt_dir
    if not ckpt_dir or not os.path.isdir(ckpt_dir):
        return
    for root, _, files in sorted(os.walk(ckpt_dir, followlinks=True), key=lambda x: util.natural_sort_key(x[0])):
        for filename in sorted(files, key=util.natural_sort_key):
            if filename.lower().endswith(".safetensors") and not filename.lower().endswith(".vae.safetensors"):
                CheckpointInfo(os.path.join(root, filename)).register()


re_strip_checksum = re.compile(r"\s*\[[^]]+]\s*$")


def get_closet_checkpoint_match(search_string):
    if not search_string:
        return None

    checkpoint_info = checkpoint_aliases.get(search_string, None)
    if checkpoint_info is not None:
        return checkpoint_info

    found = sorted([info for info in checkpoints_list.values() if search_string in info.title], key=lambda x: len(x.title))
    if found:
        return found[0]

    search_string_without_checksum = re.sub(re_strip_checksum, "", search_string)
    found = sorted([info for info in checkpoints_list.values() if search_string_without_checksum in info.title], key=lambda x: len(x.title))
    if found:
        return found[0]

    return None


def model_hash(filename):
    """webui's old 8-digit hash of 64 KiB at offset 1 MiB."""
    try:
        with open(filename, "rb") as file:
            file.seek(0x100000)
            return hashlib.sha256(file.read(0x10000)).hexdigest()[0:8]
    except FileNotFoundError:
        return "NOFILE"


def select_checkpoint():
    """The checkpoint opts.sd_model_checkpoint names, else the first one listed."""
    model_checkpoint = shared.opts.sd_model_checkpoint

    checkpoint_info = checkpoint_aliases.get(model_checkpoint, None)
    if checkpoint_info is not None:
        return checkpoint_info

    if len(checkpoints_list) == 0:
        raise FileNotFoundError(
            f"No checkpoints found. When searching for checkpoints, looked at:\n - directory {shared.cmd_opts.ckpt_dir}"
            "Can't run without a checkpoint. Find and place a .ckpt or .safetensors file into any of those locations."
        )

    checkpoint_info = next(iter(checkpoints_list.values()))
    if model_checkpoint is not None:
        print(f"Checkpoint {model_checkpoint} not found; loading fallback {checkpoint_info.title}", file=sys.stderr)
    return checkpoint_info


def read_state_dict(checkpoint_file):
    return safetensors.torch.load_file(checkpoint_file, device="cpu")


def get_checkpoint_state_dict(checkpoint_info):
    sd_model_hash = checkpoint_info.calculate_shorthash()
    log.info("Loading weights [%s] from %s", sd_model_hash, checkpoint_info.filename)
    time.sleep(shared.cmd_opts.load_seconds)  # stand-in only: a real SD1.5 load takes seconds
    return read_state_dict(checkpoint_info.filename)


class SkipWritingToConfig:
    """Keeps model loads from writing the checkpoint's title into opts.sd_model_checkpoint."""

    skip = False
    previous = None

    def __enter__(self):
        self.previous = SkipWritingToConfig.skip
        SkipWritingToConfig.skip = True
        return self

    def __exit__(self, exc_type, exc_value, exc_traceback):
        SkipWritingToConfig.skip = self.previous


def load_model_weights(model, checkpoint_info, state_dict):
    sd_model_hash = checkpoint_info.calculate_shorthash()

    if not SkipWritingToConfig.skip:
        shared.opts.data["sd_model_checkpoint"] = checkpoint_info.title

    if state_dict is None:
        state_dict = get_checkpoint_state_dict(checkpoint_info)
    model.load_state_dict(state_dict)

    model.sd_model_hash = sd_model_hash
    model.sd_model_checkpoint = checkpoint_info.filename
    model.sd_checkpoint_info = checkpoint_info
    shared.opts.data["sd_checkpoint_hash"] = checkpoint_info.sha256

    sd_vae.clear_loaded_vae()
    vae_file, vae_source = sd_vae.resolve_vae(checkpoint_info.filename).tuple()
    sd_vae.load_vae(model, vae_file, vae_source)


class SdModelData:
    def __init__(self):
        self.sd_model = None
        self.loaded_sd_models = []
        self.was_loaded_at_least_once = False
        self.lock = threading.Lock()

    def get_sd_model(self):
        if self.was_loaded_at_least_once:
            return self.sd_model

        if self.sd_model is None:
            with self.lock:
                if self.sd_model is not None or self.was_loaded_at_least_once:
                    return self.sd_model
                try:
                    load_model()
                except Exception as e:
                    errors.display(e, "loading stable diffusion model", full_traceback=True)
                    print("Stable diffusion model failed to load", file=sys.stderr)
                    self.sd_model = None

        return self.sd_model

    def set_sd_model(self, v, already_loaded=False):
        self.sd_model = v
        if already_loaded:
            sd_vae.loaded_vae_file = getattr(v, "loaded_vae_file", None)

        if v in self.loaded_sd_models:
            self.loaded_sd_models.remove(v)
        if v is not None:
            self.loaded_sd_models.insert(0, v)


model_data = SdModelData()


_loading = threading.Lock()


def load_model(checkpoint_info=None):
    """Builds a new model object; the one in use, if any, is thrown away. webui takes no
    lock here: a second load started while one runs crashes (seen on a real webui as
    "Cannot copy out of meta tensor; no data!")."""
    if not _loading.acquire(blocking=False):
        raise RuntimeError("Cannot copy out of meta tensor; no data! (a model load was already under way)")
    try:
        return _load_model(checkpoint_info)
    finally:
        _loading.release()


def _load_model(checkpoint_info=None):
    checkpoint_info = checkpoint_info or select_checkpoint()
    started = time.perf_counter()

    if model_data.sd_model:
        if model_data.sd_model in model_data.loaded_sd_models:
            model_data.loaded_sd_models.remove(model_data.sd_model)
        model_data.sd_model = None

    state_dict = get_checkpoint_state_dict(checkpoint_info)
    sd_model = tiny_sd.TinySD()
    load_model_weights(sd_model, checkpoint_info, state_dict)

    model_data.set_sd_model(sd_model)
    model_data.was_loaded_at_least_once = True
    sd_hijack.model_hijack.embedding_db.load_textual_inversion_embeddings(force_reload=True)  # as webui's load_model
    script_callbacks.model_loaded_callback(sd_model)

    log.info("Model %s loaded in %.3fs", checkpoint_info.title, time.perf_counter() - started)
    return sd_model


def reuse_model_from_already_loaded(sd_model, checkpoint_info):
    """With sd_checkpoints_limit > 1, switch to a model kept in RAM, or load one more;
    otherwise hand back a loaded model whose weights can be replaced."""
    if sd_model is not None and sd_model.sd_checkpoint_info.filename == checkpoint_info.filename:
        return sd_model

    limit = shared.opts.sd_checkpoints_limit
    loaded = model_data.loaded_sd_models
    already_loaded = None
    for i in reversed(range(len(loaded))):
        if loaded[i].sd_checkpoint_info.filename == checkpoint_info.filename:
            already_loaded = loaded[i]
            continue
        if len(loaded) > limit > 0:
            log.info("Unloading model %s over the limit of %s", loaded[i].sd_checkpoint_info.title, limit)
            del loaded[i]

    if already_loaded is not None:
        model_data.set_sd_model(already_loaded, already_loaded=True)
        if not SkipWritingToConfig.skip:
            shared.opts.data["sd_model_checkpoint"] = already_loaded.sd_checkpoint_info.title
            shared.opts.data["sd_checkpoint_hash"] = already_loaded.sd_checkpoint_info.sha256
        sd_vae.reload_vae_weights(already_loaded)
        return model_data.sd_model
    if limit > 1 and len(loaded) < limit:
        model_data.sd_model = None
        load_model(checkpoint_info)
        return model_data.sd_model
    if loaded:
        sd_model = loaded.pop()
        model_data.sd_model = sd_model
        sd_vae.loaded_vae_file = sd_model.loaded_vae_file
        return sd_model
    return None


def reload_model_weights(sd_model=None, info=None, forced_reload=False):
    """Makes `info` (default: the checkpoint opts names) the loaded model; a no-op when it
    already is. Rewrites opts.sd_model_checkpoint unless inside SkipWritingToConfig."""
    checkpoint_info = info or select_checkpoint()

    if not sd_model:
        sd_model = model_data.sd_model
    if sd_model is not None and sd_model.sd_model_checkpoint == checkpoint_info.filename and not forced_reload:
        return sd_model

    sd_model = reuse_model_from_already_loaded(sd_model, checkpoint_info)
    if not forced_reload and sd_model is not None and sd_model.sd_checkpoint_info.filename == checkpoint_info.filename:
        return sd_model

    if sd_model is None:
        load_model(checkpoint_info)
        return model_data.sd_model

    started = time.perf_counter()
    load_model_weights(sd_model, checkpoint_info, get_checkpoint_state_dict(checkpoint_info))
    script_callbacks.model_loaded_callback(sd_model)
    model_data.set_sd_model(sd_model)
    log.info("Weights %s loaded in %.3fs", checkpoint_info.title, time.perf_counter() - started)
    return sd_model
