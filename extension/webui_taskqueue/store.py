"""Where the queue's state lives: tasks, users and their keys, flags, secrets.
`Store` spells out the whole contract; `MemoryStore` is the reference implementation,
`sqlite_store.SQLiteStore` the durable one. The same contract tests run against both."""

from __future__ import annotations

import copy
import dataclasses
import secrets
import threading
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from .inputs import split as split_inputs
from .live_store import LiveStore, MemoryLive
from .push_store import STARTED, SUBMITTED, MemoryPush, PushStore
from .quotas import QuotaExceeded
from .scheduler import Queued
from .tasks import InvalidTransition, Task, TaskStatus, check_transition
from .users import KeyInfo, Role, Usage, User, UserExists

HOUR = 3600.0

RESTART_MESSAGE = "webui stopped while this task was running; it was not run again"


class Store(LiveStore, PushStore):
    """The contract. Status changes are atomic: each checks the transition table
    against the stored status and raises `InvalidTransition` when someone else won."""

    box: Optional[str] = None  # this process's name on a queue several boxes share (None: one box's store)
    box_error: Optional[str] = None  # why this box may not run tasks under its name (claim_box)

    def add(self, task: Task, max_queued: Optional[int] = None, max_per_hour: Optional[int] = None) -> None:
        """Enqueue, checking the owner's counting limits in the same atomic step
        (QuotaExceeded). Every add counts towards the owner's last hour, even if the
        task is deleted later. The request's large values are kept apart (`inputs`):
        tasks read back carry a reference in their place."""
        raise NotImplementedError

    def inputs(self, task_id: str) -> List[str]:
        """The large values of a task's request, for `inputs.join` (empty if none)."""
        raise NotImplementedError

    def usage(self, owner: str, now: float) -> Usage:
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

    def running(self) -> List[Task]:
        return self._with_status(TaskStatus.RUNNING)

    def count(self, status: TaskStatus) -> int:
        """How many tasks are in `status`, without reading them (the worker's wake-up check)."""
        raise NotImplementedError

    def start(self, task_id: str, now: float, overtaken: Sequence[str] = (), due: Sequence[str] = (),
              box: Optional[str] = None) -> Task:
        """queued -> running on `box`, in one step with the scheduler's bookkeeping: the
        queued tasks it `overtaken` count one more overtake, those newly at the head of
        the fair order get `due_since` = now, and the owner was served now."""
        raise NotImplementedError

    def queued_light(self) -> List[Queued]:
        """The scheduler's view of the queued tasks, in submission order: no params.
        Must cost little whatever is queued: it is read on every pick and poll."""
        raise NotImplementedError

    def version(self) -> int:
        """Changes whenever queued tasks or their scheduling fields change."""
        raise NotImplementedError

    def served(self) -> Dict[str, float]:
        """owner -> when their last task started."""
        raise NotImplementedError

    def reorder(self, task_id: str, sort_order: Optional[float] = None, priority: Optional[int] = None) -> Task:
        """Change a queued task's own order and/or priority; InvalidTransition if it is
        no longer queued."""
        raise NotImplementedError

    def get_state(self, name: str) -> Optional[Any]:
        """A small JSON record of the queue's (e.g. learned speeds), or None."""
        raise NotImplementedError

    def set_state(self, name: str, value: Any) -> None:
        raise NotImplementedError

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

    def images_of(self, task_ids: Sequence[str]) -> Dict[str, List[str]]:
        """The images each of these tasks lists, for those that exist (recovery compares
        them with the folders on disk). Reads no params: cheap for thousands of ids."""
        raise NotImplementedError

    def get_flag(self, name: str) -> bool:
        raise NotImplementedError

    def set_flag(self, name: str, value: bool) -> None:
        raise NotImplementedError

    def secret(self, name: str) -> str:
        """A random secret of the installation (e.g. for signed URLs), made on first use."""
        raise NotImplementedError

    # ---- users and keys ---------------------------------------------------------------

    def add_user(self, user: User) -> None:
        """UserExists when the name is taken."""
        raise NotImplementedError

    def get_user(self, name: str) -> Optional[User]:
        raise NotImplementedError

    def users(self) -> List[User]:
        """Every user, by name."""
        raise NotImplementedError

    def count_users(self, role: Optional[Role] = None) -> int:
        raise NotImplementedError

    def update_user(self, name: str, role: Optional[Role] = None, limits: Optional[Dict[str, Any]] = None) -> User:
        """Change the role and/or merge `limits` (a None value drops that limit: the
        default applies again). KeyError for an unknown user."""
        raise NotImplementedError

    def delete_user(self, name: str, now: float) -> List[str]:
        """The user and all their keys go; their queued tasks are cancelled (ids returned)."""
        raise NotImplementedError

    def add_key(self, name: str, key_digest: str, prefix: str, now: float) -> None:
        raise NotImplementedError

    def user_for_key(self, key_digest: str) -> Optional[User]:
        raise NotImplementedError

    def keys(self, name: str) -> List[KeyInfo]:
        raise NotImplementedError

    def delete_key(self, name: str, prefix: str) -> None:
        """KeyError when the user has no key with that prefix."""
        raise NotImplementedError

    def attach(self, wake: Callable[[], None], describe: Callable[[], Dict[str, Any]] = dict) -> None:
        """This process's worker joins the queue: call `wake` (from a thread of the
        store's) when another process queues a task or resumes the queue, and tell the
        other boxes what `describe()` says of this one (boxes.py). A store of one
        process does nothing: its own writers wake the worker."""

    def boxes(self) -> Dict[str, Dict[str, Any]]:
        """The boxes alive that share this queue: name -> what each last said of
        itself, with `at` (when). A store of one process knows of none but its own."""
        return {}

    def claim_box(self, now: float) -> Optional[str]:
        """Make `box` this process's name on the queue before its worker starts: None
        when it is (a store of one box: always), else why not (another live box holds
        it: two workers under one name would fail each other's tasks). Kept as
        `box_error`; ask again later, the other box may stop."""
        return None

    def close(self) -> None:
        pass

    def _with_status(self, status: TaskStatus) -> List[Task]:
        """Tasks in one status, in submission order."""
        raise NotImplementedError

    def _transition(self, task_id: str, new: TaskStatus, **changes) -> Task:
        raise NotImplementedError


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


def check_quota(usage: Usage, max_queued: Optional[int], max_per_hour: Optional[int],
                oldest: Optional[float], now: float) -> None:
    """For `Store.add`: `oldest` is the owner's first submit within the last hour."""
    if max_queued and usage.queued >= max_queued:
        raise QuotaExceeded("max_queued", max_queued, usage)
    if max_per_hour and usage.last_hour >= max_per_hour:
        retry = max(1, int(oldest + HOUR - now) + 1) if oldest is not None else None
        raise QuotaExceeded("max_per_hour", max_per_hour, usage, retry)
