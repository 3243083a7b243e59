"""Images are durable before a task says done, and start-up leaves no file that no task
lists: images.py writes, recovery.py settles what a dead process left."""

import os

import pytest
from PIL import Image

from webui_taskqueue.store import images as images_module
from webui_taskqueue.store.images import ImageStore
from webui_taskqueue.store.recovery import recover
from webui_taskqueue.store.sqlite.store import SQLiteStore
from webui_taskqueue.store.contract import RESTART_MESSAGE
from webui_taskqueue.records.tasks import Task, TaskStatus, TaskType



@pytest.fixture
def images(tmp_path):
    return ImageStore(str(tmp_path / "images"))


def make(task_id):
    return Task(task_id=task_id, type=TaskType.TXT2IMG, owner="ann", checkpoint="a.safetensors",
                params={"prompt": "p"}, created_at=1.0)


def pictures(n):
    return [Image.new("RGB", (8, 8), (40 * i, 0, 0)) for i in range(n)]


def on_disk(images):
    """Every file under the images folder, relative to it."""
    found = []
    for folder, _, files in os.walk(images.root):
        found += [os.path.relpath(os.path.join(folder, f), images.root) for f in files]
    return sorted(found)


def test_images_of_lists_each_existing_tasks_images(store):
    store.add(make("a"))
    store.add(make("b"))
    store.start("b", 2.0)
    store.finish("b", TaskStatus.DONE, 3.0, images=["0.png", "1.png"])
    many = [f"x{i}" for i in range(1200)] + ["a", "b"]  # more ids than one SQL statement takes
    assert store.images_of(many) == {"a": [], "b": ["0.png", "1.png"]}


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="reads open files' paths from /proc")
def test_saved_images_are_on_disk_before_save_returns(images, monkeypatch):
    events = []
    fsync, rename = os.fsync, os.rename

    def logged_fsync(fd):
        events.append(("fsync", os.path.relpath(os.readlink(f"/proc/self/fd/{fd}"), images.root)))
        fsync(fd)

    def logged_rename(src, dst):
        events.append(("rename", os.path.relpath(dst, images.root)))
        rename(src, dst)

    monkeypatch.setattr(os, "fsync", logged_fsync)
    monkeypatch.setattr(os, "rename", logged_rename)
    assert images.save("t1", pictures(2), ["first", "second"]) == ["0.png", "1.png"]
    staging = events[0][1].rsplit("/", 1)[0]
    assert staging.startswith(".partial/t1-")
    assert events == [("fsync", f"{staging}/0.png"), ("fsync", f"{staging}/1.png"), ("fsync", staging),
                      ("rename", "t1"), ("fsync", ".")]
    assert on_disk(images) == ["t1/0.png", "t1/1.png"]
    with Image.open(images.path("t1", "1.png")) as image:
        assert image.info["parameters"] == "second"


def test_a_save_that_fails_midway_leaves_nothing(images):
    class Broken:
        def save(self, f, **kw):
            f.write(b"half a png")
            raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        images.save("t1", [*pictures(1), Broken()], ["a", "b"])
    assert on_disk(images) == [] and os.listdir(images.root) == [".partial"]


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="reads open files' paths from /proc")
def test_a_thumbnail_is_written_by_way_of_the_partial_folder(images, monkeypatch):
    images.save("t1", pictures(1), ["a"])
    seen = []
    monkeypatch.setattr(os, "fsync", lambda fd: seen.append(os.readlink(f"/proc/self/fd/{fd}")))
    path = images.thumbnail("t1", "0.png")
    assert os.path.dirname(seen[0]) == images.partial and path.endswith("t1/0.thumb.jpg")
    assert on_disk(images) == ["t1/0.png", "t1/0.thumb.jpg"]


def test_start_up_removes_cut_short_writes_and_folders_no_task_lists(store, images):
    for task_id in ("done", "running", "deleted", "failed"):
        store.add(make(task_id))
    store.add(make("queued"))
    for task_id in ("done", "running", "deleted", "failed"):
        store.start(task_id, 2.0)
        images.save(task_id, pictures(2), ["x", "y"])  # the worker saves, then records
    store.finish("done", TaskStatus.DONE, 3.0, images=["0.png", "1.png"])
    images.thumbnail("done", "1.png")
    store.finish("failed", TaskStatus.FAILED, 3.0, error="stopped before it could list them")
    store.finish("deleted", TaskStatus.DONE, 3.0, images=["0.png", "1.png"])
    store.delete("deleted")  # and died before removing the folder
    os.makedirs(os.path.join(images.partial, "queued-x1"))
    with open(os.path.join(images.partial, "queued-x1", "0.png"), "wb") as f:
        f.write(b"\x89PNG half")
    with open(os.path.join(images.partial, "abc.tmp"), "wb") as f:
        f.write(b"half a thumbnail")

    recovered = recover(store, images, now=4.0)

    assert recovered.failed == ["running"] and store.get("running").error == RESTART_MESSAGE
    assert sorted(recovered.removed) == ["deleted", "failed", "running"] and recovered.partial == 2
    assert on_disk(images) == ["done/0.png", "done/1.png", "done/1.thumb.jpg"]
    assert store.get("queued").status == TaskStatus.QUEUED


def test_start_up_opens_no_folder_of_a_task_that_lists_its_images(tmp_path, monkeypatch):
    store, images = SQLiteStore(str(tmp_path / "tasks.sqlite3")), ImageStore(str(tmp_path / "images"))
    for i in range(300):
        store.add(make(f"t{i}"))
        store.start(f"t{i}", 2.0)
        store.finish(f"t{i}", TaskStatus.DONE, 3.0, images=images.save(f"t{i}", pictures(1), ["x"]))
    opened = []
    scandir = os.scandir
    monkeypatch.setattr(images_module.os, "scandir", lambda path: opened.append(path) or scandir(path))
    assert recover(store, images, now=4.0).removed == []
    assert sorted(opened) == sorted([images.root, images.partial])
    store.close()
