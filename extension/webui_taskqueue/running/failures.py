"""Failures in a row. When every task fails (webui's GPU gone, the disk full), running
the rest of the queue would only fail it too: after `limit()` failures one after
another the queue pauses itself and keeps the reason. A task that ends done clears
the streak; an interrupted one leaves it as it was. The streak, the last errors and
the reason live in the store (state FAILURES, flag PAUSED), so a restart keeps them;
an admin's resume clears them."""

from __future__ import annotations

import threading
from typing import Callable, Optional

from ..records.tasks import Task, TaskStatus
from ..store.contract import Store

PAUSED = "paused"  # the store flag: nothing new starts while it is set
FAILURES = "failures"  # the store state: {"streak": n, "errors": [...], "reason": str | None}
KEEP = 3  # the last errors kept and shown
ERROR_CHARS = 300  # of each error, as shown


class FailureStreak:
    def __init__(self, store: Store, limit: Callable[[], int]) -> None:
        """`limit`: failures in a row that pause the queue (0: never); read on each failure."""
        self.store, self.limit = store, limit
        self._lock = threading.Lock()  # the worker records while an admin may resume

    def record(self, task: Task) -> Optional[str]:
        """After the worker recorded `task`'s end: the reason when this failure paused the queue."""
        if task.status not in (TaskStatus.DONE, TaskStatus.FAILED):
            return None
        with self._lock:
            state = self.store.get_state(FAILURES) or {}
            if task.status == TaskStatus.DONE:
                if state.get("streak"):
                    self.store.set_state(FAILURES, None)
                return None
            streak = int(state.get("streak", 0)) + 1
            errors = ([_cut(task.error or "failed without a message")] + list(state.get("errors", [])))[:KEEP]
            limit = max(0, int(self.limit()))
            reason = state.get("reason")
            pause = limit > 0 and streak >= limit and not self.store.get_flag(PAUSED)
            if pause:
                what = "a task failed" if streak == 1 else f"{streak} tasks failed in a row"
                reason = f"paused itself after {what}; the last error: {errors[0]}"
            self.store.set_state(FAILURES, {"streak": streak, "errors": errors, "reason": reason})
            if pause:
                self.store.set_flag(PAUSED, True)  # after the reason: whoever sees the flag finds it
            return reason if pause else None

    def clear(self) -> None:
        """An admin resumed the queue: the streak starts again from nothing."""
        with self._lock:
            self.store.set_state(FAILURES, None)

    def summary(self) -> dict:
        """For /health: the streak, the last errors, and why the queue paused itself
        (None when it is not paused, or an admin paused it)."""
        state = self.store.get_state(FAILURES) or {}
        paused = self.store.get_flag(PAUSED)
        return {
            "failures_in_a_row": int(state.get("streak", 0)),
            "last_errors": list(state.get("errors", [])),
            "paused_reason": state.get("reason") if paused else None,
        }


def _cut(text: str) -> str:
    return text if len(text) <= ERROR_CHARS else text[: ERROR_CHARS - 1] + "…"
