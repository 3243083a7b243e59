"""The worker: one thread that runs queued tasks one at a time under webui's lock.

Task switches and interrupts are serialized by `_switch`: an interrupt reaches webui
only while its own task is the one running, so interrupting task A can never stop
task B, even when the request lands exactly as A ends and B begins.

A failing task fails alone: its error is recorded, webui's state and GPU memory are
cleaned up, the next task runs. Only a streak of failures pauses the queue (running/failures.py).

A finished task's images are saved and its end recorded on the recorder thread once
the next task has begun: between two tasks webui waits for no disk write, and the
recording does not compete with the next pick. A task that failed or was interrupted
is recorded before anything else starts (its end may pause the queue). An end the
store refuses (a full disk) is tried again every second, and nothing new starts until
it is recorded: a task's recording is handed over only once the one before it is done,
so at most the task after it runs meanwhile."""

from __future__ import annotations

import dataclasses
import errno
import logging
import queue
import threading
import time
import traceback
from concurrent.futures import Future
from concurrent.futures import wait as wait_for
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from ..host.contract import Host, Outcome
from ..records.checkpoints import same_checkpoint
from ..records.tasks import InvalidTransition, Task, TaskStatus
from ..scheduling.planner import Planner
from ..scheduling.readahead import ReadAhead
from ..store.contract import Store
from ..store.images import ImageStore, encode_preview
from ..store.inputs import join as join_inputs
from .failures import PAUSED, FailureStreak
from .progress import Progress, ProgressMeter

log = logging.getLogger(__name__)

__all__ = ["PAUSED", "EXTERNAL_INTERRUPT", "Worker"]

EXTERNAL_INTERRUPT = "interrupted outside the queue (webui's own interrupt)"
INFO_SECONDS = 600.0  # how long a task's info stays for the door, which reads it as soon as the task ends
RETRY_SECONDS = 1.0  # between tries to record an end the store refused


