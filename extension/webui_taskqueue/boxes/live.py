"""Any box answers for a running task, whichever box runs it.

This box's own running task is read from its worker, as always. A task running on
another box is read from the store (store/live.py): that box's `Publisher` thread
writes its progress twice a second, and acts on what the others ask of it.

Previews are published only while wanted: a box that is asked for another box's
preview marks it wanted for a few seconds and answers the one published last. Encoding
a JPEG and shipping it through Redis every half second for nobody would cost the
running box CPU on every task; marked on demand, a preview costs nothing while no one
looks, and a poller sees it at most one tick (half a second) late.

An interrupt asked on another box goes through the store too, naming the task: the
running box interrupts it through its worker, which acts only while that very task
runs (never the next one), and says so in the task's record."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from typing import Callable, Optional

from ..records.tasks import Task, TaskStatus
from ..running.progress import Progress
from ..running.worker import Worker
from ..store.contract import Store
from ..store.images import ImageStore
from ..store.live import Live, Preview

log = logging.getLogger(__name__)

TICK = 0.5  # seconds between two records of the running task's progress
LIVE_SECONDS = 5.0  # a record not written again within this is gone (its box stopped)
WANTED_SECONDS = 5.0  # a preview is published this long after it was last asked for
PREVIEW_SECONDS = 30.0  # a published preview lives this long (the task may still be running)
FORGET_EVERY = 10.0  # seconds between two looks for tasks deleted through other boxes
INTERRUPT_SECONDS = 3600.0  # an interrupt asked for waits this long for its box to act
ACKNOWLEDGED_WITHIN = 3.0  # seconds the asking box waits to hear that the running box acted
OTHERS_SECONDS = 1.0  # the other boxes are read at most this often for positions and ETAs


@dataclasses.dataclass(frozen=True)
class Others:
    """The other boxes of a shared queue, as positions and ETAs count them."""

    boxes: int = 0  # alive, taking tasks from the queue
    running: int = 0  # tasks running on them
    seconds_left: float = 0.0  # those tasks' expected seconds to go, summed
    longest_left: float = 0.0  # ... and of the one with the most to go


class LiveView:
    """What this box answers for a running task, its own or another box's."""

    def __init__(self, store: Store, worker: Worker, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.store, self.worker, self.clock, self.sleep = store, worker, clock, sleep
        self._others = (float("-inf"), Others())  # (when read, what)

    def others(self) -> Others:
        """The other boxes sharing the queue, read at most once per OTHERS_SECONDS (every
        poll of a queued task asks): none on a queue of one box."""
        if not self.store.shared:
            return Others()
        read_at, found = self._others
        now = self.clock()
        if now - read_at < OTHERS_SECONDS:
            return found
        boxes = [name for name in self.store.boxes() if name != self.worker.box]
        lives = self.store.live_elsewhere(self.worker.box)
        lefts = [live.progress.get("eta_seconds") or 0.0 for live in lives]
        found = Others(len(boxes), len(lives), sum(lefts), max(lefts, default=0.0))
        self._others = (now, found)
        return found

    def elsewhere(self, task: Task) -> bool:
        """Running on another box that shares this queue."""
        return self.store.shared and task.status == TaskStatus.RUNNING and task.box not in (None, self.worker.box)

    def progress(self, task: Task) -> Optional[Progress]:
        if not self.elsewhere(task):
            return self.worker.progress(task.task_id)
        live = self.store.live(task.task_id)
        return Progress(**live.progress) if live is not None else None

    def preview(self, task: Task) -> Optional[Preview]:
        if not self.elsewhere(task):
            return self.worker.preview(task.task_id)
        return self.store.ask_preview(task.task_id, WANTED_SECONDS)

    def interrupt(self, task_id: str) -> bool:
        """Interrupt the task if it runs, here or on another box; False if it does not
        (it ended). Another box's task: ask, then wait (a few seconds at most) for its
        box to say it acted, or for the task to end."""
        if self.worker.interrupt(task_id):
            return True
        task = self.store.get(task_id)
        if task is None or not self.elsewhere(task):
            return False
        self.store.ask_interrupt(task_id, INTERRUPT_SECONDS)
        deadline = self.clock() + ACKNOWLEDGED_WITHIN
        while True:
            live = self.store.live(task_id)
            if live is not None and live.interrupting:
                return True
            task = self.store.get(task_id)
            if task is None or task.is_final:
                return task is not None and task.status == TaskStatus.INTERRUPTED
            if self.clock() > deadline:
                return True  # asked: its box acts once it hears (a box that stopped is reaped)
            self.sleep(0.05)


class Publisher:
    """This box's running task, told to the other boxes (a thread of its own, never the
    worker's): its progress every TICK, its preview while wanted, and an interrupt
    asked for on another box carried out; and the images of its tasks deleted through
    another box deleted. Runs only when the store is shared."""

    def __init__(self, store: Store, worker: Worker, images: Optional[ImageStore] = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.store, self.worker, self.images, self.clock = store, worker, images, clock
        self._owner = (None, "")  # (task id, its owner), looked up once per task
        self._interrupted: Optional[str] = None  # the task this box interrupted when asked
        self._preview = (None, "", 0.0)  # (task id, tag, when) of the preview published last
        self._stopping = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def start(self) -> None:
        if self.store.shared and self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="task-queue-live", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        swept = float("-inf")
        while not self._stopping.wait(TICK):
            try:
                self.run_once()
                if time.monotonic() - swept >= FORGET_EVERY:
                    swept = time.monotonic()
                    self.forget_deleted()
            except Exception as e:  # Redis out of reach: the next tick tries again
                log.warning("task queue: cannot tell the other boxes of the running task (%s)", e)

    def forget_deleted(self) -> None:
        """Delete the images of this box's tasks that were deleted through other boxes."""
        if self.images is not None and self.worker.box:
            for task_id in self.store.images_forgotten(self.worker.box):
                if task_id and all(c in "0123456789abcdef" for c in task_id):  # a task id, never a path
                    self.images.delete(task_id)

    def run_once(self) -> None:
        task_id, progress = self.worker.running()
        if progress is None:
            return
        if self._owner[0] != task_id:
            task = self.store.get(task_id)
            self._owner = (task_id, task.owner if task else "")
        asks = self._publish(task_id, progress)
        if asks.interrupt and self._interrupted != task_id and self.worker.interrupt(task_id):
            self._interrupted = task_id
            self._publish(task_id, progress)  # the asking box hears it at once
        if asks.preview:
            self._publish_preview(task_id)

    def _publish(self, task_id: str, progress: Progress):
        live = Live(task_id, self._owner[1], self.worker.box or "", dataclasses.asdict(progress),
                    interrupting=self._interrupted == task_id)
        return self.store.publish_live(live, LIVE_SECONDS)

    def _publish_preview(self, task_id: str) -> None:
        found = self.worker.preview(task_id)
        if found is None:
            return
        tag, data = found
        now = self.clock()
        last_task, last_tag, last_at = self._preview
        if (last_task, last_tag) == (task_id, tag) and now - last_at < PREVIEW_SECONDS / 2:
            return  # the same image is there already
        self.store.publish_preview(task_id, tag, data, PREVIEW_SECONDS)
        self._preview = (task_id, tag, now)
