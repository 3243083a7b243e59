"""Where the queue's state lives: tasks, users and their keys, flags, secrets.
`Store` spells out the whole contract; `memory.MemoryStore` is the reference
implementation, `sqlite.store.SQLiteStore` and `redis.store.RedisStore` the durable ones.
The same contract tests run against each."""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ..records.quotas import QuotaExceeded
from ..records.tasks import Queued, Task, TaskStatus
from ..records.users import KeyInfo, Role, Usage, User
from .live import LiveStore
from .push import PushStore

HOUR = 3600.0

RESTART_MESSAGE = "webui stopped while this task was running; it was not run again"


class Store(LiveStore, PushStore):
    """The contract. Status changes are atomic: each checks the transition table
    against the stored status and raises `InvalidTransition` when someone else won."""

    box: Optional[str] = None  # this process's name on a queue several boxes share (None: one box's store)
    box_error: Optional[str] = None  # why this box may not run tasks under its name (claim_box)
    # reads may wait on a network (a Redis server that hangs: seconds): never on the event
    # loop, where they would stall all of webui's HTTP; a local file's reads are quick
    reads_wait = False

    def add(self, task: Task, max_queued: Optional[int] = None, max_per_hour: Optional[int] = None) -> None:
        """Enqueue, checking the owner's counting limits in the same atomic step
        (QuotaExceeded); KeyError when a task of that id exists, nothing written. Every add counts towards the owner's last hour, even if the
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
        other boxes what `describe()` says of this one (boxes/view.py). A store of one
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


def check_quota(usage: Usage, max_queued: Optional[int], max_per_hour: Optional[int],
                oldest: Optional[float], now: float) -> None:
    """For `Store.add`: `oldest` is the owner's first submit within the last hour."""
    if max_queued and usage.queued >= max_queued:
        raise QuotaExceeded("max_queued", max_queued, usage)
    if max_per_hour and usage.last_hour >= max_per_hour:
        retry = max(1, int(oldest + HOUR - now) + 1) if oldest is not None else None
        raise QuotaExceeded("max_per_hour", max_per_hour, usage, retry)
