"""What the queue needs from the program that generates images, as plain records.

`webui.WebuiHost` is the real one (the only code that imports webui's `modules`);
tests drive the same interface through the stand-in webui under tests/."""

from __future__ import annotations

import dataclasses
from typing import Any, ContextManager, Dict, List, Optional, Tuple

from ..intake.fields import Setting


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    title: str
    model_name: str
    hash: Optional[str]  # first 10 hex digits of the sha256, as infotexts write "Model hash:"


@dataclasses.dataclass(frozen=True)
class StateSnapshot:
    """The fields of webui's shared.state that describe the running job."""

    job_no: int
    job_count: int
    sampling_step: int
    sampling_steps: int
    interrupted: bool


@dataclasses.dataclass(frozen=True)
class Script:
    """A script webui offers on a tab, as its API names it (`script_name`, or a key of
    `alwayson_scripts`), with its arguments (label, default value, choices, range)
    where webui knows them."""

    name: str
    alwayson: bool
    args: List[Dict[str, Any]]


@dataclasses.dataclass(frozen=True)
class Style:
    """A saved style (webui's styles.csv): its prompt may hold `{prompt}`, the place of
    the prompt it is applied to."""

    name: str
    prompt: str
    negative_prompt: str


@dataclasses.dataclass(frozen=True)
class Lora:
    name: str  # the file's name without its extension
    alias: str  # what webui's own Lora tab writes in the prompt: <lora:alias:weight>


@dataclasses.dataclass(frozen=True)
class Upscaler:
    name: str  # as `hr_upscaler` takes it
    latent: bool  # a latent mode (no upscaler model)


@dataclasses.dataclass
class Outcome:
    images: List[Any]  # PIL images, without grids
    infotexts: List[str]
    interrupted: bool  # shared.state said so when process_images returned
    grids: List[Any] = dataclasses.field(default_factory=list)  # a script's (X/Y/Z plot, prompt matrix)
    grid_infotexts: List[str] = dataclasses.field(default_factory=list)
    info: Optional[str] = None  # webui's processed.js(): the "info" its own API answers with


class Host:
    """The contract. Methods that touch the generation state are called by the worker
    with `lock` held; the rest may be called from any request thread."""

    lock: ContextManager  # webui's queue_lock: one generation at a time, ours or native
    name: str = "webui"  # which program: "webui", "forge" (hosts.select decides, once)
    refusal: Optional[str] = None  # why the worker must not start here (an unknown host)

    def checkpoints(self) -> Tuple[List[Checkpoint], Optional[str]]:
        """Known checkpoints and the title of the loaded one."""
        raise NotImplementedError

    def loaded_checkpoint(self) -> Optional[str]:
        """The title of the model in memory now (None before the first load); cheap."""
        raise NotImplementedError

    def checkpoint_path(self, title: str) -> Optional[str]:
        """The checkpoint's file, to read it ahead of a switch."""
        raise NotImplementedError

    def default_checkpoint(self) -> Optional[str]:
        """The title of webui's configured default model (what a native job would use)."""
        raise NotImplementedError

    def resolve_checkpoint(self, name: str) -> Optional[str]:
        """Title, name or short hash -> title, the way webui resolves them; None if unknown."""
        raise NotImplementedError

    def resolve_vae(self, name: str) -> Optional[str]:
        """VAE name -> as stored; None if unknown; ValueError(field, reason) when this
        host cannot use such a choice at all."""
        raise NotImplementedError

    def resolve_sampler(self, sampler: Optional[str], scheduler: Optional[str]) -> Tuple[str, str]:
        """-> (sampler name, scheduler label); ValueError naming the field if unknown."""
        raise NotImplementedError

    def option(self, name: str, default: Any) -> Any:
        raise NotImplementedError

    def setting(self, name: str) -> Optional[Setting]:
        """The setting a task's `override_settings` names; None when webui has none."""
        raise NotImplementedError

    def data_dir(self) -> str:
        raise NotImplementedError

    def page_login(self) -> bool:
        """Whether webui's page asks for a login (--gradio-auth): its names are people."""
        return False

    def share_page(self, page_ui: Any, page: Any) -> None:
        """Make the settings on webui's page (its gradio Blocks) each person's own
        (host/webui_page.py; `page`: its Page)."""

    def api_credentials(self) -> Dict[str, str]:
        """webui's --api-auth names and passwords; empty when it runs without."""
        raise NotImplementedError

    def request_model(self, kind: str) -> Any:
        """webui's own pydantic request model of its /sdapi/v1/txt2img or img2img (built
        by webui from its processing classes): the fields a request may have."""
        raise NotImplementedError

    def apply_infotext(self, kind: str, params: Dict[str, Any]) -> Dict[str, Any]:
        """`params` with its pasted `infotext` applied as webui's API applies it: the
        infotext's values in the fields the request leaves out, its settings added to
        `override_settings`, the script arguments it names in `alwayson_scripts`.
        ValueError(reason) when webui cannot read it."""
        raise NotImplementedError

    def name_errors(self, params: Dict[str, Any]) -> List[Tuple[str, str]]:
        """(field, reason) for each name in a request that webui would not find when the
        task runs (hires upscaler, sampler or checkpoint, refiner, styles)."""
        raise NotImplementedError

    def scripts(self, kind: str) -> List[Script]:
        """The scripts of the txt2img or img2img tab."""
        raise NotImplementedError

    def script_errors(self, kind: str, script_name: Optional[str], alwayson: Dict[str, Any]) -> List[Tuple[str, str]]:
        """(field, reason) for each script a request names that the tab does not run
        that way (unknown, or selectable given as always-on)."""
        raise NotImplementedError

    # what a prompt or the hires fix may name; empty when webui has none (or the part
    # of webui that knows them is absent, as the Lora extension when disabled)
    def styles(self) -> List[Style]:
        raise NotImplementedError

    def loras(self) -> List[Lora]:
        raise NotImplementedError

    def embeddings(self) -> List[str]:
        """Names of the textual inversion embeddings loaded for the present model."""
        raise NotImplementedError

    def upscalers(self) -> List[Upscaler]:
        """The hires fix's upscalers, in the order of webui's own list."""
        raise NotImplementedError

    # generation, called by the worker with `lock` held
    def begin(self, task_id: str) -> None:
        raise NotImplementedError

    def generate(self, kind: str, params: Dict[str, Any], checkpoint: str, vae: Optional[str]) -> Outcome:
        raise NotImplementedError

    def end(self, task_id: str) -> None:
        raise NotImplementedError

    def free_memory(self) -> None:
        """After a failed generation (out of memory, say): give cached GPU memory back,
        as webui does after each job of its own UI. Nothing to do by default."""

    # from any thread
    def interrupt(self) -> None:
        raise NotImplementedError

    def snapshot(self) -> StateSnapshot:
        raise NotImplementedError

    def preview(self) -> Optional[Tuple[int, Any]]:
        """(id, PIL image) of the running job's live preview, decoding one if due."""
        raise NotImplementedError
