"""The push part of the store contract: the event log that the event stream reads, and
the webhook outbox. Both are written in the same atomic step as the task change they
tell of (a task queued, started or ended), so a stream that resumes and a webhook that
is retried after a restart never miss one. `MemoryPush` is the in-memory half of
`MemoryStore`; `sqlite.push.SQLitePush` the durable one."""

from __future__ import annotations

import collections
import copy
import dataclasses
import secrets
from typing import Any, Dict, List, Optional, Sequence, Tuple

DEFAULT_CALLBACK = "default_callback_url:"  # + owner: a state record, a user's default webhook URL
EVENTS_KEPT = 10_000  # the window a reconnecting client can resume within

# kinds the store logs itself; the event hub adds position, progress and preview
SUBMITTED, POSITION, STARTED, PROGRESS, PREVIEW, FINAL = "submitted", "position", "started", "progress", "preview", "final"
KINDS = (SUBMITTED, POSITION, STARTED, PROGRESS, PREVIEW, FINAL)


@dataclasses.dataclass(frozen=True)
class Event:
    id: int  # grows with every event, never reused
    owner: str
    task_id: str
    kind: str
    data: Dict[str, Any]
    at: float


# (owner, task_id, kind, data) of an event to log
NewEvent = Tuple[str, str, str, Dict[str, Any]]


@dataclasses.dataclass
class Delivery:
    """One task's webhook: due from its final state until delivered or given up."""

    task_id: str
    owner: str
    url: str
    attempts: int = 0
    last_status: Optional[int] = None  # the receiver's HTTP status, None: no answer
    last_error: Optional[str] = None
    next_try_at: Optional[float] = None  # None: not due (not final yet, delivered, or given up)
    delivered_at: Optional[float] = None
    gave_up_at: Optional[float] = None


class PushStore:
    """The contract (mixed into `store.Store`)."""

    def append_events(self, events: Sequence[NewEvent], now: float) -> int:
        """Log events the store does not log itself (position, progress, preview), in
        one step; returns the newest id. Older events beyond the window are dropped."""
        raise NotImplementedError

    def events_after(self, after: int, owner: Optional[str] = None, limit: int = 500) -> List[Event]:
        """Events with an id above `after`, oldest first; one owner's, or everyone's."""
        raise NotImplementedError

    def event_bounds(self) -> Tuple[int, int]:
        """(oldest id kept, newest id); oldest = newest + 1 when none is kept. A client
        that saw id `n` resumes without a gap when oldest - 1 <= n <= newest."""
        raise NotImplementedError

    def delivery(self, task_id: str) -> Optional[Delivery]:
        raise NotImplementedError

    def claim_deliveries(self, now: float, lease: float, limit: int = 20) -> List[Delivery]:
        """Deliveries whose next try is due, soonest first, each held for the caller
        until `now + lease`: no caller (no box) gets one again before then, unless its
        try was recorded (`record_attempt`). One caller takes each, atomically; one that
        dies holding a claim leaves it to fall due again when the lease ends."""
        raise NotImplementedError

    def next_delivery_at(self) -> Optional[float]:
        """When the next delivery falls due, or its claim ends (None: none pending)."""
        raise NotImplementedError

    def record_attempt(self, task_id: str, now: float, status: Optional[int], error: Optional[str],
                       delivered: bool, next_try_at: Optional[float]) -> Delivery:
        """One try's outcome: delivered, due again at `next_try_at`, or (neither) given up."""
        raise NotImplementedError

    def webhook_secret(self, owner: str) -> str:
        """The key that signs `owner`'s webhooks, made on first use."""
        return self.secret(f"webhook:{owner}")

    def rotate_webhook_secret(self, owner: str) -> str:
        """A new key for `owner`'s webhooks; the old one stops signing at once."""
        raise NotImplementedError


