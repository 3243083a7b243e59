"""The live records over every store (store/live.py), and the box that publishes them
and the one that reads them (live.py) on a real redis-server: no threads, no sleeps."""

import dataclasses

import pytest
from redis_server import redis_store

from webui_taskqueue.boxes.live import LiveView, Publisher
from webui_taskqueue.store.live import Asks, Live
from webui_taskqueue.running.progress import Progress
from webui_taskqueue.records.tasks import Task, TaskStatus, TaskType

PROGRESS = Progress(fraction=0.25, step=5, steps=20, job_no=0, job_count=1, eta_seconds=3.5)


def running(store, task_id, box, owner="ann"):
    store.add(Task(task_id=task_id, type=TaskType.TXT2IMG, owner=owner, checkpoint="c", params={}, created_at=1.0))
    return store.start(task_id, 2.0, box=box)


def test_a_running_tasks_record_is_read_back_and_listed_for_other_boxes_only(store):
    running(store, "t1", "box-a")
    live = Live("t1", "ann", "box-a", dataclasses.asdict(PROGRESS))
    assert store.live("t1") is None
    assert store.publish_live(live, 30) == Asks(preview=False, interrupt=False)
    assert store.live("t1") == live
    assert store.live_elsewhere("box-b") == [live]
    assert store.live_elsewhere("box-a") == []
    assert store.live("t2") is None


def test_a_preview_is_published_once_wanted_and_read_back_byte_for_byte(store):
    running(store, "t1", "box-a")
    live = Live("t1", "ann", "box-a", dataclasses.asdict(PROGRESS))
    assert store.ask_preview("t1", 30) is None  # none yet: now wanted
    assert store.publish_live(live, 30).preview
    data = bytes(range(256)) * 4  # any bytes, not text
    store.publish_preview("t1", "7-3", data, 30)
    assert store.ask_preview("t1", 30) == ("7-3", data)
    assert not store.publish_live(dataclasses.replace(live, task_id="t2"), 30).preview  # another task: not wanted


def test_an_interrupt_asked_for_reaches_that_task_only(store):
    running(store, "t1", "box-a")
    live = Live("t1", "ann", "box-a", dataclasses.asdict(PROGRESS))
    store.ask_interrupt("t1", 30)
    assert store.publish_live(live, 30) == Asks(preview=False, interrupt=True)
    assert not store.publish_live(dataclasses.replace(live, task_id="t2"), 30).interrupt


def test_a_live_event_is_claimed_once_per_mark_and_at_most_every_so_often(store):
    assert store.claim_event("t1", "progress", "1/0", 10.0, 0.5)
    assert not store.claim_event("t1", "progress", "1/0", 20.0, 0.5)  # the same step: never again
    assert not store.claim_event("t1", "progress", "2/0", 10.2, 0.5)  # too soon
    assert store.claim_event("t1", "progress", "2/0", 10.5, 0.5)
    assert store.claim_event("t1", "preview", "2", 10.5, 1.0)  # each kind and task on its own
    assert store.claim_event("t2", "progress", "2/0", 10.5, 0.5)


def test_a_tasks_info_is_read_back_as_written(store):
    info = '{"prompt": "a fox", "all_seeds": [7], "extra": "\u00e9"}'
    assert store.info("t1") is None
    store.publish_info("t1", info, 30)
    assert store.info("t1") == info
    assert store.info("t2") is None


def test_images_of_tasks_deleted_through_another_box_are_taken_once(store):
    for box, task_id in (("box-a", "t1"), ("box-a", "t2"), ("box-b", "t3")):
        store.forget_images(box, task_id)
    assert store.images_forgotten("box-a", limit=1) == ["t1"]
    assert store.images_forgotten("box-a") == ["t2"]
    assert store.images_forgotten("box-a") == []
    assert store.images_forgotten("box-b") == ["t3"]


class FakeWorker:
    """The running box's worker: what runs, its progress, its preview, its interrupts."""

    def __init__(self, box):
        self.box, self.current, self.interrupted, self.previews = box, None, [], 0

    def running_id(self):
        return self.current

    def running(self):
        return self.current, self.progress(self.current) if self.current else None

    def progress(self, task_id):
        return PROGRESS if task_id == self.current else None

    def preview(self, task_id):
        self.previews += 1
        return ("1-5", b"\xff\xd8jpeg") if task_id == self.current else None

    def interrupt(self, task_id):
        if task_id != self.current:
            return False
        self.interrupted.append(task_id)
        return True


@pytest.fixture
def two_boxes(request):
    """Box a runs tasks; box b answers for them: two stores on one queue in Redis."""
    a = redis_store(request)
    b = type(a)(request.getfixturevalue("redis_server").url, prefix=a.prefix)
    yield a, b, FakeWorker("box-a"), FakeWorker("box-b")
    a.close()
    b.close()


def test_another_box_reads_the_progress_and_the_preview_only_while_wanted(two_boxes):
    a, b, worker_a, worker_b = two_boxes
    task = running(a, "t1", "box-a")
    worker_a.current = "t1"
    publisher, view = Publisher(a, worker_a), LiveView(b, worker_b)
    assert view.progress(task) is None  # nothing published yet
    publisher.run_once()
    assert view.progress(task) == PROGRESS
    assert worker_a.previews == 0  # nobody asked: no preview encoded
    assert view.preview(task) is None  # asked: published at the next tick
    publisher.run_once()
    assert worker_a.previews == 1 and view.preview(task) == ("1-5", b"\xff\xd8jpeg")
    worker_a.current = None
    publisher.run_once()  # nothing runs: nothing published
    assert worker_a.previews == 1


def test_an_interrupt_on_another_box_reaches_the_running_box_once(two_boxes):
    a, b, worker_a, worker_b = two_boxes
    running(a, "t1", "box-a")
    worker_a.current = "t1"
    publisher = Publisher(a, worker_a)
    ticks = []
    view = LiveView(b, worker_b, sleep=lambda s: (ticks.append(s), publisher.run_once()))
    assert view.interrupt("t1")  # asked, then acknowledged at the running box's next tick
    assert worker_a.interrupted == ["t1"] and len(ticks) == 1 and b.live("t1").interrupting
    publisher.run_once()
    assert worker_a.interrupted == ["t1"]  # once
    a.finish("t1", TaskStatus.INTERRUPTED, 3.0)
    assert not view.interrupt("t1")  # final: nothing to interrupt (the route answers 409)
    assert b.live_elsewhere("box-b") == []  # no longer running


def test_a_task_that_ended_is_not_interrupted_from_another_box(two_boxes):
    a, b, worker_a, worker_b = two_boxes
    running(a, "t1", "box-a")
    a.finish("t1", TaskStatus.DONE, 3.0)
    assert not LiveView(b, worker_b).interrupt("t1")
