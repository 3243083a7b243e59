"""The boundary with Forge (lllyasviel/stable-diffusion-webui-forge, 2.x: `modules_forge`
with its `backend`): webui's code paths where Forge kept them (WebuiHost), Forge's own
where it differs. With webui.py and webui_request.py, one of the only modules that import `modules`.

Forge loads what `sd_models.model_data.forge_loading_parameters` names, not what the
options say. Those change only through `main_entry.checkpoint_change` / `modules_change`
(set_config calls them too), which skip a value equal to the options, followed by
`refresh_model_loading_parameters`, which reads the options on the calling thread. So a
task's checkpoint and VAE go in through those functions inside the worker's private
options (thread_options), and once the task ends the loader is pointed again at what
everyone's options name. Forge's settings and UI name the default all along; the task's
model stays loaded until a job needs another one; Forge's own jobs load the default.
Writing the option back by hand, as is right on webui, would leave Forge on the task's
model for every later job that names the default."""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Any, Callable, Dict, List, Optional

from modules import paths, processing, sd_models, shared
from modules_forge import main_entry

from . import thread_options, webui_page
from .webui import WebuiHost, log


class ForgeHost(WebuiHost):
    name = "forge"

    def __init__(self) -> None:
        super().__init__()
        self._raised_unload = False  # Forge's need_global_unload stands because we pointed the loader away
        self._embedding_db: Any = None
        self._embeddings_lock = threading.Lock()

    def embeddings(self) -> List[str]:
        # as Forge's /sdapi/v1/embeddings: a database of its own over --embeddings-dir,
        # read again when the folder changed, whatever the model (Forge's model_hijack has none)
        with self._embeddings_lock:
            if self._embedding_db is None:
                from modules.textual_inversion.textual_inversion import EmbeddingDatabase

                self._embedding_db = EmbeddingDatabase()
                self._embedding_db.add_embedding_dir(shared.cmd_opts.embeddings_dir)
                self._embedding_db.load_textual_inversion_embeddings(force_reload=True, sync_with_sd_model=False)
            else:
                self._embedding_db.load_textual_inversion_embeddings(force_reload=False, sync_with_sd_model=False)
            return sorted(self._embedding_db.word_embeddings, key=str.lower)

    def generate(self, kind: str, params: Dict[str, Any], checkpoint: str, vae: Optional[str]):
        # Forge's hires pass reads hr_additional_modules, whose default (None) it cannot
        # read: its own API fails such a request. Its UI's default, as a user expects.
        if kind == "txt2img" and params.get("enable_hr") and params.get("hr_additional_modules") is None:
            params = {**params, "hr_additional_modules": ["Use same choices"]}
        return super().generate(kind, params, checkpoint, vae)

    def share_page(self, page_ui: Any, page: Any) -> None:
        # Forge's own model controls at the top of its page carry no "setting_<key>"
        # elem_id: they are main_entry's module globals (absent under --nowebui)
        controls = {key: getattr(main_entry, name, None) for key, name in (
            ("sd_model_checkpoint", "ui_checkpoint"), ("forge_additional_modules", "ui_vae"),
            ("CLIP_stop_at_last_layers", "ui_clip_skip"))}
        count = webui_page.share(page_ui, page, shared.opts, shared.opts.dumpjson, self.page_value,
                                 {k: v for k, v in controls.items() if v is not None})
        log.info("task queue: %d of Forge's settings handlers now keep each person's own", count)

    def page_value(self, key: str, value: Any) -> Any:
        # its VAE / Text Encoder menu lists files by name; the option holds their paths
        if key == "forge_additional_modules" and isinstance(value, list):
            return [os.path.basename(str(v)) for v in value]
        return super().page_value(key, value)

    def resolve_vae(self, name: str) -> Optional[str]:
        # Forge's VAEs are files among its "additional modules"; sd_vae is a label only
        if name == "Automatic":
            raise ValueError("vae", "Forge has no automatic VAE choice: name a VAE file, or None for the checkpoint's own")
        return name if name == "None" or name in self._module_files() else None

    def _module_files(self) -> Dict[str, str]:
        if not main_entry.module_list:  # filled when Forge builds its UI; not under --nowebui
            main_entry.refresh_models()
        return main_entry.module_list

    def _model_settings(self, info: Any, vae: Optional[str]) -> Dict[str, Any]:
        settings = super()._model_settings(info, None)
        if vae is not None:
            # the task's VAE in place of the default's; other modules (text encoders) stay
            kept = [m for m in shared.opts.data.get("forge_additional_modules") or [] if not _is_vae(m)]
            settings["forge_additional_modules"] = kept + ([self._module_files()[vae]] if vae != "None" else [])
        return settings

    @contextlib.contextmanager
    def _task_model(self, overrides: Dict[str, Any], options: thread_options.ThreadOptions):
        """The loader points at the task's model for the task (Forge's set_config inside
        process_images then finds nothing to change), and at everyone's default after."""
        try:
            with options.private():
                self._point_loader(lambda: self._name_task_model(overrides))
                yield
        finally:
            self._point_loader(main_entry.refresh_model_loading_parameters)

    @staticmethod
    def _name_task_model(overrides: Dict[str, Any]) -> None:
        # as Forge's own hires pass switches models: change the options, then refresh
        main_entry.checkpoint_change(overrides["sd_model_checkpoint"], save=False, refresh=False)
        if "forge_additional_modules" in overrides:
            main_entry.modules_change(overrides["forge_additional_modules"], save=False, refresh=False)
        main_entry.refresh_model_loading_parameters()

    def _point_loader(self, change: Callable[[], None]) -> None:
        """Run one of Forge's changes of its loading parameters. Each one sets Forge's
        need_global_unload: unload everything before the next job, even when that job
        needs no other model. When the parameters end up naming the model in memory,
        nothing needs unloading, and the flag goes back to what it was before we raised
        it (a task, then the default named again, then a task on the same model: no
        unload). When they name another model, Forge's load replaces it anyway."""
        before = False if self._raised_unload else processing.need_global_unload
        change()
        data = sd_models.model_data
        if str(data.forge_loading_parameters) == data.forge_hash:
            processing.need_global_unload, self._raised_unload = before, False
        else:
            self._raised_unload = bool(processing.need_global_unload) and not before


def _is_vae(path: str) -> bool:
    """A module file from a VAE folder (Forge lists text encoders beside them)."""
    folders = [os.path.join(paths.models_path, "VAE"), getattr(shared.cmd_opts, "vae_dir", None)]
    here = os.path.abspath(os.path.dirname(path))
    return any(f and here.startswith(os.path.abspath(f)) for f in folders)

