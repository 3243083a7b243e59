"""The scheduler's plan, kept between polls. Nobody waits for a plan unless it lacks
their own task (one just submitted) or they just reordered the queue themselves: when
the worker starts the task the plan foresaw, the plan moves on by one
(`Plan.advanced`); when anything else changed (someone's submit or move, the clock, a
native job's model, a pick the plan did not foresee), callers answer from the plan
before while one background thread plans again. So a status poll costs a lookup
whatever is queued, and many submits at once cost one plan."""

from __future__ import annotations

import threading
import time
from typing import Callable, Dict, List, NamedTuple, Optional

from ..host.contract import Host
from ..records.checkpoints import Model, model_key
from ..records.tasks import Queued, Task
from ..store.contract import Store
from . import policy as scheduler
from .policy import Plan, Policy
from .speeds import Speeds

REPLAN_SECONDS = 5.0  # the time bound of the grouping can change the order as time passes
STALE_SECONDS = 1.0  # at most one background plan per this, when only time or the worker moved on
DIRTY_SECONDS = 0.25  # ... and per this when someone changed the order
SPEEDS = "speeds"


def speeds_record(store: Store) -> str:
    """The store's record of the learned speeds: they are one GPU's, so on a queue that
    several boxes share each box keeps its own; a box alone keeps the one it always had."""
    return SPEEDS if store.box is None else f"{SPEEDS}:{store.box}"


class _Cached(NamedTuple):
    key: tuple  # (store version, loaded model, policy) it was made for
    made: float
    plan: Plan


class _Listing(NamedTuple):
    """The queued tasks by owner, each list in its owner's order, as of a store version."""

    version: int
    lists: Dict[str, List[Queued]]


