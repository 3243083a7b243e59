"""The event hub without threads or sleeps: `run_once` with a fake clock, a worker and
a planner that say what runs and what waits."""

import asyncio

import pytest

from webui_taskqueue.push.events import EventHub
from webui_taskqueue.running.progress import Progress
from webui_taskqueue.records.tasks import Queued
from webui_taskqueue.store.memory import MemoryStore
from webui_taskqueue.records.tasks import Task, TaskStatus, TaskType


class FakeWorker:
    def __init__(self):
        self.current, self.step = None, 0

    def running_id(self):
        return self.current

    def running(self):
        return self.current, self.progress(self.current) if self.current else None

    def on_finished(self, listener):
        pass

    def progress(self, task_id):
        if task_id != self.current:
            return None
        return Progress(fraction=self.step / 100, step=self.step, steps=100, job_no=0, job_count=1, eta_seconds=None)


class FakePlan:
    def __init__(self, order):
        self.order = order

    def waiting(self, start=0, stop=None):
        return self.order[start:stop]


class FakePlanner:
    def __init__(self):
        self.plan = FakePlan([])

    def current(self):
        return self.plan


def light(task_id, owner):
    return Queued(task_id=task_id, owner=owner, type="txt2img", checkpoint="c", vae=None, created_at=1.0)


@pytest.fixture
def hub():
    store, worker, planner, clock = MemoryStore(), FakeWorker(), FakePlanner(), [100.0]
    made = EventHub(store, worker, planner, clock=lambda: clock[0])
    made.fakes = (store, worker, planner, clock)
    yield made
    made.close()


def add(store, task_id, owner):
    store.add(Task(task_id=task_id, type=TaskType.TXT2IMG, owner=owner, checkpoint="c", params={}, created_at=1.0))


def drain(loop, sub):
    loop.run_until_complete(asyncio.sleep(0))
    found = []
    while not sub.queue.empty():
        found.append(sub.queue.get_nowait())
    return found


def test_each_stream_gets_its_owners_events_and_an_admins_gets_all(hub):
    store, worker, planner, clock = hub.fakes
    loop = asyncio.new_event_loop()
    try:
        ann, everyone = hub.subscribe("ann", loop), hub.subscribe(None, loop)
        add(store, "a1", "ann")
        add(store, "b1", "bob")
        hub.run_once()
        assert [(e.task_id, e.kind) for e in drain(loop, ann)] == [("a1", "submitted")]
        assert [(e.task_id, e.kind) for e in drain(loop, everyone)] == [("a1", "submitted"), ("b1", "submitted")]
        hub.unsubscribe(ann)
        store.cancel("a1", 2.0)
        hub.run_once()
        assert drain(loop, ann) == [] and [e.kind for e in drain(loop, everyone)] == ["final"]
    finally:
        loop.close()


def test_progress_is_logged_at_most_every_half_second_and_previews_once_a_second(hub):
    store, worker, planner, clock = hub.fakes
    loop = asyncio.new_event_loop()
    try:
        sub = hub.subscribe("ann", loop)
        add(store, "a1", "ann")
        store.start("a1", 1.0)
        worker.current = "a1"
        for _ in range(20):  # 2 s of ticks, the task moving a step every tick
            worker.step += 1
            clock[0] += 0.1
            hub.run_once()
        events = drain(loop, sub)
        progress = [e for e in events if e.kind == "progress"]
        previews = [e for e in events if e.kind == "preview"]
        assert 4 <= len(progress) <= 5 and 2 <= len(previews) <= 3
        assert all(b.at - a.at >= 0.5 - 1e-9 for a, b in zip(progress, progress[1:]))
        assert progress[0].data["task_id"] == "a1" and progress[0].data["status"] == "running"
        clock[0] += 5
        hub.run_once()  # the last step, held back by the pace, gets out
        assert [e.data["step"] for e in drain(loop, sub) if e.kind == "progress"] == [20]
        count = len(store.events_after(0))
        clock[0] += 5
        hub.run_once()  # nothing moved: nothing logged
        assert len(store.events_after(0)) == count
    finally:
        loop.close()


def test_positions_are_logged_when_the_plan_changes_and_only_for_places_that_moved(hub):
    store, worker, planner, clock = hub.fakes
    loop = asyncio.new_event_loop()
    try:
        sub = hub.subscribe(None, loop)
        planner.plan = FakePlan([light("a1", "ann"), light("b1", "bob")])
        hub.run_once()
        assert [(e.task_id, e.data["position"]) for e in drain(loop, sub) if e.kind == "position"] == [("a1", 1), ("b1", 2)]
        hub.run_once()  # the same plan
        assert drain(loop, sub) == []
        planner.plan = FakePlan([light("b1", "bob"), light("a1", "ann")])
        hub.run_once()
        assert [(e.task_id, e.data["position"]) for e in drain(loop, sub)] == [("b1", 1), ("a1", 2)]
        planner.plan = FakePlan([light("b1", "bob")])
        hub.run_once()
        assert drain(loop, sub) == []  # b1 stays first
    finally:
        loop.close()


def test_closing_ends_every_stream_and_later_ones_at_once(hub):
    loop = asyncio.new_event_loop()
    try:
        sub = hub.subscribe("ann", loop)
        hub.close()
        assert drain(loop, sub) == [None]
        assert drain(loop, hub.subscribe("ann", loop)) == [None]
        assert hub.streams() == 0
    finally:
        loop.close()


def test_a_stream_is_handed_only_events_after_it_subscribed(hub):
    store, *_ = hub.fakes
    loop = asyncio.new_event_loop()
    try:
        first = hub.subscribe("ann", loop)
        add(store, "a1", "ann")
        hub.run_once()
        second = hub.subscribe("ann", loop)  # it reads a1's submit from the log itself
        store.cancel("a1", 2.0)
        hub.run_once()
        assert [e.kind for e in drain(loop, first)] == ["submitted", "final"]
        assert [e.kind for e in drain(loop, second)] == ["final"]
        assert store.get("a1").status == TaskStatus.CANCELLED
    finally:
        loop.close()


def test_live_events_are_logged_only_for_owners_someone_follows(hub):
    store, worker, planner, clock = hub.fakes
    loop = asyncio.new_event_loop()
    try:
        hub.subscribe("carol", loop)  # follows nobody who has tasks
        add(store, "a1", "ann")
        store.start("a1", 1.0)
        worker.current, worker.step = "a1", 3
        planner.plan = FakePlan([light("b1", "bob")])
        hub.run_once()
        assert [e.kind for e in store.events_after(0)] == ["submitted", "started"]
        hub.subscribe("ann", loop)
        clock[0] += 1
        hub.run_once()
        assert [e.kind for e in store.events_after(0)][2:] == ["progress", "preview"]  # bob: still nobody
    finally:
        loop.close()
