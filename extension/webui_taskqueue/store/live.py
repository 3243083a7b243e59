"""The live part of the store contract: what the box running a task tells the other
boxes (its progress, its preview while someone wants it) and what they ask of it (an
interrupt, a preview). Short-lived records: each one expires unless it is written
again, so a box that stops leaves nothing behind that looks current.

`MemoryLive` keeps them in the store object: a memory or SQLite store serves one box,
which reads its own running task from its worker, so nothing in it is read by another
box. `redis.live.RedisLive` is the shared one."""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

Preview = Tuple[str, bytes]  # (tag, JPEG): the tag changes with the image
INFOS_KEPT = 32  # tasks' info kept in memory (one box): the door reads one as soon as it ends


@dataclasses.dataclass(frozen=True)
class Live:
    """A running task as its box last told of it."""

    task_id: str
    owner: str
    box: str
    progress: Dict[str, Any]  # progress.Progress's fields
    interrupting: bool = False  # its box was asked to interrupt it, and did


@dataclasses.dataclass(frozen=True)
class Asks:
    """What other boxes ask of a running task, as its box publishes it."""

    preview: bool = False  # someone polls its preview: publish one
    interrupt: bool = False  # its owner (or an admin) interrupted it on another box


class LiveStore:
    """The contract (mixed into `store.Store`). `seconds`: how long a record lives."""

    shared = False  # other processes read what this store holds (several boxes, one queue)

    def publish_live(self, live: Live, seconds: float) -> Asks:
        """The running task's progress, by its box; what others ask of it, in the same step."""
        raise NotImplementedError

    def live(self, task_id: str) -> Optional[Live]:
        raise NotImplementedError

    def live_elsewhere(self, box: Optional[str]) -> List[Live]:
        """The records of tasks running on boxes other than `box`."""
        raise NotImplementedError

    def ask_preview(self, task_id: str, seconds: float) -> Optional[Preview]:
        """Someone wants this task's preview for `seconds`: its box publishes it while
        wanted. Answers the one published last (None: none yet)."""
        raise NotImplementedError

    def publish_preview(self, task_id: str, tag: str, data: bytes, seconds: float) -> None:
        raise NotImplementedError

    def ask_interrupt(self, task_id: str, seconds: float) -> None:
        """Ask the box running this task to interrupt it (it acts only while it still
        runs this very task: the ask names the task, never the box's state)."""
        raise NotImplementedError

    def claim_event(self, task_id: str, kind: str, mark: str, now: float, every: float) -> bool:
        """May this box log a live event (`kind`) of the task at `mark` (its step)? Yes
        once per mark, and at most every `every` seconds per task and kind, whichever
        box asks first: boxes that follow the same task log each event once."""
        raise NotImplementedError

    def publish_info(self, task_id: str, info: str, seconds: float) -> None:
        """webui's info JSON of a task that just ended, by the box that ran it, before
        the task is final: the door answers with it, on whichever box it waits."""
        raise NotImplementedError

    def info(self, task_id: str) -> Optional[str]:
        raise NotImplementedError

    def forget_images(self, box: str, task_id: str) -> None:
        """A task that `box` made was deleted through another box: `box` deletes its images."""
        raise NotImplementedError

    def images_forgotten(self, box: str, limit: int = 100) -> List[str]:
        """Takes (and so clears) the ids of deleted tasks whose images `box` still keeps."""
        raise NotImplementedError


class MemoryLive(LiveStore):
    """In the store object (one box). Its state is made on first use, under the GIL."""

    @property
    def _live_state(self) -> "_State":
        return self.__dict__.setdefault("_live_memory", _State())

    def publish_live(self, live, seconds):
        state = self._live_state
        with state.lock:
            state.put("live", live.task_id, live, seconds)
            return Asks(preview=state.find("want", live.task_id) is not None,
                        interrupt=state.find("interrupt", live.task_id) is not None)

    def live(self, task_id):
        state = self._live_state
        with state.lock:
            return state.find("live", task_id)

    def live_elsewhere(self, box):
        state = self._live_state
        with state.lock:
            found = [state.find(kind, task_id) for kind, task_id in state.records if kind == "live"]
            return [live for live in found if live is not None and live.box != box]

    def ask_preview(self, task_id, seconds):
        state = self._live_state
        with state.lock:
            state.put("want", task_id, True, seconds)
            return state.find("preview", task_id)

    def publish_preview(self, task_id, tag, data, seconds):
        state = self._live_state
        with state.lock:
            state.put("preview", task_id, (tag, bytes(data)), seconds)

    def ask_interrupt(self, task_id, seconds):
        state = self._live_state
        with state.lock:
            state.put("interrupt", task_id, True, seconds)

    def claim_event(self, task_id, kind, mark, now, every):
        state = self._live_state
        with state.lock:
            last = state.marks.get((task_id, kind))
            if last is not None and (last[0] == mark or now - last[1] < every):
                return False
            state.marks[(task_id, kind)] = (mark, now)
            if len(state.marks) > 1000:  # tasks long gone
                for key in list(state.marks)[:500]:
                    del state.marks[key]
            return True

    def publish_info(self, task_id, info, seconds):
        state = self._live_state
        with state.lock:  # one box, one worker: the door reads it at once, so a few are enough
            state.infos[task_id] = (info, time.monotonic() + seconds)
            while len(state.infos) > INFOS_KEPT:
                del state.infos[next(iter(state.infos))]

    def info(self, task_id):
        state = self._live_state
        with state.lock:
            found = state.infos.get(task_id)
        return found[0] if found is not None and found[1] > time.monotonic() else None

    def forget_images(self, box, task_id):
        state = self._live_state
        with state.lock:
            state.forgotten.setdefault(box, []).append(task_id)

    def images_forgotten(self, box, limit=100):
        state = self._live_state
        with state.lock:
            found = state.forgotten.get(box, [])
            taken, state.forgotten[box] = found[:limit], found[limit:]
            return taken


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.forgotten: Dict[str, List[str]] = {}  # box -> ids of deleted tasks whose images it keeps
        self.records: Dict[Tuple[str, str], Tuple[Any, float]] = {}  # (kind, task id) -> (value, until)
        self.marks: Dict[Tuple[str, str], Tuple[str, float]] = {}  # (task id, kind) -> (mark, when)
        self.infos: Dict[str, Tuple[str, float]] = {}  # task id -> (info, until), the last INFOS_KEPT

    def put(self, kind: str, task_id: str, value: Any, seconds: float) -> None:
        now = time.monotonic()
        self.records = {k: v for k, v in self.records.items() if v[1] > now}  # expired ones go
        self.records[(kind, task_id)] = (value, now + seconds)

    def find(self, kind: str, task_id: str) -> Any:
        found = self.records.get((kind, task_id))
        return found[0] if found is not None and found[1] > time.monotonic() else None
