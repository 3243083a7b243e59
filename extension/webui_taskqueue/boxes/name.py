"""A box that finds its name held by another live box on the shared queue (Redis) does
not start its worker: two workers under one name would fail each other's tasks at
start. It asks again now and then; once the name is free (the other box stopped and its
record expired), it settles what it left running and starts its worker, as at start."""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from ..store.contract import Store

log = logging.getLogger(__name__)

ASK_SECONDS = 2.0


class NameWait:
    def __init__(self, store: Store, begin: Callable[[], None], ask_seconds: float = ASK_SECONDS) -> None:
        """`begin`: what the box does once the name is its own (recover, start the worker)."""
        self.store, self.begin, self.ask_seconds = store, begin, ask_seconds
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="task-queue-box-name", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(5)

    def _loop(self) -> None:
        while not self._stopping.wait(self.ask_seconds):
            try:
                if self.store.claim_box(time.time()) is None:
                    break
            except Exception as e:  # Redis out of reach: ask again
                log.warning("task queue: cannot ask whether this box's name is free (%s)", e)
        else:
            return
        log.info("task queue: the name %r is this box's now; its worker starts", self.store.box)
        self.begin()
