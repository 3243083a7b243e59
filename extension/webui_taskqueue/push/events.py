"""The event hub: what open event streams are fed from, on a thread of its own.

The store logs a task's submit, start and final state itself, in the step that makes
them. While at least one stream is open, the hub's thread adds the live events, every
`tick` seconds and never on the worker's thread: `progress` of the running task (at
most every `PROGRESS_EVERY` seconds, when it moved), `preview` (at most once a second,
while steps advance) and `position` (when the plan changed, for the first
`POSITIONS_SHOWN` places), for the owners whose streams are open. Then it reads what
is new in the log, once for all streams, and hands each stream its caller's events.
With no stream open the thread sleeps: idle, it costs nothing.

On a queue that several boxes share, the hub also tells of the tasks running on the
other boxes, from the progress their boxes publish (boxes/live.py), and the store lets one
box log each live event, whichever boxes' streams follow the task."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
import time
from typing import Callable, Dict, List, Optional, Set, Tuple

from ..running.progress import Progress
from ..running.worker import Worker
from ..scheduling.planner import Planner
from ..store.contract import Store
from ..store.push import POSITION, PREVIEW, PROGRESS, Event, NewEvent

log = logging.getLogger(__name__)

TICK = 0.25
PROGRESS_EVERY = 0.5
PREVIEW_EVERY = 1.0
POSITIONS_SHOWN = 100  # a task further back hears of its position once it gets this close
READ_AT_ONCE = 1000


@dataclasses.dataclass(eq=False)
class Subscription:
    """One open stream: its caller's events (None: everyone's) arrive on `queue`;
    None on the queue means the queue is stopping."""

    owner: Optional[str]
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue
    floor: int = 0  # events up to this id are the stream's own to read from the log
    live: bool = True  # False: the log's events only (a door waits for a final one): no progress logged for it


class EventHub:
    def __init__(self, store: Store, worker: Worker, planner: Planner,
                 clock: Callable[[], float] = time.time, tick: float = TICK) -> None:
        self.store, self.worker, self.planner, self.clock, self.tick_seconds = store, worker, planner, clock, tick
        self._cond = threading.Condition()
        self._ticking = threading.Lock()  # one tick at a time: two would hand out the same events
        self._subs: Set[Subscription] = set()
        self._last: Optional[int] = None  # newest event id handed out
        self._thread: Optional[threading.Thread] = None
        self._closed = False
        self._positions: Dict[str, int] = {}  # task id -> position last logged
        self._plan = None  # the plan those positions came from
        self._owner: Tuple[Optional[str], str] = (None, "")  # the running task's owner, looked up once
        self._woken = False  # a task ended here since the last tick: tick again at once
        worker.on_finished(lambda task: self.wake())

    # ---- streams (event loop side) --------------------------------------------------

    def subscribe(self, owner: Optional[str], loop: asyncio.AbstractEventLoop, live: bool = True) -> Subscription:
        with self._cond:
            if self._last is None:
                self._last = self.store.event_bounds()[1]
            sub = Subscription(owner, loop, asyncio.Queue(), floor=self._last, live=live)
            self._plan = None  # positions of the owners followed now, at the next tick
            if self._closed:
                sub.queue.put_nowait(None)
                return sub
            self._subs.add(sub)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="task-queue-events", daemon=True)
                self._thread.start()
            self._cond.notify_all()
            return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._cond:
            self._subs.discard(sub)

    def wake(self) -> None:
        """A task ended here: its final event goes out now, not a tick later."""
        with self._cond:
            self._woken = True
            self._cond.notify_all()

    def streams(self) -> int:
        with self._cond:
            return len(self._subs)

    def end_streams(self) -> None:
        """Every open stream ends (the server is stopping: it waits for open answers)."""
        with self._cond:
            subs, self._subs = list(self._subs), set()
        for sub in subs:
            _hand(sub, None)

    def close(self, timeout: float = 2.0) -> None:
        """The queue stops: open streams end, later ones end at once."""
        with self._cond:
            self._closed = True
            thread = self._thread
            self._cond.notify_all()
        self.end_streams()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    # ---- the thread -----------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._subs and not self._closed:
                    self._last, self._positions, self._plan = None, {}, None  # resumes from the log's head
                    self._cond.wait()
                if self._closed:
                    return
            try:
                self.run_once()
            except Exception:
                log.exception("task queue: events")
            with self._cond:
                if not self._closed and not self._woken:
                    self._cond.wait(self.tick_seconds)
                self._woken = False

    def run_once(self) -> None:
        """One tick: log the live events that are due, hand out what is new."""
        with self._ticking:
            self._tick()

    def _tick(self) -> None:
        now = self.clock()
        with self._cond:
            watched = {sub.owner for sub in self._subs if sub.live}
        live = self._live(now, lambda owner: None in watched or owner in watched)
        if live:
            self.store.append_events(live, now)
        with self._cond:
            after = self._last if self._last is not None else self.store.event_bounds()[1]
        while True:
            found = self.store.events_after(after, None, READ_AT_ONCE)
            if not found:
                break
            after = found[-1].id
            with self._cond:
                for sub in self._subs:
                    mine = [e for e in found if e.id > sub.floor and sub.owner in (None, e.owner)]
                    for event in mine:
                        _hand(sub, event)
                self._last = after
            if len(found) < READ_AT_ONCE:
                break

    def _live(self, now: float, followed: Callable[[str], bool]) -> List[NewEvent]:
        """The live events due now, of owners someone follows (idle streams: none)."""
        live: List[NewEvent] = []
        running, progress = self.worker.running()
        if running and self._owner[0] != running:
            task = self.store.get(running)
            self._owner = (running, task.owner if task else "")
        tasks = [(self._owner[1], running, progress)] if running and progress is not None else []
        if self.store.shared:  # tasks running on the other boxes, as their boxes tell of them
            tasks += [(r.owner, r.task_id, Progress(**r.progress)) for r in self.store.live_elsewhere(self.worker.box)]
        for owner, task_id, progress in tasks:
            if followed(owner):
                live += self._moved(owner, task_id, progress, now)
        plan = self.planner.current()
        if plan is not self._plan:
            self._plan = plan
            ahead_of_all = 1 if running else 0
            positions = {}
            for place, light in enumerate(plan.waiting(0, POSITIONS_SHOWN), start=1):
                if not followed(light.owner):
                    continue
                positions[light.task_id] = place
                if self._positions.get(light.task_id) != place:
                    live.append((light.owner, light.task_id, POSITION, {
                        "task_id": light.task_id, "status": "queued", "position": place,
                        "ahead": place - 1 + ahead_of_all}))
            self._positions = positions
        return live


    def _moved(self, owner: str, task_id: str, progress: Progress, now: float) -> List[NewEvent]:
        """A running task's progress and preview events, when due. The store decides
        (claim_event): boxes whose streams follow the same task log each event once."""
        found: List[NewEvent] = []
        if self.store.claim_event(task_id, PROGRESS, f"{progress.step}/{progress.job_no}", now, PROGRESS_EVERY):
            found.append((owner, task_id, PROGRESS, {"task_id": task_id, "status": "running",
                                                     **dataclasses.asdict(progress)}))
        step = progress.job_no * progress.steps + progress.step
        if progress.step > 0 and self.store.claim_event(task_id, PREVIEW, str(step), now, PREVIEW_EVERY):
            found.append((owner, task_id, PREVIEW, {"task_id": task_id, "step": progress.step}))
        return found


def _hand(sub: Subscription, event: Optional[Event]) -> None:
    try:
        sub.loop.call_soon_threadsafe(sub.queue.put_nowait, event)
    except RuntimeError:  # the stream's loop is closed: nobody reads it any more
        pass
