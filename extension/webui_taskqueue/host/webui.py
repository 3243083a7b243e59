"""The boundary with webui: with webui_request.py (and forge.py for Forge), the only code
of the package that imports `modules`.

Everything here follows webui v1.10.1's own code paths. The traps it steps around are
described where they matter; docs/inside-webui.md has the summary."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sys
import types
from typing import Any, Callable, Dict, List, Optional, Tuple

from modules import (call_queue, devices, paths_internal, processing, progress, scripts, sd_models, sd_samplers, sd_schedulers,
                     sd_vae, shared)

from ..intake.fields import Setting
from .contract import Checkpoint, Host, Lora, Outcome, Script, StateSnapshot, Style, Upscaler
from ..intake.images import decode_image
from ..intake import fields as request_fields
from . import thread_options, webui_page, webui_request

log = logging.getLogger(__name__)

# Fields of our request that are not arguments of webui's processing classes.
_NOT_PROCESSING_ARGS = {
    "checkpoint", "vae", "sampler_index", "script_name", "script_args", "alwayson_scripts",
    "send_images", "save_images", "infotext", "force_task_id", "include_init_images",
}


class WebuiHost(Host):
    def __init__(self) -> None:
        self.lock = call_queue.queue_lock
        self._default_script_args: Dict[tuple, list] = {}  # webui's Api computes them once too

    # ---- what webui knows -------------------------------------------------------

    def checkpoints(self) -> Tuple[List[Checkpoint], Optional[str]]:
        found = [
            Checkpoint(title=info.title, model_name=info.model_name, hash=info.shorthash)
            for info in sd_models.checkpoints_list.values()
        ]
        return found, self.loaded_checkpoint()

    def loaded_checkpoint(self) -> Optional[str]:
        # shared.sd_model would load a model when none is loaded yet; model_data does not.
        info = getattr(sd_models.model_data.sd_model, "sd_checkpoint_info", None)
        return info.title if info is not None else None

    def default_checkpoint(self) -> Optional[str]:
        info = sd_models.get_closet_checkpoint_match(shared.opts.data.get("sd_model_checkpoint") or "")
        return info.title if info is not None else None

    def checkpoint_path(self, title: str) -> Optional[str]:
        info = sd_models.get_closet_checkpoint_match(title)
        return info.filename if info is not None else None

    def resolve_checkpoint(self, name: str) -> Optional[str]:
        info = sd_models.get_closet_checkpoint_match(name)
        return info.title if info is not None else None

    def resolve_vae(self, name: str) -> Optional[str]:
        if name in ("Automatic", "None") or name in sd_vae.vae_dict:
            return name
        return None

    def resolve_sampler(self, sampler: Optional[str], scheduler: Optional[str]) -> Tuple[str, str]:
        # get_sampler_and_scheduler falls back to the default sampler for names it does
        # not know; a typo must be an error, not a silently different sampler.
        if scheduler and scheduler not in sd_schedulers.schedulers_map:
            raise ValueError("scheduler", f"unknown scheduler {scheduler!r}")
        name, label = sd_samplers.get_sampler_and_scheduler(sampler, scheduler)
        if sampler and not _names_sampler(sampler, name):
            raise ValueError("sampler_name", f"unknown sampler {sampler!r}")
        return name, label

    def name_errors(self, params: Dict[str, Any]) -> List[Tuple[str, str]]:
        # what processing would raise on (or, for styles, silently skip) when the task runs
        errors = []
        upscaler = params.get("hr_upscaler")
        if upscaler and upscaler not in shared.latent_upscale_modes and not any(u.name == upscaler for u in shared.sd_upscalers):
            errors.append(("hr_upscaler", f"unknown upscaler {upscaler!r}"))
        for field, keep in (("hr_checkpoint_name", ("Use same checkpoint",)), ("refiner_checkpoint", ("None", "none"))):
            name = params.get(field)
            if name and name not in keep and sd_models.get_closet_checkpoint_match(name) is None:
                errors.append((field, f"unknown checkpoint {name!r}"))
        hr_sampler = params.get("hr_sampler_name")
        if hr_sampler and sd_samplers.all_samplers_map.get(hr_sampler) is None:
            errors.append(("hr_sampler_name", f"unknown sampler {hr_sampler!r}"))
        styles = _saved_styles()
        errors += [(f"styles.{i}", f"no saved style {name!r}") for i, name in enumerate(params.get("styles") or ())
                   if name not in styles]
        return errors

    def option(self, name: str, default: Any) -> Any:
        value = shared.opts.data.get(name)
        return default if value in (None, "") else type(default)(value)

    def setting(self, name: str) -> Optional[Setting]:
        info = shared.opts.data_labels.get(name)
        if info is None:
            return None
        args = info.component_args if isinstance(info.component_args, dict) else {}
        numbers = {k: args.get(k) for k in ("minimum", "maximum", "step") if isinstance(args.get(k), (int, float))}
        api = not (getattr(info, "restrict_api", False) or getattr(info, "do_not_save", False))
        return Setting(default=info.default, api=api, value=shared.opts.data.get(name, info.default), **numbers)

    def data_dir(self) -> str:
        return os.path.join(paths_internal.data_path, "task-queue")

    def page_login(self) -> bool:
        return bool(getattr(shared.cmd_opts, "gradio_auth", None) or getattr(shared.cmd_opts, "gradio_auth_path", None))

    def share_page(self, page_ui: Any, page: Any) -> None:
        count = webui_page.share(page_ui, page, shared.opts, shared.opts.dumpjson, self.page_value)
        log.info("task queue: %d of webui's settings handlers now keep each person's own", count)

    def page_value(self, key: str, value: Any) -> Any:
        """A person's value as webui's page lists it: a checkpoint as its menu names it
        (webui: titles, Forge: names, or short titles when the owner chose those)."""
        if key != "sd_model_checkpoint" or not isinstance(value, str):
            return value
        info = sd_models.get_closet_checkpoint_match(value)
        if info is None:
            return value
        for entry in sd_models.checkpoint_tiles(bool(getattr(shared.opts, "sd_checkpoint_dropdown_use_short", False))):
            found = sd_models.get_closet_checkpoint_match(entry)
            if found is not None and found.filename == info.filename:
                return entry
        return value

    def api_credentials(self) -> Dict[str, str]:
        # as webui's Api.__init__ reads --api-auth: "name:password,name2:password2"
        raw = getattr(shared.cmd_opts, "api_auth", None)
        return dict(pair.split(":", 1) for pair in raw.split(",") if ":" in pair) if raw else {}

    # ---- what a prompt or the hires fix may name ------------------------------------

    def styles(self) -> List[Style]:
        # as webui's /sdapi/v1/prompt-styles: PromptStyle(name, prompt, negative_prompt, path)
        return [Style(name=s.name, prompt=s.prompt or "", negative_prompt=s.negative_prompt or "")
                for s in _saved_styles().values()]

    def loras(self) -> List[Lora]:
        # As webui's /sdapi/v1/loras (extensions-builtin/Lora/scripts/lora_script.py): the
        # built-in Lora extension's `networks` module, imported by its script under that
        # top-level name. Absent when the extension is disabled.
        available = getattr(sys.modules.get("networks"), "available_networks", None)
        if not isinstance(available, dict):
            return []
        return [Lora(name=name, alias=_lora_alias(name, network)) for name, network in list(available.items())]

    def embeddings(self) -> List[str]:
        # as webui's /sdapi/v1/embeddings ("loaded"): those that fit the present model
        try:
            from modules import sd_hijack
        except ImportError:
            return []
        db = getattr(getattr(sd_hijack, "model_hijack", None), "embedding_db", None)
        return sorted(getattr(db, "word_embeddings", None) or {}, key=str.lower)

    def upscalers(self) -> List[Upscaler]:
        # the order of webui's hires fix dropdown: the latent modes, then the upscalers
        return ([Upscaler(name=name, latent=True) for name in (shared.latent_upscale_modes or {})]
                + [Upscaler(name=u.name, latent=False) for u in shared.sd_upscalers])

    # ---- scripts, through webui's own API helpers ----------------------------------

    def scripts(self, kind: str) -> List[Script]:
        found = []
        for script in _runner(kind).scripts:
            info = getattr(script, "api_info", None)
            args = [{k: _plain(getattr(a, k, None)) for k in ("label", "value", "choices", "minimum", "maximum", "step")}
                    for a in (getattr(info, "args", None) or [])]
            found.append(Script(name=script.title(), alwayson=bool(script.alwayson), args=args))
        return found

    def script_errors(self, kind: str, script_name: Optional[str], alwayson: Dict[str, Any]) -> List[Tuple[str, str]]:
        api, runner, errors = _api(), _runner(kind), []
        try:
            api.get_selectable_script(script_name, runner)
        except Exception:  # webui's HTTPException(422), "Script '...' not found"
            errors.append(("script_name", f"no selectable script {script_name!r} on {kind}"))
        for name in alwayson:
            try:  # webui answers an empty name with (None, None), not a script
                script = api.get_script(name, runner) if name else None
            except Exception:
                script = None
            if script is None:
                errors.append((f"alwayson_scripts.{name}", f"no always-on script {name!r} on {kind}"))
            elif not script.alwayson:
                errors.append((f"alwayson_scripts.{name}", f"{name!r} is a selectable script: give it as script_name"))
        return errors

    def _script_args(self, kind: str, params: Dict[str, Any]):
        """(runner, selectable script or None, the whole script_args list), as webui's
        text2imgapi/img2imgapi build them (its defaults computed once per runner)."""
        api, runner = _api(), _runner(kind)
        selectable, index = api.get_selectable_script(params.get("script_name"), runner)
        request = types.SimpleNamespace(script_args=list(params.get("script_args") or []),
                                        alwayson_scripts=params.get("alwayson_scripts") or {})
        args = api.init_script_args(request, self._default_args(kind), selectable, index, runner)
        return runner, selectable, args

    def _default_args(self, kind: str) -> list:
        runner = _runner(kind)
        key = (kind, id(runner), len(runner.scripts))
        if key not in self._default_script_args:
            self._default_script_args[key] = _api().init_default_script_args(runner)
        return self._default_script_args[key]

    # ---- webui's API request: its fields, and a pasted infotext (webui_request) -----

    def request_model(self, kind: str) -> Any:
        return webui_request.model(kind)

    def apply_infotext(self, kind: str, params: Dict[str, Any]) -> Dict[str, Any]:
        return webui_request.apply_infotext(kind, params, _api(), _runner(kind), lambda: self._default_args(kind),
                                            host="Forge" if self.name == "forge" else "webui")

    # ---- generation (the worker holds queue_lock) ------------------------------

    def begin(self, task_id: str) -> None:
        shared.state.begin(job=f"task-queue {task_id}")
        shared.state.sampling_steps = 0  # begin() leaves the previous job's value
        progress.add_task_to_queue(task_id)
        progress.start_task(task_id)

    def end(self, task_id: str) -> None:
        progress.finish_task(task_id)
        shared.state.end()

    def free_memory(self) -> None:
        devices.torch_gc()  # what webui's wrap_gradio_call runs after a job, failed or not

    def generate(self, kind: str, params: Dict[str, Any], checkpoint: str, vae: Optional[str]) -> Outcome:
        info = sd_models.get_closet_checkpoint_match(checkpoint)
        if info is None or sd_models.checkpoint_aliases.get(info.title) is None:
            # process_images would silently fall back to the global model.
            raise RuntimeError(f"checkpoint {checkpoint!r} is no longer known to webui")
        overrides = {**(params.get("override_settings") or {}), **self._model_settings(info, vae)}
        _refuse_frozen_settings(overrides)

        runner, selectable, script_args = self._script_args(kind, params)
        p = _processing(kind, params, overrides)
        p.scripts = runner
        options = thread_options.install(shared.opts)
        try:
            with self._task_model(overrides, options):
                if selectable is not None:  # as webui's API: the runner runs the chosen script
                    p.script_args = script_args
                    processed = runner.run(p, *script_args)
                else:
                    p.script_args = tuple(script_args)
                    processed = processing.process_images(p)
            if processed is None:
                raise RuntimeError(f"the script {params.get('script_name')!r} returned no images")
        finally:
            p.close()
        first = processed.index_of_first_image  # grids in front of it (webui's and scripts')
        kept = first if selectable is not None else 0  # a script's grid is its result; a batch's, a copy
        return Outcome(
            images=list(processed.images[first:]),
            infotexts=list(processed.infotexts[first:]),
            grids=list(processed.images[:kept]),
            grid_infotexts=list(processed.infotexts[:kept]),
            interrupted=bool(shared.state.interrupted),
            info=processed.js(),
        )

    def _model_settings(self, info: Any, vae: Optional[str]) -> Dict[str, Any]:
        """The settings that name the task's model (and VAE), as override_settings."""
        current = shared.opts.data.get("sd_model_checkpoint")
        # The option's own spelling when it names this model already: nothing to change,
        # nothing to restore (and nothing refused under --freeze-settings).
        same = current is not None and sd_models.get_closet_checkpoint_match(current) is info
        settings = {"sd_model_checkpoint": current if same else info.title}
        if vae is not None:
            settings["sd_vae"] = vae
        return settings

    @contextlib.contextmanager
    def _task_model(self, overrides: Dict[str, Any], options: thread_options.ThreadOptions):
        """Around the generation. The model goes through override_settings: loading it
        ourselves and then calling process_images would reload opts.sd_model_checkpoint
        (the revert trap). The options it writes stay the worker thread's own
        (ThreadOptions): webui's UI and API keep naming the default model while the task
        runs. SkipWritingToConfig keeps the load's own write private as well."""
        try:
            with options.private(), _skip_writing_to_config():
                yield
        finally:
            if overrides.get("sd_vae", shared.opts.data.get("sd_vae")) != shared.opts.data.get("sd_vae"):
                # the task's VAE stays loaded otherwise: a native job on the same
                # checkpoint would not reload webui's own by itself
                sd_vae.reload_vae_weights()

    # ---- from any thread ---------------------------------------------------------

    def interrupt(self) -> None:
        shared.state.interrupt()

    def snapshot(self) -> StateSnapshot:
        state = shared.state
        return StateSnapshot(
            job_no=int(state.job_no or 0),
            job_count=int(state.job_count or 0),
            sampling_step=int(state.sampling_step or 0),
            sampling_steps=int(state.sampling_steps or 0),
            interrupted=bool(state.interrupted),
        )

    def preview(self) -> Optional[Tuple[int, Any]]:
        # webui decodes a preview only when asked (its progress routes do the same),
        # at most once per opts.show_progress_every_n_steps, on the caller's thread.
        shared.state.set_current_image()
        image = shared.state.current_image
        return (shared.state.id_live_preview, image) if image is not None else None


