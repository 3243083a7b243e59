"""The task record, its status vocabulary and the one table of allowed transitions."""

from __future__ import annotations

import dataclasses
import enum
from typing import Any, Dict, List, Optional

from .checkpoints import checkpoint_key


class TaskStatus(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset(
    {TaskStatus.DONE, TaskStatus.FAILED, TaskStatus.INTERRUPTED, TaskStatus.CANCELLED}
)

# Every status change goes through this table; stores check it atomically.
TRANSITIONS: Dict[TaskStatus, frozenset] = {
    TaskStatus.QUEUED: frozenset({TaskStatus.RUNNING, TaskStatus.CANCELLED}),
    TaskStatus.RUNNING: frozenset({TaskStatus.DONE, TaskStatus.FAILED, TaskStatus.INTERRUPTED}),
    TaskStatus.DONE: frozenset(),
    TaskStatus.FAILED: frozenset(),
    TaskStatus.INTERRUPTED: frozenset(),
    TaskStatus.CANCELLED: frozenset(),
}


class TaskType(str, enum.Enum):
    TXT2IMG = "txt2img"
    IMG2IMG = "img2img"


class InvalidTransition(Exception):
    """A status change the transition table does not allow (someone else got there first)."""


@dataclasses.dataclass
class Task:
    task_id: str
    type: TaskType
    owner: str
    checkpoint: str
    params: Dict[str, Any]
    created_at: float
    vae: Optional[str] = None
    status: TaskStatus = TaskStatus.QUEUED
    priority: int = 0
    started_at: Optional[float] = None
    finished_at: Optional[float] = None
    error: Optional[str] = None
    images: List[str] = dataclasses.field(default_factory=list)
    infotexts: List[str] = dataclasses.field(default_factory=list)
    # When webui's process_images was entered and left: the queue's own overhead is
    # the time between one task's process_finished_at and the next's process_started_at.
    process_started_at: Optional[float] = None
    process_finished_at: Optional[float] = None
    # what the scheduler reads (scheduler.Queued): the owner's own order (moves change
    # it), the expected work, and the fairness bookkeeping of the grouping bound
    sort_order: float = 0.0
    work: float = 1.0
    size: str = ""  # "<width>x<height>", for the queue view
    overtaken: int = 0
    due_since: Optional[float] = None
    callback_url: Optional[str] = None  # where its final state is POSTed (push/webhooks.py)
    box: Optional[str] = None  # the box (webui process) that ran it: several may share a queue

    @property
    def is_final(self) -> bool:
        return self.status.is_final


def check_transition(old: TaskStatus, new: TaskStatus) -> None:
    if new not in TRANSITIONS[old]:
        raise InvalidTransition(f"{old.value} -> {new.value} is not allowed")


@dataclasses.dataclass(frozen=True)
class Queued:
    """What the scheduler knows of a queued task: never its parameters."""

    task_id: str
    owner: str
    checkpoint: str
    vae: Optional[str]
    created_at: float
    work: float = 1.0  # width x height x steps x images, in megapixel-steps
    priority: int = 0
    sort_order: float = 0.0  # the owner's own order (moves change it); submission time at first
    overtaken: int = 0
    due_since: Optional[float] = None  # when it first stood at the head of the fair order
    type: str = "txt2img"
    size: str = ""

    def __post_init__(self) -> None:
        # not a field (the stores hold the fields): the checkpoint as models are compared
        object.__setattr__(self, "model", checkpoint_key(self.checkpoint))
