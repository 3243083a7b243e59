"""How often a person may read the queue's API: a bucket of reads per person, refilled
at a steady rate, kept in memory (on Redis each box keeps its own).

A read over the limit is refused with 429 and Retry-After, and that answer is held
until then (on the event loop, where waiting costs nothing): a script that ignores
Retry-After goes no faster than one that waits, and however many polls arrive, the
worker's time is not theirs. Admins are not limited: they watch everything."""

from __future__ import annotations

import math
import threading
import time
from typing import Callable, Dict, Tuple

from ..records.users import User

PER_SECOND, BURST = "task_queue_user_reads_per_second", "task_queue_user_reads_burst"
SETTINGS = {
    PER_SECOND: (5.0, "Per user: reads of the queue's API per second, on average (0: no limit; admins have none)"),
    BURST: (30, "Per user: reads of the queue's API at once before that limit applies (a page opening)"),
}
KEPT = 10000  # buckets (credentials) kept before the full ones (all) are let go


class TooFast(Exception):
    """Over the person's reads per second: answered 429 after `retry_after` seconds."""

    def __init__(self, retry_after: float, per_second: float) -> None:
        self.retry_after, self.per_second = retry_after, per_second
        super().__init__(f"over your limit of {per_second:g} reads a second "
                         f"({PER_SECOND}): try again in {self.header()} s")

    def header(self) -> str:
        """Retry-After: whole seconds, at least one."""
        return str(max(1, math.ceil(self.retry_after)))


class ReadRate:
    """Buckets by person. A request names its person only once the store was asked; so
    each credential (a key's digest, a login) remembers whose it was, and a read over
    the rate by a known credential is refused before any lookup: refusing costs nothing."""

    def __init__(self, limits: Callable[[], Tuple[float, float]], clock: Callable[[], float] = time.monotonic) -> None:
        """`limits()` -> (reads per second, burst), read on every read (Settings apply at once)."""
        self.limits, self.clock = limits, clock
        self._buckets: Dict[str, Tuple[float, float]] = {}  # name -> (reads left, when counted)
        self._known: Dict[str, User] = {}  # credential -> the person it was last found to be
        self._lock = threading.Lock()

    def before(self, credential: str) -> bool:
        """A read sent with `credential`, before it is looked up: counted (True) when
        its person is known; TooFast when they have no read left."""
        user = self._known.get(credential)
        if user is None:
            return False
        self._take(user)
        return True

    def after(self, credential: str, user: User, counted: bool) -> None:
        """The credential was found to be `user`'s: counted now if `before` could not."""
        if len(self._known) > KEPT:
            self._known.clear()
        self._known[credential] = user  # roles change: the latest lookup wins
        if not counted:
            self._take(user)

    def _take(self, user: User) -> None:
        if user.is_admin:
            return
        per_second, burst = self.limits()
        if per_second <= 0:
            return
        burst = max(1.0, float(burst))
        now = self.clock()
        with self._lock:
            left, at = self._buckets.get(user.name, (burst, now))
            left = min(burst, left + (now - at) * per_second)
            if left < 1:
                self._buckets[user.name] = (left, now)
                raise TooFast((1 - left) / per_second, per_second)
            self._buckets[user.name] = (left - 1, now)
            if len(self._buckets) > KEPT:
                self._let_go(now, per_second, burst)

    def _let_go(self, now: float, per_second: float, burst: float) -> None:
        """Forget the buckets that are full again: they start full anyway."""
        full = [name for name, (left, at) in self._buckets.items() if left + (now - at) * per_second >= burst]
        for name in full:
            del self._buckets[name]
