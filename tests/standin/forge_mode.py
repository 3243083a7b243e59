"""The stand-in's Forge mode (`--forge`, `boot(..., forge=True)`): the behaviours of
lllyasviel/stable-diffusion-webui-forge (commit dfdcbab6) that differ from webui v1.10.1
where the queue meets them (see modules_forge/main_entry.py for the loading parameters):
- Forge loads what `model_data.forge_loading_parameters` names (`forge_model_reload`),
  not what `opts.sd_model_checkpoint` says; it loads nothing at start (`shared.sd_model`
  is a `FakeInitialModel` until the first job);
- `process_images` applies `override_settings` through `set_config`, which skips values
  equal to the options and reaches the loader only through `checkpoint_change` /
  `modules_change`; each change asks for a global unload before the next job
  (`backend.memory_management.unload_all_models`, counted);
- `SkipWritingToConfig` is a plain nullcontext, `reload_model_weights` and
  `reload_vae_weights` do nothing; the VAE is one of `forge_additional_modules`;
- the options' onchange no longer reloads a model; POST /sdapi/v1/options is `set_config`;
- txt2img has `hr_additional_modules` (the hires pass's VAE / text encoders), None unless
  given, and a hires pass with None raises TypeError (processing.py ~1405), as Forge's own
  API does when a request leaves it out.
Everything else (queue_lock, progress, state, samplers, scripts) is webui's."""

import contextlib
import dataclasses
import importlib
import logging
import sys

from modules import options, processing, script_callbacks, sd_models, sd_samplers, sd_vae, shared, tiny_sd

log = logging.getLogger(__name__)

FORGE_PACKAGES = ("modules_forge", "backend")
_webui = {}  # the webui functions Forge mode replaces, to put back
_forge_modules = {}  # Forge's packages while webui mode hides them


class FakeInitialModel:
    """Forge's placeholder until a job loads a model (no sd_checkpoint_info)."""

    def __init__(self):
        self.cond_stage_model = None
        self.chunk_length = 75


class SdModelData:
    def __init__(self):
        self.sd_model = FakeInitialModel()
        self.forge_loading_parameters = {}
        self.forge_hash = ""

    def get_sd_model(self):
        return self.sd_model

    def set_sd_model(self, v, already_loaded=False):
        self.sd_model = v


def forge_model_reload():
    """Forge's sd_models.forge_model_reload: (model, just_reloaded). A full load whenever
    the parameters changed; no checkpoint cache."""
    from backend import memory_management

    model_data = sd_models.model_data
    current_hash = str(model_data.forge_loading_parameters)
    if model_data.forge_hash == current_hash:
        return model_data.sd_model, False

    log.info("Loading Model: %s", current_hash)
    if model_data.sd_model:
        model_data.sd_model = None
        memory_management.unload_all_models()
    checkpoint_info = model_data.forge_loading_parameters["checkpoint_info"]  # KeyError before any, as Forge
    if checkpoint_info is None:
        raise ValueError("You do not have any model! Please download at least one model in [models/Stable-diffusion].")
    sd_model = tiny_sd.TinySD()
    sd_model.load_state_dict(sd_models.get_checkpoint_state_dict(checkpoint_info))
    sd_model.sd_checkpoint_info = checkpoint_info
    sd_model.sd_model_checkpoint = checkpoint_info.filename
    sd_model.sd_model_hash = checkpoint_info.calculate_shorthash()
    shared.opts.data["sd_checkpoint_hash"] = checkpoint_info.sha256
    vae_files = model_data.forge_loading_parameters.get("additional_modules") or []
    sd_vae.clear_loaded_vae()
    sd_vae.load_vae(sd_model, vae_files[0] if vae_files else None, "from forge_additional_modules")
    model_data.sd_model = sd_model
    model_data.forge_hash = current_hash
    script_callbacks.model_loaded_callback(sd_model)
    return sd_model, True


def manage_model_and_prompt_cache(p):
    from backend import memory_management

    p.sd_model, just_reloaded = forge_model_reload()
    if processing.need_global_unload and not just_reloaded:
        memory_management.unload_all_models()
    processing.need_global_unload = False


def set_config(req, is_api=False, run_callbacks=True, save_config=True):
    """Forge's modules/sysinfo.set_config (~218-260)."""
    from modules_forge import main_entry

    refresh = False
    for k, v in req.items():
        if v == shared.opts.data.get(k):
            continue  # ignore unchanged options
        if k == "sd_model_checkpoint":
            if v is not None and v not in sd_models.checkpoint_aliases:
                raise RuntimeError(f"model {v!r} not found")
            refresh = main_entry.checkpoint_change(v, save=False, refresh=False) or refresh
        elif k == "forge_additional_modules":
            refresh = main_entry.modules_change(v, save=False, refresh=False) or refresh
        else:
            shared.opts.set(k, v, is_api=is_api, run_callbacks=run_callbacks)
    if refresh:
        main_entry.refresh_model_loading_parameters()
    if save_config:
        shared.opts.save(shared.config_filename)