def _runner(kind: str):
    return scripts.scripts_img2img if kind == "img2img" else scripts.scripts_txt2img


def _api():
    """webui's Api, for its script helpers only: made without __init__, which would add
    its routes to an app."""
    from modules.api import api  # imported on use: it pulls in webui's whole API

    return api.Api.__new__(api.Api)


def _lora_alias(name: str, network: Any) -> str:
    """The name webui's Lora tab writes in the prompt (the alias from the file, or the
    file name as its settings or a clash decide), else the file name."""
    try:
        return str(network.get_alias())
    except Exception:  # an older or a stand-in extension: the file's alias when it has one
        return str(getattr(network, "alias", None) or name)


def _plain(value: Any) -> Any:
    """A script argument's default as JSON can carry it (None otherwise)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return None


def _names_sampler(requested: str, resolved: str) -> bool:
    if requested == resolved or sd_samplers.samplers_map.get(requested.lower()) == resolved:
        return True
    # "DPM++ 2M Karras": a sampler name followed by a scheduler's name
    return requested.startswith(resolved + " ")


def _saved_styles() -> Dict[str, Any]:
    """webui's saved styles without its list dividers: with several styles files (Forge
    always has two) it puts a '---- NAME ----' entry with no prompt (path "do_not_save")
    before each file's styles, for its menu; applying one fails the job."""
    found = getattr(getattr(shared, "prompt_styles", None), "styles", None) or {}
    return {name: s for name, s in list(found.items()) if getattr(s, "path", None) != "do_not_save"}


