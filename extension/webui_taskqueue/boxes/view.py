"""The boxes that run the queue's tasks, as the page and the API show them: each box's
name, the model it has loaded and the task it runs.

Each box describes itself (`ThisBox.describe`): on Redis, its heartbeat carries that
record to the others every few seconds (store/redis/boxes.py); on SQLite there is one box,
this one, and its record is read live. Either way this box's own record is read live,
never a beat old.

Who sees what: an admin sees every box in full (the running task's id and owner, when
the box started, how many tasks it began). A user sees every box's name, loaded model
and whether it is busy, and the running task's id only when the task is theirs: as
GET /queue shows other people's tasks as anonymous entries with their checkpoint, a box
says which model it runs but never whose task or which one."""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, List, Optional

from ..records.users import User
from ..scheduling.planner import Planner
from ..store.contract import Store


class ThisBox:
    """This webui process among the boxes of a queue."""

    def __init__(self, name: str, worker, planner: Planner, clock: Callable[[], float] = time.time) -> None:
        self.name, self.worker, self.planner, self.clock = name, worker, planner, clock
        self.started_at = clock()

    def describe(self) -> Dict[str, Any]:
        """What this box says of itself: the model the scheduler counts as loaded (the
        running task's, else the one in memory), the task it runs, since when it runs."""
        loaded = self.planner.loaded()
        started, _ = self.worker.holder()
        return {"checkpoint": loaded[0] if loaded else None, "running": self.worker.running_id(),
                "started_at": self.started_at, "tasks_started": started}


class Boxes:
    """GET /boxes: every box alive, as the caller may see it."""

    def __init__(self, store: Store, this: ThisBox) -> None:
        self.store, self.this = store, this

    def records(self) -> Dict[str, Dict[str, Any]]:
        """name -> record (`seen_at`: when it last said so) of every box alive."""
        found = {name: dict(record) for name, record in self.store.boxes().items()}
        found[self.this.name] = {**found.get(self.this.name, {}), **self.this.describe(), "at": self.this.clock()}
        return found

    def listed(self, user: User) -> List[Dict[str, Any]]:
        records = self.records()
        running = [r.get("running") for r in records.values() if r.get("running")]
        owners = {task_id: task.owner for task_id in running for task in [self.store.get(task_id)] if task is not None}
        return [_public(name, record, owners.get(record.get("running") or ""), user, name == self.this.name)
                for name, record in sorted(records.items())]


def _public(name: str, record: Dict[str, Any], owner: Optional[str], user: User, this: bool) -> Dict[str, Any]:
    task_id = record.get("running")
    mine = task_id is not None and owner == user.name
    out = {"name": name, "this": this, "checkpoint": record.get("checkpoint"), "busy": task_id is not None,
           "running": task_id if (mine or user.is_admin) else None, "mine": mine}
    if user.is_admin:
        out.update(owner=owner if task_id else None, started_at=record.get("started_at"),
                   tasks_started=record.get("tasks_started"), seen_at=record.get("at"), url=record.get("url"))
    return out
