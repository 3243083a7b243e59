"""Which queued task runs next: pure functions of the queued tasks.

First come, first served for now; fair scheduling between users replaces `run_order`
and nothing else (the worker tries tasks in this order, skipping any cancelled meanwhile)."""

from __future__ import annotations

from typing import List, Sequence

from .tasks import Task


def run_order(queued: Sequence[Task]) -> List[Task]:
    """Queued tasks in the order they will run (the store gives submission order)."""
    return list(queued)


def positions(queued: Sequence[Task]) -> dict:
    """task_id -> 1-based place in the run order."""
    return {task.task_id: i for i, task in enumerate(run_order(queued), start=1)}