def _processing(kind: str, params: Dict[str, Any], overrides: Dict[str, Any]):
    # As webui's API: every field of its request model, the request's value or the
    # model's default (which is not always the processing class's own)
    given = {**request_fields.api_defaults(webui_request.model(kind)), **params}
    args = {k: v for k, v in given.items() if k not in _NOT_PROCESSING_ARGS}
    # As webui's own API does: shared.sd_model waits for the model webui loads at start
    # (model_data.lock); without it, a task in the first seconds loads a second model
    # concurrently and crashes ("Cannot copy out of meta tensor").
    args["sd_model"] = shared.sd_model
    args["override_settings"] = overrides
    args["override_settings_restore_afterwards"] = False  # we restore, without a reload
    save = bool(params.get("save_images", False))
    args["do_not_save_samples"] = not save
    args["do_not_save_grid"] = not save
    opts = shared.opts
    for name in ("latent_mask", "firstpass_image"):  # base64, as the request sends them (webui's API does not decode them)
        if isinstance(args.get(name), str):
            args[name] = decode_image(args[name])
    if kind == "img2img":
        args["init_images"] = [decode_image(x) for x in params["init_images"]]
        if params.get("mask"):
            args["mask"] = decode_image(params["mask"])
        p = processing.StableDiffusionProcessingImg2Img(**args)
        p.outpath_samples, p.outpath_grids = opts.outdir_img2img_samples, opts.outdir_img2img_grids
    else:
        p = processing.StableDiffusionProcessingTxt2Img(**args)
        p.outpath_samples, p.outpath_grids = opts.outdir_txt2img_samples, opts.outdir_txt2img_grids
    p.is_api = True
    return p


