"""The scheduler's plan, kept between polls: recomputed only when the queue, the
loaded model or the settings change (or every few seconds, as waits grow), so a
status poll costs a dictionary lookup whatever is queued."""

from __future__ import annotations

import threading
import time
from typing import Callable, Optional

from . import scheduler
from .host import Host
from .scheduler import Model, Plan, Policy, Queued
from .speeds import Speeds
from .store import Store

REPLAN_SECONDS = 5.0  # the time bound of the grouping can change the order as time passes
STALE_SECONDS = 1.0  # how old a plan may be when only the worker moved on
SPEEDS = "speeds"


class Planner:
    def __init__(self, store: Store, host: Host, policy: Callable[[], Policy], clock: Callable[[], float] = time.time):
        self.store, self.host, self.policy, self.clock = store, host, policy, clock
        self.speeds = Speeds(store.get_state(SPEEDS))
        self.vae: Optional[str] = None  # the VAE of the last task (webui's setting before any)
        self._planning = threading.Lock()  # one thread plans at a time
        self._dirty = False
        self._cache: Optional[tuple] = None  # (key, made at, plan): replaced whole, read without a lock

    def loaded(self) -> Optional[Model]:
        checkpoint = self.host.loaded_checkpoint()
        return (checkpoint, self.vae) if checkpoint else None

    def current(self, needs: Optional[str] = None) -> Plan:
        """The whole run order (with positions and times). Planned again when someone
        changed the queue (`invalidate`), or the plan lacks the task `needs` (just
        submitted); when only the worker moved on, at most once per STALE_SECONDS, and
        by one thread while the others answer from the plan before. A poll costs a
        lookup, not a plan, whatever is queued."""
        key = (self.store.version(), self.loaded(), self.policy())
        now = self.clock()
        cached = self._cache
        if cached is not None and (needs is None or needs in cached[2].positions) and not self._dirty:
            age = now - cached[1]
            if (cached[0] == key and age < REPLAN_SECONDS) or age < STALE_SECONDS:
                return cached[2]
        usable = cached is not None and not self._dirty and (needs is None or needs in cached[2].positions)
        if not self._planning.acquire(blocking=not usable):
            return cached[2]  # another thread is planning: the plan before will do
        try:
            cached = self._cache  # planned meanwhile by another thread?
            if cached is not None and cached[0] == key and not self._dirty and (needs is None or needs in cached[2].positions):
                return cached[2]
            self._dirty = False
            plan = scheduler.plan(self.store.queued_light(), key[1], now, key[2], self.store.served(), self.estimate)
            self._cache = (key, now, plan)
            return plan
        finally:
            self._planning.release()

    def invalidate(self) -> None:
        """Someone changed the order (submit, move, cancel): the next read plans anew."""
        self._dirty = True

    def next(self, loaded: Optional[Model] = None) -> Plan:
        """A fresh plan of the first pick only (the worker's), cheap at any length;
        `loaded`: as if this model were in memory (default: the one that is)."""
        return scheduler.plan(self.store.queued_light(), loaded or self.loaded(), self.clock(), self.policy(),
                              self.store.served(), self.estimate, exact=1, tail=False)

    def estimate(self, task: Queued, loaded: Optional[Model]) -> float:
        return self.speeds.estimate(task, loaded)

    def learn(self, checkpoint: str, work: float, seconds: float, switched: bool) -> None:
        self.speeds.learn(checkpoint, work, seconds, switched)
        self.store.set_state(SPEEDS, self.speeds.to_dict())
