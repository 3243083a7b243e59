"""A disk without room for a task's images: the task fails with a plain message and no
image files left behind, the database stays whole, and the queue goes on.

Two ways to run out of room, both at the OS level under the stand-in as its own process:
  tmpfs   the queue's folder (database and images) on a small tmpfs mounted for the test,
          filled up by a file of the test's own. Needs root and the right to mount; skips
          with the reason otherwise.
  rlimit  RLIMIT_FSIZE set on the stand-in process (prlimit): no file it writes may grow
          past the limit, so its writes fail with EFBIG (Python ignores SIGXFSZ). Runs
          everywhere.
A real webui's disk cannot be filled by a test: these skip against one."""

import errno
import os
import resource
import subprocess
import time
import uuid

import pytest

from . import stored
from .conftest import URL_ENV

Q = "/queue/v1"
TMPFS_BYTES = 8 * 1024 * 1024
BIG = {"prompt": "a big one", "seed": 1, "steps": 2, "width": 1024, "height": 1024}  # a PNG of ~1.6 MB
SMALL = {"prompt": "a small one", "seed": 2, "steps": 2, "width": 64, "height": 64}  # a PNG of ~7 KB


class Tmpfs:
    name, says = "tmpfs", "the disk is full (No space left on device)"

    def __init__(self, server):
        self.server = server
        self.folder = os.path.join(server.data_dir, "task-queue")  # database and images
        self.filler = os.path.join(self.folder, f"filler-{uuid.uuid4().hex}")
        os.makedirs(self.folder, exist_ok=True)
        if os.geteuid() != 0:
            pytest.skip("a tmpfs needs root to mount (the rlimit variant runs instead)")
        out = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_BYTES}", "tmpfs", self.folder],
                             capture_output=True, text=True)
        if out.returncode != 0:
            pytest.skip(f"mounting a tmpfs failed ({out.stderr.strip()}): the rlimit variant runs instead")

    def leave(self, free):
        """Fill the file system until `free` bytes are left (0: to the last byte)."""
        stat = os.statvfs(self.folder)
        size = stat.f_bavail * stat.f_frsize - free if free else float("inf")
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            while size > 0:
                size -= os.write(fd, b"\0" * int(min(size, 1 << 20)))
        except OSError as e:
            assert e.errno == errno.ENOSPC and not free, e
        finally:
            os.close(fd)

    def free(self):
        os.unlink(self.filler)

    def close(self):
        if subprocess.run(["umount", self.folder]).returncode != 0:
            subprocess.run(["umount", "-l", self.folder])


class Rlimit:
    name, says = "rlimit", "the file system allows no file this large (File too large)"

    def __init__(self, server):
        self.server = server

    def leave(self, free):
        """No file may grow by more than `free` bytes past the largest the stand-in writes now."""
        folders = [os.path.join(self.server.data_dir, "task-queue"), self.server.folder]
        largest = max(os.path.getsize(os.path.join(d, f)) for d in folders for f in os.listdir(d)
                      if os.path.isfile(os.path.join(d, f)))
        _, hard = resource.prlimit(self.server.process.pid, resource.RLIMIT_FSIZE)
        resource.prlimit(self.server.process.pid, resource.RLIMIT_FSIZE, (largest + free, hard))

    def free(self):
        _, hard = resource.prlimit(self.server.process.pid, resource.RLIMIT_FSIZE)
        resource.prlimit(self.server.process.pid, resource.RLIMIT_FSIZE, (hard, hard))

    def close(self):
        pass


@pytest.fixture(params=[Tmpfs, Rlimit], ids=["tmpfs", "rlimit"])
def full(request, tmp_path):
    """-> (server, the way its disk runs out of room); the server is stopped before the
    tmpfs goes."""
    if os.environ.get(URL_ENV):
        pytest.skip("a real webui's disk cannot be filled by a test: stand-in only")
    from .client import StandIn

    server = StandIn(tmp_path / "server", step_seconds=0.05)
    disk = request.param(server)
    try:
        server.start()
        yield server, disk
    finally:
        server.stop()
        disk.close()


def database_is_whole(server):
    return stored.integrity(server) == [("ok",)]


def image_files(server, task_id):
    folder = os.path.join(server.data_dir, "task-queue", "images", task_id)
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def test_a_task_whose_images_find_no_room_fails_and_the_queue_goes_on(full):
    server, disk = full
    client = server.client()
    assert client.post(f"{Q}/queue/pause").status_code == 200
    big, small = client.submit(BIG), client.submit(SMALL)
    disk.leave(512 * 1024)  # room for the small image and the database, not for the big image
    assert client.post(f"{Q}/queue/resume").status_code == 200

    failed, done = client.wait(big), client.wait(small)
    assert failed["status"] == "failed" and failed["images"] == []
    assert failed["error"] == f"saving images failed: {disk.says}; no image of this task was kept"
    assert image_files(server, big) == []  # neither the images saved before nor a temporary file
    assert done["status"] == "done" and client.image(done).size == (64, 64)
    assert image_files(server, small) == ["0.png"]  # webui's generation info is not written (only the door uses it)
    health = client.get(f"{Q}/health").json()
    assert (health["worker"], health["paused"], health["failures_in_a_row"]) == ("running", False, 0)
    disk.free()
    assert database_is_whole(server)


def test_a_disk_full_to_the_last_byte_holds_the_queue_until_there_is_room(full):
    """Not even the database can write: the task stays the running one, and nothing
    else starts, until there is room again; then it is recorded once, with its images
    if they found room by then (they are saved while the next task starts, which the
    full database refuses), else failed saying why, with none."""
    server, disk = full
    if stored.on_redis(server):
        pytest.skip("about the SQLite database on the full disk: a queue on Redis keeps nothing there")
    if disk.name != "tmpfs":
        pytest.skip("the stand-in's log (which shows the refused write) grows under the same rlimit: tmpfs only")
    client = server.client()
    big = client.submit({**BIG, "steps": 40})  # runs ~2 s: the disk fills meanwhile
    small = client.submit(SMALL)
    client.wait(big, until={"running"})
    disk.leave(0)
    log = os.path.join(server.folder, "server.log")
    deadline = time.monotonic() + 60
    while "database or disk is full" not in open(log, errors="replace").read():
        assert time.monotonic() < deadline, "the worker never met the full disk"
        time.sleep(0.05)
    assert (client.task(big)["status"], client.task(small)["status"]) == ("running", "queued")

    disk.free()
    ended, done = client.wait(big), client.wait(small)
    if ended["status"] == "failed":
        assert ended["error"].startswith(f"saving images failed: {disk.says}") and image_files(server, big) == []
    else:
        assert (ended["status"], len(ended["images"]), image_files(server, big)) == ("done", 1, ["0.png"])
    assert done["status"] == "done" and image_files(server, small) == ["0.png"]
    assert database_is_whole(server)
