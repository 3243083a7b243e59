"""The JSON shapes of the HTTP API (../../README.md, "API"). Plain pydantic models that
read the same under pydantic 1.10 (webui v1.10.1's pin) and pydantic 2."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any, Dict, List, Optional, Union

from pydantic import BaseModel

from .service import TaskView
from .tasks import TaskStatus


class Message(BaseModel):
    """401, 403, 404, 409: what went wrong, in a sentence."""

    detail: str


class Problem(BaseModel):
    loc: List[Union[str, int]]  # where: ["body", field, ...], ["query", name], ["header", name]
    msg: str  # why
    type: str
    ctx: Optional[Dict[str, Any]] = None  # limits: the limit, what is allowed, the usage


class Problems(BaseModel):
    """413, 415, 422, 429: every problem found, each naming its field and reason."""

    detail: List[Problem]


class ProgressPublic(BaseModel):
    fraction: float
    step: int
    steps: int
    job_no: int
    job_count: int
    eta_seconds: Optional[float] = None


class TaskPublic(BaseModel):
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
    params: Dict[str, Any] = {}


class TaskAccepted(BaseModel):
    task_id: str
    status: TaskStatus
    position: Optional[int] = None


class TasksPublic(BaseModel):
    data: List[TaskPublic]
    count: int


class QueuePublic(BaseModel):
    paused: bool
    running: int
    data: List[TaskPublic]
    count: int
    eta_seconds: Optional[float] = None  # until everything queued now is done


class PausedPublic(BaseModel):
    paused: bool


class CheckpointPublic(BaseModel):
    title: str
    model_name: str
    hash: Optional[str] = None
    loaded: bool


class CheckpointsPublic(BaseModel):
    data: List[CheckpointPublic]
    loaded: Optional[str] = None


class KeyPublic(BaseModel):
    key: str
    prefix: str


class KeyInfoPublic(BaseModel):
    prefix: str
    created_at: str


class Limits(BaseModel):
    max_queued: Optional[int] = None
    max_per_hour: Optional[int] = None
    max_steps: Optional[int] = None
    max_pixels: Optional[int] = None
    max_images: Optional[int] = None
    checkpoints: Optional[List[str]] = None


class Usage(BaseModel):
    queued: int
    last_hour: int


class UserCreate(BaseModel):
    name: str
    role: str = "user"
    limits: Optional[Dict[str, Any]] = None


class UserUpdate(BaseModel):
    role: Optional[str] = None
    limits: Optional[Dict[str, Any]] = None


class KeyCreated(BaseModel):
    name: str
    role: str
    key: str
    prefix: str
    limits: Dict[str, Any]


class UserPublic(BaseModel):
    name: str
    role: str
    limits: Dict[str, Any]  # the user's own; a missing or null limit: the default
    effective_limits: Limits  # what applies (null: no limit)
    usage: Usage
    keys: List[KeyInfoPublic]
    created_at: Optional[str] = None


class UsersPublic(BaseModel):
    data: List[UserPublic]
    count: int
    defaults: Limits  # the limits of everyone who has none of their own (Settings; null: none)


class MePublic(BaseModel):
    name: str
    role: str
    limits: Limits  # what applies to you (null: no limit)
    usage: Usage
    keys: List[KeyInfoPublic] = []


class HealthPublic(BaseModel):
    status: str
    queued: int
    running: int
    paused: bool
    worker: str
    paused_reason: Optional[str] = None  # set when the queue paused itself (failures in a row)
    failures_in_a_row: int = 0
    last_errors: List[str] = []  # of the failures in a row, newest first


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
        "created_at": iso(task.created_at), "started_at": iso(task.started_at),
    }
    if view.anonymous:
        return {**common, "task_id": None, "owner": None, "mine": False}
    task_id, count = task.task_id, len(task.images)
    return {
        **common,
        "task_id": task_id,
        "owner": task.owner,
        "mine": view.mine,
        "finished_at": iso(task.finished_at),
        "process_started_at": iso(task.process_started_at),
        "process_finished_at": iso(task.process_finished_at),
        "error": task.error,
        "images": [links.url(task_id, "image", i) for i in range(count)],
        "thumbnails": [links.url(task_id, "thumb", i) for i in range(count)],
        "inputs": [links.url(task_id, "input", i) for i in range(len(params.get("init_images") or ()))],
        "preview": links.url(task_id, "preview") if view.progress else None,
        "infotexts": task.infotexts,
        "params": _light_params(params),
    }


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


def _light_params(params: Dict[str, Any]) -> Dict[str, Any]:
    """The request as accepted, with input images replaced by their size: a task is
    polled every second and must not carry megabytes of base64 each time."""
    out = dict(params)
    if "init_images" in out:
        out["init_images"] = [f"<base64 image, {len(x)} chars>" for x in out["init_images"]]
    if out.get("mask"):
        out["mask"] = f"<base64 image, {len(out['mask'])} chars>"
    return out
