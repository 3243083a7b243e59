"""Reading the next task's checkpoint into memory (the OS page cache) while the current
task generates, so that the switch loads from RAM instead of disk.

One background thread at the lowest CPU priority reads the file in chunks, pausing
between them, and only when the memory available leaves room for the whole file
with a margin: it never pushes the running generation out of memory."""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Callable, Optional, Union

log = logging.getLogger(__name__)

CHUNK = 8 * 1024 * 1024
MARGIN = 2 * 1024 ** 3  # memory left free after the file is cached


def available_memory() -> Optional[int]:
    """MemAvailable from /proc/meminfo, in bytes (None where there is none)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


class ReadAhead:
    def __init__(self, pause: float = 0.002, memory: Callable[[], Optional[int]] = available_memory) -> None:
        self.pause, self.memory = pause, memory
        self._cond = threading.Condition()
        self._wanted: Optional[str] = None
        self._thread: Optional[threading.Thread] = None
        self._stopping = False
        self.last: Optional[dict] = None  # what the last read did, for logs and tests

    def want(self, path: Union[str, Callable[[], Optional[str]]]) -> None:
        """Read `path` ahead (replacing any read not yet started); a callable is asked
        for the path on this object's thread, off the caller's way (None: nothing)."""
        with self._cond:
            self._wanted = path
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="task-queue-readahead", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()

    def _loop(self) -> None:
        try:  # the lowest priority for this thread alone (Linux: a thread is a task)
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        except (AttributeError, OSError):
            pass
        while True:
            with self._cond:
                while self._wanted is None and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                path, self._wanted = self._wanted, None
            try:
                if callable(path):
                    path = path()
                    if path is None:
                        continue
                self.last = self.read(path)
            except Exception as e:  # a file gone, a store closed at stop: the next wish will do
                log.info("task queue: read-ahead of %s failed: %s", path, e)

    def read(self, path: str) -> dict:
        size = os.path.getsize(path)
        free = self.memory()
        if free is not None and free < size + MARGIN:
            return {"path": path, "read": 0, "skipped": f"{free} bytes available, {size + MARGIN} needed"}
        started, done = time.monotonic(), 0
        buffer = bytearray(CHUNK)
        with open(path, "rb", buffering=0) as f:
            if hasattr(os, "posix_fadvise"):
                os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
            while True:
                with self._cond:
                    if self._stopping or (self._wanted is not None and self._wanted != path):
                        break  # a newer wish: that file matters more now
                n = f.readinto(buffer)
                if not n:
                    break
                done += n
                time.sleep(self.pause)
        return {"path": path, "read": done, "size": size, "seconds": round(time.monotonic() - started, 3)}
