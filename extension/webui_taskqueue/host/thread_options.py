"""webui's options as every thread but the worker sees them while a task runs.

A task's model, VAE and `override_settings` reach webui the only way its code paths
take them: `process_images` writes them into the global options (`opts.set`) and
loads what the options name. Written there for all to see, webui's UI, its Settings
tab and `/sdapi/v1/options` would name the task's model while it runs: a person
generating in that moment would see B and get A, and a client that reads the options
and writes them back would make B everyone's default.

`ThreadOptions` replaces the dict behind `shared.opts.data`. While `private()` is
active, the writes of that one thread (the worker's: the task's settings, a script's
axes, a model load's own bookkeeping) go to an overlay that only that thread reads;
every other thread reads and writes the options as before. Leaving `private()` drops
the overlay: the options are exactly what everyone else left them, with no write to
undo (and no reload of the default model: the revert trap stays closed, because the
worker's own reads during the task see the task's model)."""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Dict, Iterator, Optional

_MISSING = object()


class ThreadOptions(dict):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._owner: Optional[int] = None  # the thread whose writes are private
        self._overlay: Dict[str, Any] = {}

    @contextlib.contextmanager
    def private(self) -> Iterator[None]:
        """For the calling thread: its writes stay its own until the block ends."""
        self._overlay, self._owner = {}, threading.get_ident()
        try:
            yield
        finally:
            self._owner, self._overlay = None, {}

    def _mine(self) -> bool:
        return self._owner is not None and self._owner == threading.get_ident()

    def __getitem__(self, key):
        if self._mine():
            value = self._overlay.get(key, _MISSING)
            if value is not _MISSING:
                return value
        return super().__getitem__(key)

    def get(self, key, default=None):
        if self._mine():
            value = self._overlay.get(key, _MISSING)
            if value is not _MISSING:
                return value
        return super().get(key, default)

    def __contains__(self, key) -> bool:
        return (self._mine() and key in self._overlay) or super().__contains__(key)

    def __setitem__(self, key, value) -> None:
        if self._mine():
            self._overlay[key] = value
        else:
            super().__setitem__(key, value)

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, *args, **kwargs) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value


def install(opts) -> ThreadOptions:
    """Put a ThreadOptions behind `opts.data` (again, if webui loaded its config anew)."""
    data = opts.data
    if not isinstance(data, ThreadOptions):
        data = ThreadOptions(data)
        object.__setattr__(opts, "data", data)  # Options.__setattr__ would treat "data" as a setting
    return data
