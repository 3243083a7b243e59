"""webui's queue_lock type: waiters are woken in arrival order; not re-entrant."""

import collections
import threading


class FIFOLock:
    """A plain (non-re-entrant) lock plus a queue of wake-up events.

    As in webui: release() wakes the oldest waiter and frees the lock; the woken thread
    then takes it with a blocking acquire. A thread that calls acquire() in that short
    gap can take it first (webui's lock has the same gap), so a loop that releases and
    re-acquires at once can starve the waiters."""

    def __init__(self):
        self._lock = threading.Lock()
        self._guard = threading.Lock()
        self._waiters = collections.deque()

    def acquire(self, blocking=True):
        with self._guard:
            if self._lock.acquire(False):
                return True
            if not blocking:
                return False
            turn = threading.Event()
            self._waiters.append(turn)
        turn.wait()
        return self._lock.acquire()

    def release(self):
        with self._guard:
            if self._waiters:
                self._waiters.popleft().set()
            self._lock.release()

    __enter__ = acquire

    def __exit__(self, *exc):
        self.release()
