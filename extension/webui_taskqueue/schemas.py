"""The JSON shapes of the HTTP API (../../README.md, "API"). Plain pydantic models that
read the same under pydantic 1.10 (webui v1.10.1's pin) and pydantic 2."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any, Dict, List, Optional

from pydantic import BaseModel

from .service import TaskView
from .tasks import TaskStatus


class ProgressPublic(BaseModel):
    fraction: float
    step: int
    steps: int
    job_no: int
    job_count: int
    eta_seconds: Optional[float] = None


class TaskPublic(BaseModel):
    task_id: str
    type: str
    status: TaskStatus
    owner: str
    checkpoint: str
    vae: Optional[str] = None
    position: Optional[int] = None
    progress: Optional[ProgressPublic] = None
    created_at: str
    started_at: Optional[str] = None
    finished_at: Optional[str] = None
    process_started_at: Optional[str] = None
    process_finished_at: Optional[str] = None
    error: Optional[str] = None
    images: List[str] = []
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


class HealthPublic(BaseModel):
    status: str
    queued: int
    running: int
    paused: bool
    worker: str


def iso(t: Optional[float]) -> Optional[str]:
    if t is None:
        return None
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).isoformat().replace("+00:00", "Z")


def task_public(view: TaskView, prefix: str) -> Dict[str, Any]:
    task = view.task
    return {
        "task_id": task.task_id,
        "type": task.type.value,
        "status": task.status.value,
        "owner": task.owner,
        "checkpoint": task.checkpoint,
        "vae": task.vae,
        "position": view.position,
        "progress": dataclasses.asdict(view.progress) if view.progress else None,
        "created_at": iso(task.created_at),
        "started_at": iso(task.started_at),
        "finished_at": iso(task.finished_at),
        "process_started_at": iso(task.process_started_at),
        "process_finished_at": iso(task.process_finished_at),
        "error": task.error,
        "images": [f"{prefix}/tasks/{task.task_id}/images/{i}" for i in range(len(task.images))],
        "infotexts": task.infotexts,
        "params": _light_params(task.params),
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