class Worker:
    def __init__(self, store: Store, host: Host, images: ImageStore, planner: Planner,
                 readahead: Optional[ReadAhead] = None, clock: Callable[[], float] = time.time,
                 pause_after: Callable[[], int] = lambda: 0, box: Optional[str] = None) -> None:
        """`pause_after`: failures in a row that pause the queue (0: never); `box`: this
        webui process's name, recorded on each task it runs."""
        self.store, self.host, self.images, self.clock, self.box = store, host, images, clock, box
        self.planner, self.readahead = planner, readahead
        self.failures = FailureStreak(store, pause_after)
        self._recorder = _Recorder()
        self._recording: Optional[Future] = None  # the last task handed to the recorder
        self._gate = threading.Event()  # opened when the recorder may start on it
        self._gate.set()
        self._stuck = False  # the store refuses a task's end: nothing new starts until it takes it
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: Optional[threading.Thread] = None
        self._stopped: Optional[threading.Thread] = None  # the thread `stop` let go of
        self._switch = threading.Lock()
        self._current: Optional[Task] = None
        self._meter: Optional[ProgressMeter] = None
        self._interrupting: Set[str] = set()
        self._finishing: Dict[str, Progress] = {}  # task_id -> its last progress, while it is recorded
        self._generation = 0  # counts task starts: a preview decoded across a switch is dropped
        self._preview: tuple = (None, None)  # (key, jpeg bytes) of the last preview encoded
        self._finished: List[Callable[[Task], None]] = []  # told of each task recorded final here

    # ---- the thread ----------------------------------------------------------------

    def start(self) -> None:
        with self._cond:
            if self._thread is not None:
                return
            self._stopping = False
            self._thread = threading.Thread(target=self._loop, name="task-queue-worker", daemon=True)
            self._thread.start()

    def stop(self, timeout: Optional[float] = None) -> None:
        """Nothing new starts; the running task (if any) finishes and is recorded first.
        Waits up to `timeout` for the thread to end (`join` waits more)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            if self._thread is not None:
                self._stopped = self._thread
            self._thread = None
        self.join(timeout)

    def join(self, timeout: Optional[float] = None) -> bool:
        """Wait for a stopped worker's thread to end; True once it has."""
        thread = self._stopped
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        return thread is None or not thread.is_alive()

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def notify(self) -> None:
        """Called after a task is queued or the queue resumed; no polling, no missed wake-up:
        the waiting side checks the store under the same condition."""
        with self._cond:
            self._cond.notify_all()

    def _loop(self) -> None:
        ran = False
        while True:
            with self._cond:
                # right after a task the next one is picked at once: a pick that finds
                # nothing costs what asking the store whether there is work would
                while not self._stopping and not (ran or self._has_work()):
                    self._cond.wait()
                if self._stopping:
                    break
            ran = False
            try:
                ran = self._run() is not None
            except Exception:
                log.exception("task queue worker")
                with self._cond:
                    self._cond.wait(1.0)  # a broken store must not spin the CPU
        self._await_recording()  # the thread ends once the last task is recorded: `join` waits for it

    def _has_work(self) -> bool:
        if self._stuck:
            return False
        try:
            return not self.store.get_flag(PAUSED) and self.store.count(TaskStatus.QUEUED) > 0
        except Exception:  # the store out of reach (Redis restarting): run_once meets it and waits
            return True

    # ---- one task ----------------------------------------------------------------------

    def run_once(self) -> Optional[Task]:
        """Run the next task, if any, and return it once it is recorded final."""
        recording = self._run()
        if recording is None:
            return None
        self._await_recording()
        return recording.result()

    def _run(self) -> Optional[Future]:
        """Run the next task, if any; its recording, handed to the recorder. The loop waits
        for it only when the task did not finish: a failure may pause the queue."""
        with self.host.lock:
            try:
                task = self._begin_next()
            finally:
                self._gate.set()  # the last task's recording, now that this one has begun
            if task is None:
                return None
            outcome, error = None, None
            loaded = self.host.loaded_checkpoint()
            self._read_ahead(task)
            started = self.clock()
            try:
                outcome = self.host.generate(task.type.value, task.params, task.checkpoint, task.vae)
            except Exception as e:
                error = _describe(e)
                log.error("task %s failed: %s", task.task_id, traceback.format_exc())
            finished = self.clock()
            if error is not None:
                self._free_memory()  # out of the except block: its traceback holds the task's tensors
            completed = outcome is not None and not outcome.interrupted
            requested = self._leave(task, completed=completed)
            self.host.end(task.task_id)
        self.planner.ended(task)
        switched = not same_checkpoint(loaded, task.checkpoint)
        self._await_recording()  # one recording at a time: the last one overlaps this task alone
        gate = self._gate = threading.Event()
        recording = self._recording = self._recorder.submit(
            self._record, gate, task, outcome, error, requested, started, finished, switched)
        if not completed:
            self._await_recording()
        return recording

    def _await_recording(self) -> None:
        """Let the recorder start on the last task now, and wait until it is recorded."""
        self._gate.set()
        if self._recording is not None:
            wait_for([self._recording])

    def _begin_next(self) -> Optional[Task]:
        with self._switch:
            if self._stuck or self.store.get_flag(PAUSED):
                return None
            for _ in range(10):
                plan = self.planner.next()
                if not plan.order:
                    return None
                try:
                    task = self.store.start(plan.order[0].task_id, self.clock(), plan.overtaken, plan.due, box=self.box)
                except (InvalidTransition, KeyError):
                    continue  # cancelled or deleted since the listing: plan again
                blobs = self.store.inputs(task.task_id)
                if blobs:  # the request's images, kept apart in the store
                    task = dataclasses.replace(task, params=join_inputs(task.params, blobs))
                self.planner.started(task)
                self._current = task
                params = task.params
                self._meter = ProgressMeter(params.get("steps", 50), params.get("n_iter", 1))  # webui's defaults
                self._generation += 1
                self.host.begin(task.task_id)
                return task
        return None

    def _leave(self, task: Task, completed: bool) -> bool:
        with self._switch:
            # still `running` in the store until recorded: keep answering with its progress,
            # never behind what a poll was shown (a job that ran to its end: complete)
            meter = self._meter
            self._finishing[task.task_id] = meter.completed() if completed else meter.read(self.host.snapshot(), self.clock())
            self._current = self._meter = None
            requested = task.task_id in self._interrupting
            self._interrupting.discard(task.task_id)
            return requested

    def _record(self, gate, task, outcome: Optional[Outcome], error, requested, started, finished, switched) -> Task:
        """On the recorder thread once `gate` opens: save the task's images, record its
        end, learn its speed."""
        gate.wait()
        try:
            recorded = self._save_and_finish(task, outcome, error, requested, started, finished)
        except Exception:
            log.exception("task queue: recording task %s", task.task_id)
            raise
        finally:
            with self._switch:
                self._finishing.pop(task.task_id, None)
        if recorded.status == TaskStatus.DONE:
            self.planner.learn(task.checkpoint, task.work, finished - started, switched=switched)
        return recorded

    def _save_and_finish(self, task, outcome: Optional[Outcome], error, requested, started, finished) -> Task:
        images, infotexts = [], []
        if outcome is not None:
            try:
                texts = outcome.infotexts[: len(outcome.images)] + outcome.grid_infotexts[: len(outcome.grids)]
                names = self.images.save(task.task_id, outcome.images + outcome.grids, texts, grids=len(outcome.grids))
                images, infotexts = names, list(texts[: len(names)])
            except Exception as e:
                error = "saving images failed: " + _describe(e)
                log.error("task %s: %s", task.task_id, error)
                self.images.delete(task.task_id)  # the ones saved before: the task has none
            else:
                self._publish_info(task.task_id, outcome.info)
        if error is not None:
            status = TaskStatus.INTERRUPTED if requested else TaskStatus.FAILED
        elif outcome.interrupted:
            status = TaskStatus.INTERRUPTED
            error = None if requested else EXTERNAL_INTERRUPT
        else:
            status = TaskStatus.DONE
        return self._finish(task.task_id, status, dict(
            images=images, infotexts=infotexts, error=error, process_started_at=started, process_finished_at=finished))

    def _finish(self, task_id: str, status: TaskStatus, outcome: dict) -> Task:
        while True:
            try:
                recorded = self.store.finish(task_id, status, self.clock(), **outcome)
                break
            except (InvalidTransition, KeyError):
                ended = self.store.get(task_id)  # ended meanwhile by someone else (webui stopping): theirs stands
                if ended is None:
                    raise
                log.info("task queue: task %s was already recorded %s", task_id, ended.status.value)
                return ended
            except Exception as e:
                # e.g. "database or disk is full": the task stays the running one
                log.error("task queue: recording task %s's end: %s (tried again in a second)", task_id, _describe(e))
                with self._cond:
                    if self._stopping or not threading.main_thread().is_alive():  # stopping, or exiting
                        raise
                    self._stuck = True
                    self._cond.wait(RETRY_SECONDS)
        with self._cond:
            if self._stuck:
                self._stuck = False
                self._cond.notify_all()
        for listener in self._finished:
            listener(recorded)
        try:
            reason = self.failures.record(recorded)
        except Exception:  # the task is recorded: the streak must not undo that
            log.exception("task queue: counting failures in a row")
            reason = None
        if reason is not None:
            log.warning("task queue %s", reason)
        return recorded

    def _publish_info(self, task_id: str, info: Optional[str]) -> None:
        """webui's info of the task, for the door (before the task is final: the door
        reads it then). Without it the door answers an empty info, the task its images."""
        if info is None:
            return
        try:
            self.store.publish_info(task_id, info, INFO_SECONDS)
        except Exception as e:
            log.warning("task queue: task %s: its info for webui's API was not kept (%s)", task_id, _describe(e))

    def on_finished(self, listener: Callable[[Task], None]) -> None:
        """`listener(task)` after each task this worker records final (the event hub: a
        door waiting for the task hears of it at once). It must not block."""
        self._finished.append(listener)

    def _free_memory(self) -> None:
        try:
            self.host.free_memory()
        except Exception:
            log.exception("task queue: freeing memory after a failed task")

    def _read_ahead(self, task: Task) -> None:
        """While `task` runs, read the checkpoint of the task after it into memory when
        it is another one: the switch then loads from RAM, not from disk."""
        if self.readahead is not None:  # which task follows is worked out on the read-ahead's thread
            self.readahead.want(lambda: self._following_checkpoint(task))

    def _following_checkpoint(self, task: Task) -> Optional[str]:
        """The file of the next task's checkpoint, if it is not `task`'s."""
        following = self.planner.next(loaded=(task.checkpoint, task.vae)).order
        if following and following[0].checkpoint != task.checkpoint:
            return self.host.checkpoint_path(following[0].checkpoint)
        return None

    # ---- from request threads ------------------------------------------------------

    def interrupt(self, task_id: str) -> bool:
        """Interrupt the task if it is the one running now; False if it is not. A task
        whose images are being saved still runs: it has nothing left to stop, and ends
        as its job did (an interrupt after the last step does the same)."""
        with self._switch:
            if task_id in self._finishing:
                return True
            if self._current is None or self._current.task_id != task_id:
                return False
            self._interrupting.add(task_id)
            self.host.interrupt()
            return True

    def holder(self) -> Tuple[int, Optional[str]]:
        """(tasks started so far, the id of the task whose job webui's global state holds:
        from its begin() until it is recorded or the next one begins; None between tasks). webui's own routes
        read that state, so the native guard (api/doors.py) asks who holds it."""
        with self._switch:
            return self._generation, self._holder_id()

    def with_holder(self, act: Callable[[Optional[str]], Any]) -> Any:
        """`act(holder id)` while no task can begin or end: what webui's own interrupt
        and skip hit is then decided by who holds its state."""
        with self._switch:
            return act(self._holder_id())

    def _holder_id(self) -> Optional[str]:
        if self._current is not None:
            return self._current.task_id
        return next(iter(self._finishing), None)

    def running_id(self) -> Optional[str]:
        with self._switch:
            return self._current.task_id if self._current else None

    def running(self) -> Tuple[Optional[str], Optional[Progress]]:
        """(id, progress) of the task whose job runs now, read together; (None, None)
        once it is being recorded: nothing told of it live may follow its final event."""
        with self._switch:
            if self._current is None:
                return None, None
            return self._current.task_id, self._meter.read(self.host.snapshot(), self.clock())

    def progress(self, task_id: str) -> Optional[Progress]:
        with self._switch:
            if self._current is not None and self._current.task_id == task_id:
                return self._meter.read(self.host.snapshot(), self.clock())
            return self._finishing.get(task_id)

    def preview(self, task_id: str) -> Optional[Tuple[str, bytes]]:
        """(tag, JPEG) of the running task's live preview; the tag changes with the image.
        The decode runs under `_switch` so that it can never land in the next task's
        state (a preview of A shown to B)."""
        with self._switch:
            if self._current is None or self._current.task_id != task_id:
                return None
            found = self.host.preview()
            if found is None:
                return None
            key = f"{self._generation}-{found[0]}"
            if self._preview[0] == key:
                return self._preview
        data = encode_preview(found[1])
        with self._switch:
            self._preview = (key, data)
        return key, data