class Planner:
    def __init__(self, store: Store, host: Host, policy: Callable[[], Policy], clock: Callable[[], float] = time.time):
        self.store, self.host, self.policy, self.clock = store, host, policy, clock
        self.speeds = Speeds(store.get_state(speeds_record(store)))
        self.vae: Optional[str] = None  # the VAE of the last task (webui's setting before any)
        self._running: Optional[Model] = None  # the model of the running task: loaded when the next one starts
        self._planning = threading.Lock()  # one thread plans at a time
        self._dirty = False
        self._cache: Optional[_Cached] = None  # replaced whole, read without a lock
        self._picked_at = -1  # store version when the worker last asked for its pick
        self._pick: Optional[Plan] = None  # ... and that pick
        self._listing: Optional[_Listing] = None  # replaced whole, read without a lock
        self._swap = threading.Lock()  # a plan landing and a start moving the plan on: one at a time
        self._last_start: Optional[tuple] = None  # (version picked at, task id, version after, its model)
        self._background_at = float("-inf")

    def loaded(self) -> Optional[Model]:
        if self._running is not None:
            return self._running
        checkpoint = self.host.loaded_checkpoint()
        return (checkpoint, self.vae) if checkpoint else None

    def current(self, needs: Optional[str] = None, fresh: bool = False) -> Plan:
        """The whole run order (with positions and times). `needs`: a queued task the
        plan must hold (one just submitted, perhaps by another process); `fresh`: the
        caller changed the order itself (a move) and must see its effect. Otherwise a
        change by someone else shows after one background plan: many submits and
        polls at once cost one plan, not one each."""
        key = self._key()
        now = self.clock()
        cached = self._cache
        if cached is not None and (needs is None or cached.plan.position(needs) is not None) and not (fresh and self._dirty):
            stale = cached.key != key or now - cached.made >= REPLAN_SECONDS
            if (self._dirty or stale) and now - self._background_at >= (DIRTY_SECONDS if self._dirty else STALE_SECONDS):
                self._plan_in_background(now)
            return cached.plan
        with self._planning:
            cached = self._cache  # planned meanwhile by another thread, with this task in it?
            if (cached is not None and needs is not None and cached.plan.position(needs) is not None
                    and not (fresh and self._dirty)):
                return cached.plan
            return self._plan(key, now)

    def _key(self) -> tuple:
        """What a plan is made for: the queue's version, the loaded model (its title
        less the hash webui adds at its first load: the same model either way), the policy."""
        return (self.store.version(), model_key(self.loaded()), self.policy())

    def holds(self, task_id: str) -> bool:
        """`current(needs=task_id)` would answer at once, without planning."""
        cached = self._cache
        return cached is not None and cached.plan.position(task_id) is not None

    def _plan(self, key: tuple, now: float) -> Plan:
        """With `_planning` held."""
        self._dirty = False  # a change from here on marks the new plan dirty again
        plan = scheduler.plan(self.store.queued_light(), key[1], now, key[2], self.store.served(), self.estimate)
        with self._swap:  # the worker may have started the task it foresaw meanwhile: then it moves on
            made = _Cached(key, now, plan)
            made = self._cache = self._moved_on(made) or made
        if self.store.version() != made.key[0]:
            self._background_at = float("-inf")  # the queue moved while planning: the next poll plans again
        return made.plan

    def _plan_in_background(self, now: float) -> None:
        if not self._planning.acquire(blocking=False):
            return  # someone is planning already
        self._background_at = now

        def run() -> None:
            try:
                self._plan(self._key(), self.clock())
            finally:
                self._planning.release()

        threading.Thread(target=run, name="task-queue-planner", daemon=True).start()

    def invalidate(self) -> None:
        """Someone changed the order (submit, move, cancel): the next read plans anew."""
        self._dirty = True

    def started(self, task: Task) -> None:
        """The worker started `task` (picked by `next`): until it ends, the model it
        runs on is the one loaded for the next pick, and a plan that foresaw this
        pick moves on by one instead of being planned again."""
        self._running = (task.checkpoint, task.vae if task.vae is not None else self.vae)
        listing, pick = self._listing, self._pick
        if (listing is not None and pick is not None and listing.version == self._picked_at
                and pick.order and pick.order[0].task_id == task.task_id
                and self.store.version() == self._picked_at + 1):  # the start's own change, and nothing else
            lists = scheduler.after_start(listing.lists, pick, task.started_at, self.policy())
            self._listing = _Listing(self._picked_at + 1, lists)
        with self._swap:
            self._last_start = (self._picked_at, task.task_id, self.store.version(), model_key(self._running))
            self._cache = self._moved_on(self._cache) or self._cache

    def _moved_on(self, cached: Optional[_Cached]) -> Optional[_Cached]:
        """`cached` moved on by the last start, if it was made before it and foresaw it."""
        start = self._last_start
        if cached is None or start is None or cached.key[0] != start[0]:
            return None
        advanced = cached.plan.advanced(start[1])
        return None if advanced is None else _Cached((start[2], start[3], cached.key[2]), cached.made, advanced)

    def ended(self, task: Task) -> None:
        if task.vae is not None:
            self.vae = task.vae
        self._running = None

    def next(self, loaded: Optional[Model] = None) -> Plan:
        """A fresh plan of the first pick only (the worker's); `loaded`: as if this
        model were in memory (default: the one that is, and then this is the worker's
        pick, which `started` follows). It reads each owner's first few tasks of a
        listing sorted once per change of the queue; the worker's own start does not
        count as one (`started` takes it out), so a pick costs the same at any length."""
        version = self.store.version()  # before the listing: a change in between shows as a newer version
        listing = self._listing
        if listing is None or listing.version != version:
            listing = self._listing = _Listing(version, scheduler.by_owner(self.store.queued_light()))
        policy = self.policy()
        plan = scheduler.plan(scheduler.heads(listing.lists, policy), loaded or self.loaded(), self.clock(), policy,
                              self.store.served(), self.estimate, exact=1, tail=False)
        if loaded is None:
            self._picked_at, self._pick = version, plan
        return plan

    def estimate(self, task: Queued, loaded: Optional[Model]) -> float:
        return self.speeds.estimate(task, loaded)

    def learn(self, checkpoint: str, work: float, seconds: float, switched: bool) -> None:
        self.speeds.learn(checkpoint, work, seconds, switched)
        self.store.set_state(speeds_record(self.store), self.speeds.to_dict())
