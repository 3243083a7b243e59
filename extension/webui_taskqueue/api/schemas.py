"""The JSON shapes of the HTTP API (docs/http-api.md). Plain pydantic models that
read the same under pydantic 1.10 (webui v1.10.1's pin) and pydantic 2."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any, Dict, List, Optional, Union

import pydantic
from pydantic import BaseModel, Field, StrictStr

from ..records.tasks import TaskStatus
from ..service.task_view import TaskView
from ..store.images import is_grid
from ..store.inputs import describe as describe_inputs


def _nullable(schema: Dict[str, Any], model: Any) -> None:
    """pydantic 1 documents Optional[X] as X alone; a client (or a fuzzer) reading the
    document would take every null we send for a broken answer. Mark them nullable,
    as OpenAPI 3.0 spells it (pydantic 2 writes anyOf [X, null] itself)."""
    for field in model.__fields__.values():
        prop = schema.get("properties", {}).get(field.alias)
        if prop is not None and field.allow_none:
            if "$ref" in prop:  # siblings of $ref are ignored: wrap it
                prop["allOf"] = [{"$ref": prop.pop("$ref")}]
            prop["nullable"] = True


class Model(BaseModel):
    if pydantic.VERSION.startswith("1."):
        class Config:
            schema_extra = staticmethod(_nullable)


class Message(Model):
    """401, 403, 404, 409: what went wrong, in a sentence."""

    detail: str


class Problem(Model):
    loc: List[Union[str, int]]  # where: ["body", field, ...], ["query", name], ["header", name]
    msg: str  # why
    type: str
    ctx: Optional[Dict[str, Any]] = None  # limits: the limit, what is allowed, the usage


class Problems(Model):
    """413, 415, 422, 429: every problem found, each naming its field and reason."""

    detail: List[Problem]


class ProgressPublic(Model):
    fraction: float
    step: int
    steps: int
    job_no: int
    job_count: int
    eta_seconds: Optional[float] = None


class CallbackPublic(Model):
    """Where the task's final state is POSTed, and how that went (webhooks)."""

    url: str
    attempts: int = 0
    last_status: Optional[int] = None  # the receiver's HTTP status (null: no answer yet)
    last_error: Optional[str] = None
    next_try_at: Optional[str] = None  # null: not due (not final yet, delivered or given up)
    delivered_at: Optional[str] = None
    gave_up_at: Optional[str] = None


class TaskPublic(Model):
    task_id: Optional[str] = None  # null: someone else's task in the queue view
    type: str
    status: TaskStatus
    owner: Optional[str] = None
    mine: bool = True
    checkpoint: str
    vae: Optional[str] = None
    size: str  # "<width>x<height>"
    position: Optional[int] = None  # 1-based place in the run order while queued
    ahead: Optional[int] = None  # tasks that will run before it, the running one included
    eta_seconds: Optional[float] = None  # expected seconds until it is done (null: not known yet)
    progress: Optional[ProgressPublic] = None
    created_at: str
    started_at: Optional[str] = None
    finished_at: Optional[str] = None
    process_started_at: Optional[str] = None
    process_finished_at: Optional[str] = None
    error: Optional[str] = None
    images: List[str] = []
    thumbnails: List[str] = []
    inputs: List[str] = []  # an img2img task's init images
    preview: Optional[str] = None  # while running: the live preview's URL
    infotexts: List[str] = []
    grids: List[str] = []  # a script's grids (X/Y/Z plot, prompt matrix), after its images
    params: Dict[str, Any] = {}
    callback: Optional[CallbackPublic] = None  # with a callback_url: its webhook's delivery
    box: Optional[str] = None  # the box (webui process) that runs or ran it; null while queued


class TaskAccepted(Model):
    task_id: str
    status: TaskStatus
    position: Optional[int] = None


class TasksPublic(Model):
    data: List[TaskPublic]
    count: int


class QueuePublic(Model):
    paused: bool
    running: int
    data: List[TaskPublic]
    count: int
    eta_seconds: Optional[float] = None  # until everything queued now is done


class PausedPublic(Model):
    paused: bool


class CheckpointPublic(Model):
    title: str
    model_name: str
    hash: Optional[str] = None
    loaded: bool


class CheckpointsPublic(Model):
    data: List[CheckpointPublic]
    loaded: Optional[str] = None
    default: Optional[str] = None  # what a task of yours runs on when it names none (your own pick, else the box's)


class ScriptArgPublic(Model):
    label: Optional[str] = None
    value: Any = None
    choices: Optional[List[Any]] = None
    minimum: Optional[float] = None
    maximum: Optional[float] = None
    step: Optional[float] = None


class ScriptPublic(Model):
    name: str  # as `script_name` or a key of `alwayson_scripts` names it
    alwayson: bool
    args: List[ScriptArgPublic]  # in order; empty where webui does not describe them


class ScriptsPublic(Model):
    txt2img: List[ScriptPublic]
    img2img: List[ScriptPublic]


class StylePublic(Model):
    name: str  # as `styles` takes it
    prompt: str  # `{prompt}` in it: where the prompt goes when the style is applied
    negative_prompt: str


class StylesPublic(Model):
    data: List[StylePublic]


class LoraPublic(Model):
    name: str  # the file's name
    alias: str  # what webui's Lora tab writes: <lora:alias:1>


class LorasPublic(Model):
    data: List[LoraPublic]


class EmbeddingPublic(Model):
    name: str  # the word that calls it in a prompt


class EmbeddingsPublic(Model):
    data: List[EmbeddingPublic]


class UpscalerPublic(Model):
    name: str  # as `hr_upscaler` takes it
    latent: bool


