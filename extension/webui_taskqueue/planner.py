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
STALE_SECONDS = 1.0  # how old a plan may be while another thread makes the next one
SPEEDS = "speeds"


class Planner:
    def __init__(self, store: Store, host: Host, policy: Callable[[], Policy], clock: Callable[[], float] = time.time):
        self.store, self.host, self.policy, self.clock = store, host, policy, clock
        self.speeds = Speeds(store.get_state(SPEEDS))
        self.vae: Optional[str] = None  # the VAE of the last task (webui's setting before any)
        self._planning = threading.Lock()  # one thread plans at a time
        self._cache: Optional[tuple] = None  # (key, made at, plan): replaced whole, read without a lock

    def loaded(self) -> Optional[Model]:
        checkpoint = self.host.loaded_checkpoint()
        return (checkpoint, self.vae) if checkpoint else None

    def current(self, needs: Optional[str] = None) -> Plan:
        """The whole run order (with positions and times). From the cache while nothing
        changed; after a change, one thread plans again while the others keep answering
        from the plan before (for at most STALE_SECONDS), unless the plan lacks the task
        `needs` (just submitted): every poll costs a lookup, not a plan."""
        key = (self.store.version(), self.loaded(), self.policy())
        now = self.clock()
        cached = self._cache
        if cached is not None and cached[0] == key and now - cached[1] < REPLAN_SECONDS:
            return cached[2]
        usable = (cached is not None and now - cached[1] < STALE_SECONDS
                  and (needs is None or needs in cached[2].positions))
        if not self._planning.acquire(blocking=not usable):
            return cached[2]  # another thread is planning: the plan before will do
        try:
            cached = self._cache  # planned meanwhile by another thread?
            if cached is not None and cached[0] == key and (needs is None or needs in cached[2].positions):
                return cached[2]
            plan = scheduler.plan(self.store.queued_light(), key[1], now, key[2], self.store.served(), self.estimate)
            self._cache = (key, now, plan)
            return plan
        finally:
            self._planning.release()

    def next(self) -> Plan:
        """A fresh plan of the first pick only (the worker's), cheap at any length."""
        plan = scheduler.plan(self.store.queued_light(), self.loaded(), self.clock(), self.policy(),
                              self.store.served(), self.estimate, exact=1, tail=False)
        return plan

    def estimate(self, task: Queued, loaded: Optional[Model]) -> float:
        return self.speeds.estimate(task, loaded)

    def learn(self, checkpoint: str, work: float, seconds: float, switched: bool) -> None:
        self.speeds.learn(checkpoint, work, seconds, switched)
        self.store.set_state(SPEEDS, self.speeds.to_dict())
