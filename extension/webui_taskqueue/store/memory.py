"""The reference implementation of the store contract (store.Store), in memory: what
the contract tests hold the durable stores (SQLite, Redis) to, and the store of unit tests."""

from __future__ import annotations

import copy
import dataclasses
import secrets
import threading
from typing import Any, Dict, List, Optional, Tuple

from ..records.tasks import InvalidTransition, Queued, Task, TaskStatus, check_transition
from ..records.users import KeyInfo, Usage, User, UserExists
from .contract import HOUR, Store, check_quota
from .inputs import split as split_inputs
from .live import MemoryLive
from .push import STARTED, SUBMITTED, MemoryPush


class MemoryStore(MemoryLive, MemoryPush, Store):
    def __init__(self) -> None:
        MemoryPush.__init__(self)
        self._lock = threading.Lock()
        self._tasks: Dict[str, Task] = {}  # insertion order is submission order
        self._flags: Dict[str, bool] = {}
        self._secrets: Dict[str, str] = {}
        self._users: Dict[str, User] = {}
        self._keys: Dict[str, Tuple[str, KeyInfo]] = {}  # digest -> (user name, info)
        self._submitted: List[Tuple[str, float]] = []  # (owner, time) within the last hour
        self._served: Dict[str, float] = {}
        self._state: Dict[str, Any] = {}
        self._inputs: Dict[str, List[str]] = {}  # task id -> its request's large values
        self._version = 0

    def add(self, task, max_queued=None, max_per_hour=None):
        with self._lock:
            if task.task_id in self._tasks:
                raise KeyError(f"task {task.task_id} exists")
            usage = self._usage(task.owner, task.created_at)
            check_quota(usage, max_queued, max_per_hour, self._oldest(task.owner, task.created_at), task.created_at)
            params, self._inputs[task.task_id] = split_inputs(copy.deepcopy(task.params))
            self._tasks[task.task_id] = dataclasses.replace(copy.deepcopy(task), params=params)
            self._submitted.append((task.owner, task.created_at))
            self._log_locked(task.owner, task.task_id, SUBMITTED, {"task_id": task.task_id, "status": "queued"}, task.created_at)
            self._version += 1

    def usage(self, owner, now):
        with self._lock:
            return self._usage(owner, now)

    def _usage(self, owner, now):
        self._submitted = [(o, t) for o, t in self._submitted if t > now - HOUR]
        queued = sum(t.owner == owner and t.status == TaskStatus.QUEUED for t in self._tasks.values())
        return Usage(queued=queued, last_hour=sum(o == owner for o, _ in self._submitted))

    def _oldest(self, owner, now):
        return min((t for o, t in self._submitted if o == owner and t > now - HOUR), default=None)

    def get(self, task_id: str) -> Optional[Task]:
        with self._lock:
            task = self._tasks.get(task_id)
            return copy.deepcopy(task) if task else None

    def inputs(self, task_id):
        with self._lock:
            return list(self._inputs.get(task_id, ()))

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
            self._inputs.pop(task_id, None)
            self._forget_locked(task_id)

    def images_of(self, task_ids):
        with self._lock:
            return {t: list(self._tasks[t].images) for t in task_ids if t in self._tasks}

    def get_flag(self, name: str) -> bool:
        with self._lock:
            return self._flags.get(name, False)

    def set_flag(self, name: str, value: bool) -> None:
        with self._lock:
            self._flags[name] = value

    def start(self, task_id, now, overtaken=(), due=(), box=None):
        with self._lock:
            task = self._transition_locked(task_id, TaskStatus.RUNNING, started_at=now, box=box)
            for other in self._tasks.values():
                if other.status == TaskStatus.QUEUED:
                    if other.task_id in overtaken:
                        other.overtaken += 1
                    if other.task_id in due and other.due_since is None:
                        other.due_since = now
            self._served[task.owner] = now
            self._log_locked(task.owner, task_id, STARTED, {"task_id": task_id, "status": "running"}, now)
            return task

    def queued_light(self):
        with self._lock:
            return [Queued(**{f.name: getattr(t, f.name) for f in dataclasses.fields(Queued)})
                    for t in self._tasks.values() if t.status == TaskStatus.QUEUED]

    def version(self):
        with self._lock:
            return self._version

    def served(self):
        with self._lock:
            return dict(self._served)

    def reorder(self, task_id, sort_order=None, priority=None):
        with self._lock:
            task = self._tasks.get(task_id)
            if task is None:
                raise KeyError(task_id)
            if task.status != TaskStatus.QUEUED:
                raise InvalidTransition(f"task {task_id} is {task.status.value}, not queued")
            if sort_order is not None:
                task.sort_order = sort_order
            if priority is not None:
                task.priority = priority
            self._version += 1
            return copy.deepcopy(task)

    def get_state(self, name):
        with self._lock:
            return copy.deepcopy(self._state.get(name))

    def set_state(self, name, value):
        with self._lock:
            self._state[name] = copy.deepcopy(value)

    def secret(self, name):
        with self._lock:
            return self._secrets.setdefault(name, secrets.token_hex(32))

    def add_user(self, user):
        with self._lock:
            if user.name in self._users:
                raise UserExists(user.name)
            self._users[user.name] = user

    def get_user(self, name):
        with self._lock:
            return self._users.get(name)

    def users(self):
        with self._lock:
            return sorted(self._users.values(), key=lambda u: u.name)

    def count_users(self, role=None):
        with self._lock:
            return sum(role is None or u.role == role for u in self._users.values())

    def update_user(self, name, role=None, limits=None):
        with self._lock:
            user = self._users[name]
            merged = {k: v for k, v in {**user.limits, **(limits or {})}.items() if v is not None}
            self._users[name] = dataclasses.replace(user, role=role or user.role, limits=merged)
            return self._users[name]

    def delete_user(self, name, now):
        with self._lock:
            del self._users[name]
            self._keys = {d: v for d, v in self._keys.items() if v[0] != name}
            ids = [t.task_id for t in self._tasks.values() if t.owner == name and t.status == TaskStatus.QUEUED]
        for task_id in ids:
            self.cancel(task_id, now)
        return ids

    def add_key(self, name, key_digest, prefix, now):
        with self._lock:
            if name not in self._users:
                raise KeyError(name)
            self._keys[key_digest] = (name, KeyInfo(prefix, now))

    def user_for_key(self, key_digest):
        with self._lock:
            found = self._keys.get(key_digest)
            return self._users.get(found[0]) if found else None

    def keys(self, name):
        with self._lock:
            return sorted((info for owner, info in self._keys.values() if owner == name), key=lambda k: k.created_at)

    def delete_key(self, name, prefix):
        with self._lock:
            found = [d for d, (owner, info) in self._keys.items() if owner == name and info.prefix == prefix]
            if not found:
                raise KeyError(prefix)
            for d in found:
                del self._keys[d]

    def _transition(self, task_id: str, new: TaskStatus, **changes) -> Task:
        with self._lock:
            return self._transition_locked(task_id, new, **changes)

    def _transition_locked(self, task_id: str, new: TaskStatus, **changes) -> Task:
        task = self._tasks.get(task_id)
        if task is None:
            raise KeyError(task_id)
        check_transition(task.status, new)
        self._tasks[task_id] = dataclasses.replace(task, status=new, **changes)
        if TaskStatus.QUEUED in (task.status, new):
            self._version += 1  # a running task's end leaves the queue as it was
        if new.is_final:
            self._ended_locked(self._tasks[task_id], changes.get("finished_at") or 0.0)
        return copy.deepcopy(self._tasks[task_id])
