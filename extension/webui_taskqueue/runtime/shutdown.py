"""Stopping webui stops the queue first. `install(stop)` runs `stop` before whatever
SIGINT and SIGTERM did until then, and at interpreter exit, so that the running task is
recorded as stopped; then webui, or the system, goes on as it would have.

Without this, stopping webui v1.10.1 runs none of our code. With its UI, SIGINT (Ctrl+C)
ends it with os._exit(0) (initialize_util.configure_sigint_handler), and SIGTERM is left
to the system's default: no atexit, no callback. Under --nowebui, uvicorn holds both
signals while it serves; it shuts down gracefully, puts the handlers back and raises
the signal again, which then reaches ours."""

from __future__ import annotations

import atexit
import functools
import logging
import signal
import threading
from typing import Callable

log = logging.getLogger(__name__)

SIGNALS = (signal.SIGINT, signal.SIGTERM)

_installed = False
_stopping = threading.Event()


def install(stop: Callable[[], None]) -> bool:
    """From the main thread (webui's app_started callback), once per process: a UI
    reload runs the entry script again, and the first handlers stay."""
    global _installed
    if _installed or threading.current_thread() is not threading.main_thread():
        return False
    for signum in SIGNALS:
        signal.signal(signum, functools.partial(_on_signal, stop, signal.getsignal(signum)))
    atexit.register(_stop_once, stop)
    _installed = True
    return True


def _stop_once(stop: Callable[[], None]) -> None:
    if _stopping.is_set():
        return
    _stopping.set()
    try:
        stop()
    except Exception:
        log.exception("task queue: stopping")


def _on_signal(stop, previous, signum, frame) -> None:
    """A second signal while the queue stops goes straight on: a second Ctrl+C quits."""
    _stop_once(stop)
    if callable(previous):
        previous(signum, frame)
    elif previous == signal.SIG_DFL:
        signal.signal(signum, signal.SIG_DFL)
        signal.raise_signal(signum)
    # SIG_IGN, or a handler set outside Python (None): nothing more to do
