"""Starting (and, for tests, resetting) the stand-in the way webui starts: flags, settings
from config.json, the opts callbacks, the checkpoint and VAE lists, then the model."""

import inspect
import os
import sys

import torch

from . import builtin_scripts, forge_mode

from modules import (call_queue, errors, fifo_lock, hashes, infotext_utils, options, paths, paths_internal, progress,
                     script_callbacks, script_loading, scripts, sd_hijack, sd_models, sd_samplers, sd_vae, shared,
                     shared_cmd_options, shared_options, shared_state, ui)

# webui's built-in extensions that the stand-in reproduces (their scripts load before any other)
BUILTIN_EXTENSIONS = [os.path.join(os.path.dirname(os.path.abspath(__file__)), "extensions_builtin", "Lora")]


def reset(ckpt_dir, data_dir, **flags):
    """Forget everything a previous run left: flags, settings, state, loaded models, hashes,
    callbacks, task records and queue_lock. Objects other code holds are emptied in place
    where webui never replaces them (cmd_opts, the checkpoint dicts, model_data)."""
    cmd_opts = shared.cmd_opts
    defaults = vars(shared_cmd_options.parser.parse_args([]))
    vars(cmd_opts).clear()
    vars(cmd_opts).update(defaults)
    vars(cmd_opts).update(flags, ckpt_dir=os.path.abspath(ckpt_dir), data_dir=os.path.abspath(data_dir))

    # The model is tiny: with several threads, hand-offs cost more than the work and stall
    # for tenths of a second on a busy two-core box.
    torch.set_num_threads(1)

    paths_internal.data_path = cmd_opts.data_dir
    paths.models_path = os.path.dirname(cmd_opts.ckpt_dir)  # the VAE folder lies beside the checkpoints
    os.makedirs(cmd_opts.data_dir, exist_ok=True)
    cmd_opts.embeddings_dir = cmd_opts.embeddings_dir or os.path.join(cmd_opts.data_dir, "embeddings")
    cmd_opts.lora_dir = cmd_opts.lora_dir or os.path.join(cmd_opts.data_dir, "models", "Lora")
    sd_hijack.reset(cmd_opts.embeddings_dir)
    for name in ("networks", "network"):  # the Lora extension's modules, imported again on load
        sys.modules.pop(name, None)
    shared.config_filename = cmd_opts.ui_settings_file or os.path.join(cmd_opts.data_dir, "config.json")
    shared.parallel_processing_allowed = True
    shared.state = shared_state.State()
    shared.opts = options.Options(shared_options.options_templates())
    shared.opts.load(shared.config_filename)
    configure_opts_onchange()

    call_queue.queue_lock = fifo_lock.FIFOLock()
    hashes.caches.clear()
    sd_models.checkpoints_list.clear()
    sd_models.checkpoint_aliases.clear()
    sd_models.model_data.__init__()
    sd_models.SkipWritingToConfig.skip = False
    sd_vae.vae_dict.clear()
    sd_vae.loaded_vae_file = None
    progress.current_task = None
    progress.pending_tasks.clear()
    progress.finished_tasks.clear()
    progress.recorded_results.clear()
    script_callbacks.clear_callbacks()
    scripts.extension_classes.clear()
    sd_samplers.get_sampler_and_scheduler.cache_clear()
    sd_samplers.set_samplers()
    forge_mode.apply(cmd_opts.forge)


def configure_opts_onchange():
    """As webui: a settings change that reloads a model waits for queue_lock."""
    opts = shared.opts
    if shared.cmd_opts.forge:  # Forge: no reload on a settings change (its initialize_util, commented out)
        return
    opts.onchange("sd_model_checkpoint", call_queue.wrap_queued_call(lambda: sd_models.reload_model_weights()), call=False)
    opts.onchange("sd_vae", call_queue.wrap_queued_call(lambda: sd_vae.reload_vae_weights()), call=False)
    opts.onchange("sd_vae_overrides_per_model_preferences", call_queue.wrap_queued_call(lambda: sd_vae.reload_vae_weights()), call=False)


def boot(ckpt_dir, data_dir, *, step_seconds=0.05, load_model=True, **flags):
    """Start the stand-in in-process: reset, list checkpoints and VAEs, load the default
    model (opts.sd_model_checkpoint, else the first checkpoint). Flags are webui's
    command-line flags by attribute name (freeze_settings=True, nowebui=True, ...)."""
    reset(ckpt_dir, data_dir, step_seconds=step_seconds, **flags)
    sd_models.list_models()
    sd_vae.refresh_vae_list()
    builtin_scripts.install()
    for extension_dir in BUILTIN_EXTENSIONS:
        load_extension_scripts(extension_dir)
    infotext_utils.paste_fields.clear()
    if not shared.cmd_opts.nowebui:  # webui registers what an infotext may fill while it builds its UI
        ui.create_ui()
    if shared.cmd_opts.forge:
        forge_mode.start()  # the loader points at the default; nothing loads until a job
    elif load_model:
        sd_models.load_model()
    return shared


def load_extension_scripts(extension_dir):
    """webui's load_scripts for one extension: each scripts/*.py in name order, loaded as a
    module named after its file, with the extension directory first on sys.path only while
    it loads. A failing script is reported, not raised."""
    extension_dir = os.path.abspath(extension_dir)
    scripts_dir = os.path.join(extension_dir, "scripts")
    if not os.path.isdir(scripts_dir):
        return

    for filename in sorted(os.listdir(scripts_dir)):
        path = os.path.join(scripts_dir, filename)
        if not filename.endswith(".py") or not os.path.isfile(path):
            continue
        syspath = sys.path
        try:
            sys.path = [extension_dir] + sys.path
            scripts.current_basedir = extension_dir
            module = script_loading.load_module(path)
        except Exception:
            errors.report(f"Error loading script: {filename}", exc_info=True)
            continue
        finally:
            sys.path = syspath
            scripts.current_basedir = os.getcwd()
        # as webui's register_scripts_from_module: every Script subclass the file holds
        found = [c for c in vars(module).values()
                 if inspect.isclass(c) and issubclass(c, scripts.Script) and c is not scripts.Script]
        scripts.extension_classes += found
        if found:  # webui loads scripts before it builds its UI: the runners again, with them
            builtin_scripts.install()
            infotext_utils.paste_fields.clear()
            if not shared.cmd_opts.nowebui:
                ui.create_ui()
