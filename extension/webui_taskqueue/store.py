"""Where tasks live. `Store` spells out the whole contract; `MemoryStore` is the
reference implementation, `sqlite_store.SQLiteStore` the durable one. The same
contract tests run against both."""

from __future__ import annotations

import copy
import dataclasses
import threading
from typing import Dict, List, Optional, Sequence, Tuple

from .tasks import Task, TaskStatus, check_transition

RESTART_MESSAGE = "webui stopped while this task was running; it was not run again"


class Store:
    """The contract. Status changes are atomic: each checks the transition table
    against the stored status and raises `InvalidTransition` when someone else won."""

    def add(self, task: Task) -> None:
        raise NotImplementedError

    def get(self, task_id: str) -> Optional[Task]:
        raise NotImplementedError

    def list(
        self,
        owner: Optional[str] = None,
        statuses: Sequence[TaskStatus] = (),
        limit: int = 50,
        offset: int = 0,
    ) -> Tuple[List[Task], int]:
        """Tasks newest first, and how many match in all."""
        raise NotImplementedError

    def queued(self) -> List[Task]:
        """Queued tasks in submission order (the scheduler decides the run order)."""
        return self._with_status(TaskStatus.QUEUED)

    def running(self) -> List[Task]:
        return self._with_status(TaskStatus.RUNNING)

    def count(self, status: TaskStatus) -> int:
        """How many tasks are in `status`, without reading them (the worker's wake-up check)."""
        raise NotImplementedError

    def start(self, task_id: str, now: float) -> Task:
        return self._transition(task_id, TaskStatus.RUNNING, started_at=now)

    def cancel(self, task_id: str, now: float) -> Task:
        return self._transition(task_id, TaskStatus.CANCELLED, finished_at=now)

    def finish(self, task_id: str, status: TaskStatus, now: float, **outcome) -> Task:
        """running -> done / failed / interrupted, with images, infotexts, error, timings."""
        return self._transition(task_id, status, finished_at=now, **outcome)

    def delete(self, task_id: str) -> None:
        raise NotImplementedError

    def recover(self, now: float) -> List[str]:
        """At start: tasks left `running` by a dead process are marked failed, never re-run."""
        ids = [t.task_id for t in self.running()]
        for task_id in ids:
            self.finish(task_id, TaskStatus.FAILED, now, error=RESTART_MESSAGE)
        return ids

    def get_flag(self, name: str) -> bool:
        raise NotImplementedError

    def set_flag(self, name: str, value: bool) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def _with_status(self, status: TaskStatus) -> List[Task]:
        """Tasks in one status, in submission order."""
        raise NotImplementedError

    def _transition(self, task_id: str, new: TaskStatus, **changes) -> Task:
        raise NotImplementedError


class MemoryStore(Store):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tasks: Dict[str, Task] = {}  # insertion order is submission order
        self._flags: Dict[str, bool] = {}

    def add(self, task: Task) -> None:
        with self._lock:
            if task.task_id in self._tasks:
                raise KeyError(f"task {task.task_id} exists")
            self._tasks[task.task_id] = copy.deepcopy(task)

    def get(self, task_id: str) -> Optional[Task]:
        with self._lock:
            task = self._tasks.get(task_id)
            return copy.deepcopy(task) if task else None

    def list(self, owner=None, statuses=(), limit=50, offset=0):
        with self._lock:
            found = [
                t
                for t in reversed(list(self._tasks.values()))
                if (owner is None or t.owner == owner) and (not statuses or t.status in statuses)
            ]
            return copy.deepcopy(found[offset : offset + limit]), len(found)

    def count(self, status: TaskStatus) -> int:
        with self._lock:
            return sum(t.status == status for t in self._tasks.values())

    def _with_status(self, status: TaskStatus) -> List[Task]:
        with self._lock:
            return [copy.deepcopy(t) for t in self._tasks.values() if t.status == status]

    def delete(self, task_id: str) -> None:
        with self._lock:
            task = self._tasks.get(task_id)
            if task is None:
                raise KeyError(task_id)
            if not task.is_final:
                raise ValueError(f"task {task_id} is {task.status.value}")
            del self._tasks[task_id]

    def get_flag(self, name: str) -> bool:
        with self._lock:
            return self._flags.get(name, False)

    def set_flag(self, name: str, value: bool) -> None:
        with self._lock:
            self._flags[name] = value

    def _transition(self, task_id: str, new: TaskStatus, **changes) -> Task:
        with self._lock:
            task = self._tasks.get(task_id)
            if task is None:
                raise KeyError(task_id)
            check_transition(task.status, new)
            self._tasks[task_id] = dataclasses.replace(task, status=new, **changes)
            return copy.deepcopy(self._tasks[task_id])