class UpscalersPublic(Model):
    data: List[UpscalerPublic]


class KeyPublic(Model):
    key: str
    prefix: str


class KeyInfoPublic(Model):
    prefix: str
    created_at: str


class Limits(Model):
    max_queued: Optional[int] = None
    max_per_hour: Optional[int] = None
    max_steps: Optional[int] = None
    max_pixels: Optional[int] = None
    max_images: Optional[int] = None
    checkpoints: Optional[List[str]] = None


class Usage(Model):
    queued: int
    last_hour: int


# Request bodies take strict types: pydantic 1 would make `{"name": true}` the user "True".
class UserCreate(Model):
    name: StrictStr
    role: StrictStr = "user"
    limits: Optional[Dict[str, Any]] = None


class UserUpdate(Model):
    role: Optional[StrictStr] = None
    limits: Optional[Dict[str, Any]] = None


class KeyCreated(Model):
    name: str
    role: str
    key: str
    prefix: str
    limits: Dict[str, Any]


class UserPublic(Model):
    name: str
    role: str
    limits: Dict[str, Any]  # the user's own; a missing or null limit: the default
    effective_limits: Limits  # what applies (null: no limit)
    usage: Usage
    keys: List[KeyInfoPublic]
    created_at: Optional[str] = None


class UsersPublic(Model):
    data: List[UserPublic]
    count: int
    defaults: Limits  # the limits of everyone who has none of their own (Settings; null: none)


class MePublic(Model):
    name: str
    role: str
    limits: Limits  # what applies to you (null: no limit)
    usage: Usage
    keys: List[KeyInfoPublic] = []
    webhook_secret: Optional[str] = None  # signs your webhooks (X-Queue-Signature)
    callback_url: Optional[str] = None  # where your tasks' final states go when a task names none
    settings: Dict[str, Any] = {}  # the settings you keep for yourself, as they apply (yours, else the box's)
    settings_notes: Dict[str, str] = {}  # why a value of yours is not used now


class MeUpdate(Model):
    callback_url: Optional[str] = Field(None, description="your default callback URL (null: none)")
    settings: Optional[Dict[str, Any]] = Field(
        None, description="settings to keep as yours (keys: those of `settings` in GET /me; a null value: "
                          "the box's default again); not for admins, whose settings are the box's")


class WebhookSecret(Model):
    webhook_secret: str


class HealthPublic(Model):
    status: str
    queued: int
    running: int
    paused: bool
    worker: str
    paused_reason: Optional[str] = None  # set when the queue paused itself (failures in a row)
    failures_in_a_row: int = 0
    last_errors: List[str] = []  # of the failures in a row, newest first
    host: Optional[str] = None  # the program the queue runs in: "webui" or "forge"
    host_error: Optional[str] = None  # why the worker did not start (a host it does not know)
    box_error: Optional[str] = None  # why it waits: another live box on the shared queue has its name


def iso(t: Optional[float]) -> Optional[str]:
    if t is None:
        return None
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).isoformat().replace("+00:00", "Z")


def task_public(view: TaskView, links) -> Dict[str, Any]:
    """The task object (API.md); `links` makes its image URLs for the caller."""
    task, params = view.task, view.task.params
    common = {
        "type": task.type.value, "status": task.status.value, "checkpoint": task.checkpoint, "vae": task.vae,
        "size": task.size or f"{params.get('width', 512)}x{params.get('height', 512)}",
        "position": view.position, "ahead": view.ahead, "eta_seconds": view.eta,
        "progress": dataclasses.asdict(view.progress) if view.progress else None,
        "created_at": iso(task.created_at), "started_at": iso(task.started_at), "box": task.box,
    }
    if view.anonymous:
        return {**common, "task_id": None, "owner": None, "mine": False}
    task_id = task.task_id
    shown = [i for i, name in enumerate(task.images) if not is_grid(name)]
    grids = [i for i, name in enumerate(task.images) if is_grid(name)]
    return {
        **common,
        "task_id": task_id,
        "owner": task.owner,
        "mine": view.mine,
        "finished_at": iso(task.finished_at),
        "process_started_at": iso(task.process_started_at),
        "process_finished_at": iso(task.process_finished_at),
        "error": task.error,
        "images": [links.url(task_id, "image", i) for i in shown],
        "thumbnails": [links.url(task_id, "thumb", i) for i in shown],
        "grids": [links.url(task_id, "image", i) for i in grids],
        "inputs": [links.url(task_id, "input", i) for i in range(len(params.get("init_images") or ()))],
        "preview": links.url(task_id, "preview") if view.progress else None,
        "infotexts": [task.infotexts[i] for i in shown if i < len(task.infotexts)],
        "callback": _callback(view.callback),
        "params": describe_inputs(params),  # polled every second: never megabytes of base64
    }


def _callback(found) -> Optional[Dict[str, Any]]:
    if found is None:
        return None
    return {"url": found.url, "attempts": found.attempts, "last_status": found.last_status,
            "last_error": found.last_error, "next_try_at": iso(found.next_try_at),
            "delivered_at": iso(found.delivered_at), "gave_up_at": iso(found.gave_up_at)}


def me_public(view) -> Dict[str, Any]:
    public = user_public(view)
    return {**public, "limits": public["effective_limits"]}


def user_public(view) -> Dict[str, Any]:
    user = view.user
    return {
        "name": user.name, "role": user.role.value, "limits": user.limits,
        "effective_limits": view.effective, "usage": view.usage,
        "keys": [{"prefix": k.prefix, "created_at": iso(k.created_at)} for k in view.keys],
        "created_at": iso(user.created_at),
    }
