"""Boxes sharing one queue in Redis: each tells the others it is alive (a key that
expires unless renewed), and a task running on a box that stopped telling is marked
failed, never run again, once: by whichever box notices first (one script, REAP).

A box that starts again fails the tasks it left running (as the SQLite store does at
start), and only those: the other boxes' running tasks go on."""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any, Callable, Dict, List, Optional

from ..contract import RESTART_MESSAGE

log = logging.getLogger(__name__)

ALIVE_SECONDS = 30.0  # how long a box counts as alive after it last said so (a setting)
BEATS = 6  # times a box says so within that time


def held_message(box: str, held: Dict[str, Any], now: float) -> str:
    ago = f" {max(0.0, now - held['at']):.0f} s ago" if isinstance(held.get("at"), (int, float)) else ""
    return (f"task queue: another box named {box!r} is alive on this queue (it said so{ago}); this box's worker "
            f"does not start until that name is free: give each box a name of its own (Settings > Task queue > "
            f"Box name, or TASK_QUEUE_BOX)")


def _record(text: str) -> Dict[str, Any]:
    try:
        found = json.loads(text)
    except ValueError:
        found = None
    return found if isinstance(found, dict) else {}


def stopped_message(box: str) -> str:
    return f"box {box} stopped while this task ran; it was not run again"


class RedisBoxes:
    """Mixed into RedisStore: uses its `_redis`, `_k`, `_run`, `box`, `box_url` and `alive`."""

    _describe: Callable[[], Dict[str, Any]] = dict  # what this box says of itself (attach sets it)

    def recover(self, now):
        return self._reap(now, starting=True)

    def reap(self, now: float) -> List[str]:
        """Mark failed the running tasks of boxes that stopped saying they are alive."""
        return self._reap(now, starting=False)

    def _reap(self, now: float, starting: bool) -> List[str]:
        before, after = stopped_message("\0").split("\0")
        return list(self._run("reap", json.dumps(now), json.dumps(self.box), "1" if starting else "0",
                              json.dumps(RESTART_MESSAGE), before, after))

    def beat(self, now: float, alive: Optional[float] = None) -> Optional[Dict[str, Any]]:
        """This box is alive, for `alive` seconds more (the store's setting), with what
        it says of itself (`describe`, given to attach: its model, its task). None, or
        the record of another live process that holds this box's name (not renewed)."""
        record = {**self._describe(), "at": now}
        if self.box_url:  # where the other boxes fetch the images this one made
            record["url"] = self.box_url
        record["token"] = self._token  # this process: another with the same name is not it
        held = self._run("claim_box", self.box, self._token, json.dumps(record),
                         max(1, int((alive or self.alive) * 1000)))
        return None if held is None else _record(held)

    def claim_box(self, now):
        """The name is this process's while it says it is alive (beat); another live
        process under the same name holds it until its record expires."""
        held = self.beat(now) if self.box is not None else None
        self.box_error = None if held is None else held_message(self.box, held, now)
        return self.box_error

    def boxes(self) -> Dict[str, Any]:
        """The boxes alive: name -> what each last said."""
        names = sorted(self._redis.smembers(self._k("boxes")))
        found = dict(zip(names, self._redis.mget([self._k("box", n) for n in names]))) if names else {}
        gone = [n for n, v in found.items() if v is None]
        if gone:
            self._redis.srem(self._k("boxes"), *gone)
        return {n: {k: x for k, x in _record(v).items() if k != "token"} for n, v in found.items() if v is not None}

    def _keep_alive(self, stopping: threading.Event) -> None:
        """The heartbeat thread's loop: say it, and look for stopped boxes. When Redis
        was out of reach (a restart), the other boxes' records may have expired while
        none could renew them, and the client may have hidden the outage by sending
        again: after any gap between two of its own beats, this box looks for stopped
        boxes only once every box alive has had `alive` seconds to say so again."""
        every = self.alive / BEATS
        said = steady = None  # (monotonic) its last beat; since when it beat without a gap
        while not stopping.is_set():
            try:
                self.beat(time.time())
                now = time.monotonic()
                if said is None or now - said > 2 * every:
                    if said is not None:
                        log.info("task queue: this box could not say it is alive for %.1f s", now - said)
                    steady = now if said is not None else float("-inf")  # (at start: no gap to make up)
                said = now
                if now - steady >= self.alive:
                    failed = self.reap(time.time())
                    if failed:
                        log.warning("task queue: %d task(s) of stopped boxes marked failed", len(failed))
            except Exception as e:  # a lost connection: try again at the next beat
                log.warning("task queue: cannot reach Redis to say this box is alive (%s)", e)
            stopping.wait(every)

    def _forget_box(self) -> None:
        """A box that stops cleanly says so: its tasks ended already."""
        self._run("forget_box", self.box, self._token)  # (only if the name is this process's)