class Leases:
    """Claims held in this process: the memory and SQLite stores serve one box, so a
    claim needs no record that outlives it (a restart finds every delivery unclaimed)."""

    def __init__(self) -> None:
        self._until: Dict[str, float] = {}

    def take(self, due: List[Delivery], now: float, lease: float, limit: int) -> List[Delivery]:
        """Of `due` (soonest first), those not held, now held until `now + lease`."""
        free = [d for d in due if self._until.get(d.task_id, float("-inf")) <= now][:limit]
        for delivery in free:
            self._until[delivery.task_id] = now + lease
        return free

    def due_at(self, delivery: Delivery) -> float:
        """When `delivery` (pending) may be taken: its next try, or its claim's end."""
        return max(delivery.next_try_at, self._until.get(delivery.task_id, float("-inf")))

    def release(self, task_id: str) -> None:
        self._until.pop(task_id, None)

    def __len__(self) -> int:
        return len(self._until)


def attempted(delivery: Delivery, now: float, status: Optional[int], error: Optional[str],
              delivered: bool, next_try_at: Optional[float]) -> Delivery:
    """`delivery` after one more try (both stores record it the same way)."""
    return dataclasses.replace(
        delivery, attempts=delivery.attempts + 1, last_status=status, last_error=error,
        next_try_at=None if delivered else next_try_at, delivered_at=now if delivered else None,
        gave_up_at=None if delivered or next_try_at is not None else now)


class MemoryPush(PushStore):
    """The in-memory event log and outbox; uses MemoryStore's `_lock` and `_secrets`."""

    def __init__(self) -> None:
        self._events: collections.deque = collections.deque(maxlen=EVENTS_KEPT)
        self._last_event = 0
        self._deliveries: Dict[str, Delivery] = {}
        self._leases = Leases()

    # called by MemoryStore with its lock held, in the step that changes the task
    def _log_locked(self, owner: str, task_id: str, kind: str, data: Dict[str, Any], now: float) -> int:
        self._last_event += 1
        self._events.append(Event(self._last_event, owner, task_id, kind, copy.deepcopy(data), now))
        return self._last_event

    def _ended_locked(self, task, now: float) -> None:
        """A task reached its final state: log it, and make its webhook due."""
        self._log_locked(task.owner, task.task_id, FINAL, {"task_id": task.task_id, "status": task.status.value}, now)
        if task.callback_url:
            self._deliveries[task.task_id] = Delivery(task.task_id, task.owner, task.callback_url, next_try_at=now)

    def append_events(self, events, now):
        with self._lock:
            for owner, task_id, kind, data in events:
                self._log_locked(owner, task_id, kind, data, now)
            return self._last_event

    def events_after(self, after, owner=None, limit=500):
        with self._lock:
            found = [e for e in self._events if e.id > after and (owner is None or e.owner == owner)]
            return found[:limit]

    def event_bounds(self):
        with self._lock:
            return (self._events[0].id if self._events else self._last_event + 1), self._last_event

    def delivery(self, task_id):
        with self._lock:
            return self._deliveries.get(task_id)

    def claim_deliveries(self, now, lease, limit=20):
        with self._lock:
            due = [d for d in self._deliveries.values() if d.next_try_at is not None and d.next_try_at <= now]
            return self._leases.take(sorted(due, key=lambda d: d.next_try_at), now, lease, limit)

    def next_delivery_at(self):
        with self._lock:
            return min((self._leases.due_at(d) for d in self._deliveries.values() if d.next_try_at is not None),
                       default=None)

    def record_attempt(self, task_id, now, status, error, delivered, next_try_at):
        with self._lock:
            found = attempted(self._deliveries[task_id], now, status, error, delivered, next_try_at)
            self._deliveries[task_id] = found
            self._leases.release(task_id)
            return found

    def rotate_webhook_secret(self, owner):
        with self._lock:
            self._secrets[f"webhook:{owner}"] = value = secrets.token_hex(32)
            return value

    def _forget_locked(self, task_id: str) -> None:
        """A deleted task takes its pending webhook with it."""
        self._deliveries.pop(task_id, None)
        self._leases.release(task_id)