def _skip_writing_to_config():
    skip = getattr(sd_models, "SkipWritingToConfig", None)
    return skip() if skip is not None else contextlib.nullcontext()


def _refuse_frozen_settings(overrides: Dict[str, Any]) -> None:
    if not getattr(shared.cmd_opts, "freeze_settings", False):
        return
    for key, value in overrides.items():
        if shared.opts.data.get(key) != value:
            raise RuntimeError(
                f"webui runs with --freeze-settings, which forbids per-task settings: "
                f"this task needs {key}={value!r} but webui is set to {shared.opts.data.get(key)!r}"
            )


# ---- settings in webui's Settings tab ---------------------------------------------

SECTION = ("task_queue", "Task queue")


def register_settings(options: Dict[str, Tuple[Any, str]]) -> None:
    """The queue's settings in webui's Settings tab, each keeping its default's type.

    webui's Settings page picks a field by itself for text, whole numbers and booleans
    only; on a float it raises, and webui does not start. Its field for whole numbers is
    gradio's Number without a precision, which gives floats: once someone applied the
    settings, config.json and /sdapi/v1/options said 2048.0. So whole numbers get a
    Number of precision 0, and a float saved that way before is read back whole.
    gradio is webui's own import."""
    gradio = sys.modules.get("gradio")
    for key, (default, label) in options.items():
        number, args = None, None
        if gradio is not None and isinstance(default, float):
            number = gradio.Number
        elif gradio is not None and isinstance(default, int) and not isinstance(default, bool):
            number, args = gradio.Number, {"precision": 0}
        shared.opts.add_option(key, shared.OptionInfo(default, label, number, args, section=SECTION))
        saved = shared.opts.data.get(key)
        if type(default) is int and isinstance(saved, float) and saved.is_integer():
            shared.opts.data[key] = int(saved)


def watch_apps(made: Callable[[Any], None]) -> None:
    """`made(app)` for each app webui serves, as webui sets it up: in its
    `initialize_util.setup_middleware`, before that adds webui's middleware.

    With its UI, webui serves HTTP from gradio's launch on, then adds its middleware and
    its API, then the extensions' routes (app_started). A request in between makes
    starlette build the app's middleware stack, and the next middleware webui adds
    raises "Cannot add middleware after an application has started": webui exits. At
    that moment the queue's routes do not exist yet. So the queue is handed the app
    early (to make adding middleware safe at any time, and to answer that it is
    starting). Run again on a UI reload, it still wraps webui's own function once."""
    try:
        from modules import initialize_util  # webui 1.6 on; before it, nothing to watch
    except ImportError:
        return
    original = getattr(initialize_util.setup_middleware, "__wrapped__", initialize_util.setup_middleware)

    @functools.wraps(original)
    def setup_middleware(app):
        made(app)
        return original(app)

    initialize_util.setup_middleware = setup_middleware