def process_images(p):
    """Forge's processing.process_images (~815-850)."""
    opts = shared.opts
    if p.scripts is not None:
        p.scripts.before_process(p)
    stored_opts = {k: opts.data[k] if k in opts.data else opts.get_default(k) for k in p.override_settings.keys() if k in opts.data}
    try:
        if sd_models.checkpoint_aliases.get(p.override_settings.get("sd_model_checkpoint")) is None:
            p.override_settings.pop("sd_model_checkpoint", None)
        set_config(p.override_settings, is_api=True, run_callbacks=False, save_config=False)
        manage_model_and_prompt_cache(p)
        sd_samplers.fix_p_invalid_sampler_and_scheduler(p)
        res = processing.process_images_inner(p)
    finally:
        if p.override_settings_restore_afterwards:
            set_config(stored_opts, save_config=False)
    return res


@dataclasses.dataclass(repr=False)
class ForgeTxt2Img(processing.StableDiffusionProcessingTxt2Img):
    hr_additional_modules: list = None

    def sample(self, conditioning, unconditional_conditioning, seeds, subseeds, subseed_strength, prompts):
        if self.enable_hr and not isinstance(self.hr_additional_modules, list):
            # Forge's hires pass: 'Use same choices' not in self.hr_additional_modules
            raise TypeError("argument of type 'NoneType' is not iterable")
        return super().sample(conditioning, unconditional_conditioning, seeds, subseeds, subseed_strength, prompts)


def _no_op(*args, **kwargs):
    return None


def _reload_in_loop():
    forge_model_reload()  # Forge reloads here (a refiner or hires checkpoint may have switched)


def apply(forge):
    """Switch the stand-in to Forge's behaviours, or back to webui's."""
    if not _webui:
        _webui.update(process_images=processing.process_images, reload_in_loop=processing.reload_in_loop,
                      txt2img=processing.StableDiffusionProcessingTxt2Img,
                      SkipWritingToConfig=sd_models.SkipWritingToConfig, reload_model_weights=sd_models.reload_model_weights,
                      reload_vae_weights=sd_vae.reload_vae_weights, model_data=sd_models.model_data)
    for name in list(sys.modules):  # webui mode imports none of Forge's packages
        if name.split(".")[0] in FORGE_PACKAGES:
            _forge_modules[name] = sys.modules.pop(name)
    if not forge:
        processing.process_images = _webui["process_images"]
        processing.reload_in_loop = _webui["reload_in_loop"]
        processing.StableDiffusionProcessingTxt2Img = _webui["txt2img"]
        sd_models.SkipWritingToConfig = _webui["SkipWritingToConfig"]
        sd_models.reload_model_weights = _webui["reload_model_weights"]
        sd_vae.reload_vae_weights = _webui["reload_vae_weights"]
        sd_models.model_data = _webui["model_data"]
        sd_models.model_data.__init__()
        return
    sys.modules.update(_forge_modules)  # the same module objects again: code that imported them keeps them
    importlib.import_module("backend.memory_management")
    importlib.import_module("modules_forge.main_entry").module_list.clear()
    processing.need_global_unload = False
    processing.process_images = process_images
    processing.reload_in_loop = _reload_in_loop
    processing.StableDiffusionProcessingTxt2Img = ForgeTxt2Img
    sd_models.SkipWritingToConfig = contextlib.nullcontext
    sd_models.reload_model_weights = _no_op
    sd_models.forge_model_reload = forge_model_reload
    sd_vae.reload_vae_weights = _no_op
    sd_models.model_data = SdModelData()
    _api_db.clear()
    shared.opts.add_option("forge_additional_modules", options.OptionInfo([]))
    shared.opts.data_labels["sd_model_checkpoint"].label = "(Managed by Forge)"
    shared.opts.data_labels["sd_vae"].label = "(Managed by Forge)"


_api_db = []  # Forge's Api keeps an embedding database of its own, made at start


def api_embedding_db():
    """Forge's Api.embedding_db: over --embeddings-dir, loaded without the model's width."""
    if not _api_db:
        from modules.textual_inversion.textual_inversion import EmbeddingDatabase

        db = EmbeddingDatabase()
        db.add_embedding_dir(shared.cmd_opts.embeddings_dir)
        db.load_textual_inversion_embeddings(force_reload=True, sync_with_sd_model=False)
        _api_db.append(db)
    return _api_db[0]


def start():
    """What Forge's UI does at start: list the modules, point the loader at the default
    checkpoint. Nothing is loaded."""
    from modules_forge import main_entry

    if shared.opts.sd_model_checkpoint in (None, "None", "none", "") and sd_models.checkpoints_list:
        shared.opts.set("sd_model_checkpoint", next(iter(sd_models.checkpoints_list.values())).name)
    main_entry.refresh_models()
    main_entry.refresh_model_loading_parameters()
    processing.need_global_unload = False
    log.info("Forge mode: nothing loaded at start")
