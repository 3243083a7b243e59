"""Images of several boxes: a shared folder where each box stages its writes apart and
start-up removes no other box's work, and images fetched from the box that made them
(a real local HTTP server plays that box; a real redis-server holds the queue)."""

import http.server
import os
import threading

import pytest
from PIL import Image
from redis_server import redis_store

from webui_taskqueue.boxes.images import BoxGone, BoxImages
from webui_taskqueue.store.images import ImageStore
from webui_taskqueue.boxes.live import Publisher
from webui_taskqueue.store.recovery import recover
from webui_taskqueue.records.errors import NotFound
from webui_taskqueue.store.memory import MemoryStore
from webui_taskqueue.records.tasks import Task, TaskStatus, TaskType


def task(store, task_id, box=None, status=TaskStatus.RUNNING):
    store.add(Task(task_id=task_id, type=TaskType.TXT2IMG, owner="ann", checkpoint="c", params={}, created_at=1.0))
    if status != TaskStatus.QUEUED:
        store.start(task_id, 2.0, box=box)
    if status.is_final:
        store.finish(task_id, status, 3.0, images=["0.png"] if status == TaskStatus.DONE else [])
    return store.get(task_id)


def test_boxes_sharing_a_folder_stage_apart_and_start_up_clears_only_its_own(tmp_path):
    root = str(tmp_path / "images")
    a, b = ImageStore(root, "box-a"), ImageStore(root, "box/b")
    assert a.partial != b.partial and os.path.dirname(b.partial) == root and "/" not in os.path.basename(b.partial)
    open(os.path.join(a.partial, "cut-short.png"), "w").close()
    open(os.path.join(b.partial, "writing-now.png"), "w").close()
    assert b.clear_partial() == 1
    assert os.listdir(a.partial) == ["cut-short.png"]
    assert b.folders() == []  # staging folders are no task's


def test_start_up_keeps_the_folder_of_a_task_still_running_on_another_box(tmp_path):
    store, images = MemoryStore(), ImageStore(str(tmp_path / "images"), "box-b")
    running = task(store, "a" * 32, box="box-a")  # box a renamed its images into place, records done next
    deleted = "b" * 32  # a folder no task lists
    done = task(store, "c" * 32, box="box-a", status=TaskStatus.DONE)
    for task_id in (running.task_id, deleted, done.task_id):
        images.save(task_id, [Image.new("RGB", (8, 8))], ["x"])
    store.recover = lambda now: []  # box b starts: box a's task is not its own to fail
    found = recover(store, images, 5.0)
    assert found.removed == [deleted]
    assert sorted(images.folders()) == [running.task_id, done.task_id]


class Worker:
    box = "box-a"


def test_a_task_deleted_through_another_box_has_its_images_deleted_by_the_box_that_made_them(request, tmp_path):
    a = redis_store(request)
    b = type(a)(request.getfixturevalue("redis_server").url, prefix=a.prefix)
    try:
        images = ImageStore(str(tmp_path / "a-images"))
        made, kept = (task(a, task_id, box="box-a", status=TaskStatus.DONE) for task_id in ("f" * 32, "0" * 32))
        for done in (made, kept):
            images.save(done.task_id, [Image.new("RGB", (8, 8))], ["x"])
        b.delete(made.task_id)
        BoxImages(b, "box-b", link).forget(made)
        BoxImages(b, "box-b", link).forget(task(b, "1" * 32, box="box-b", status=TaskStatus.DONE))  # its own: no
        a.forget_images("box-a", "../a-images")  # never a path
        Publisher(a, Worker(), images).forget_deleted()
        assert images.folders() == [kept.task_id] and os.path.isdir(images.root)
        assert b.images_forgotten("box-b") == []
    finally:
        a.close()
        b.close()


class Box(http.server.BaseHTTPRequestHandler):
    """Another box: answers its image route with these bytes, or 404."""

    files = {}

    def do_GET(self):
        data = self.files.get(self.path)
        self.send_response(200 if data else 404)
        self.send_header("Content-Length", str(len(data or b"")))
        self.end_headers()
        self.wfile.write(data or b"")

    def log_message(self, *args):
        pass


@pytest.fixture
def other_box():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Box)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def link(task_id, kind, index):
    return f"/queue/v1/tasks/{task_id}/{kind}/{index}?sig=x"


def test_an_image_is_fetched_from_the_box_that_made_it_or_a_clear_404(request, other_box):
    store = redis_store(request)
    try:
        made = task(store, "d" * 32, box="box-a", status=TaskStatus.DONE)
        here = task(store, "e" * 32, box="box-b", status=TaskStatus.DONE)
        images = BoxImages(store, "box-b", link, timeout=5)
        with pytest.raises(BoxGone, match="on box box-a, which is not running now"):
            images.fetch(made, "image", 0)
        store.box, store.box_url = "box-a", None
        store.beat(1.0)
        with pytest.raises(BoxGone, match="does not say where other boxes reach it"):
            images.fetch(made, "image", 0)
        store.box_url = other_box
        store.beat(1.0)
        Box.files = {link(made.task_id, "image", 0): b"\x89PNG..."}
        fetched = images.fetch(made, "image", 0)
        assert fetched.data == b"\x89PNG..." and fetched.media_type == "image/png"
        with pytest.raises(NotFound, match="box box-a has none"):
            images.fetch(made, "thumb", 0)
        with pytest.raises(NotFound, match="has no image 0$"):
            images.fetch(here, "image", 0)  # made here: nobody else has it
        store.box_url = "http://127.0.0.1:9"  # nothing listens
        store.beat(1.0)
        with pytest.raises(BoxGone, match="cannot be reached at http://127.0.0.1:9"):
            images.fetch(made, "image", 0)
    finally:
        store.close()