class _Recorder:
    """One thread that runs the recordings in the order handed over. Not a thread pool's:
    a pool refuses work once the interpreter begins to exit, which is when webui's Stop
    lets the last task end and be recorded."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: Optional[threading.Thread] = None
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        future: Future = Future()
        self._jobs.put((future, fn, args))
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="task-queue-recorder", daemon=True)
                self._thread.start()
        return future

    def _run(self) -> None:
        while True:
            future, fn, args = self._jobs.get()
            try:
                future.set_result(fn(*args))
            except BaseException as e:  # the future carries it to whoever waits
                future.set_exception(e)


# write errors that mean "no room": said plainly, without the file's path
NO_ROOM = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EFBIG: "the file system allows no file this large",
}


def _describe(e: BaseException, limit: int = 2000) -> str:
    """The error for the task record: type and message, cut to a readable length."""
    if isinstance(e, OSError) and e.errno in NO_ROOM:
        return f"{NO_ROOM[e.errno]} ({e.strerror}); no image of this task was kept"
    text = f"{type(e).__name__}: {e}"
    if _out_of_memory(e):
        text = "the GPU ran out of memory (a smaller size or batch may fit): " + text
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _out_of_memory(e: BaseException) -> bool:
    """torch.cuda.OutOfMemoryError, or the RuntimeError older torch raises instead."""
    return type(e).__name__ == "OutOfMemoryError" or (isinstance(e, RuntimeError) and "out of memory" in str(e).lower())
