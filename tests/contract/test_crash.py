"""kill -9 at any moment loses nothing. The stand-in webui runs as a real process on a
slow disk (each fsync and COMMIT waits), three users submit while tasks run, and the
server is killed again and again: while a task samples, while its images are written,
between its images landing and the database saying done, and at random. After each
kill the database is read as the dead process left it, then the server starts again.

What must hold: every task that got a 202 is there; a task that was running is failed
by the restart and never runs again; everything queued runs; a final task never
changes; nothing half-written and no file that no task lists survives the start;
SQLite's integrity check passes every time."""

import collections
import os
import random
import threading
import time

import httpx
from PIL import Image

from webui_taskqueue.store.contract import RESTART_MESSAGE

from . import stored

KILLS = 20
PHASES = ("sampling", "saving", "committing", "anywhere")  # where each kill aims, in turn
DISK_SECONDS = 0.05  # each fsync and COMMIT of the server's process
ADMIN_KEY = "tq_crash-test-admin-key-0123456789"
STARTED = "Starting job task-queue "  # the stand-in's log line as a generation starts


class Crashed:
    """The state a killed server left on disk."""

    def __init__(self, server):
        queue = os.path.join(server.data_dir, "task-queue")
        self.images = os.path.join(queue, "images")
        self.partial = os.path.join(self.images, ".partial")
        self.integrity, self.tasks = stored.integrity(server), stored.tasks(server)
        self.cut_short = [os.path.join(self.partial, n) for n in os.listdir(self.partial)]
        self.folders = {n: sorted(os.listdir(os.path.join(self.images, n)))
                        for n in os.listdir(self.images) if n != ".partial"}
        # folders that their task does not list: deleted tasks, or images in place before "done"
        self.unlisted = [os.path.join(self.images, n) for n in self.folders
                         if not (self.tasks.get(n) or {}).get("images")]
        self.running = [t for t, row in self.tasks.items() if row["status"] == "running"]

    def phases(self):
        """What the kill hit: a task's images being written, in place but not yet
        recorded, a task sampling; several at once, since a finished task is recorded
        while the next one samples."""
        saving = {os.path.basename(p).split("-")[0] for p in self.cut_short}  # staging: <task id>-...
        committing = {os.path.basename(p) for p in self.unlisted}
        hit = {"saving"} if saving else set()
        hit |= {"committing"} if committing else set()
        hit |= {"sampling"} if set(self.running) - saving - committing else set()
        return hit or {"between tasks"}


class Submitters:
    """People submitting at their own pace while the server dies and comes back."""

    def __init__(self, clients, most_queued=6):
        self.clients, self.most_queued = clients, most_queued
        self.accepted = {}  # task_id -> payload, for each 202
        self.errors = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(c, random.Random(i)), daemon=True)
                         for i, c in enumerate(clients)]

    def __enter__(self):
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for t in self._threads:
            t.join(10)

    def _run(self, client, rng):
        http = httpx.Client(base_url=client.url, headers={"Authorization": f"Bearer {client.key}"}, timeout=5)
        while not self._stop.is_set():
            try:
                if http.get("/queue/v1/health").json()["queued"] < self.most_queued:
                    payload = {"prompt": f"crash {rng.random()}", "seed": rng.randrange(1 << 30),
                               "steps": rng.choice([3, 4, 6]), "batch_size": rng.choice([1, 2]),
                               "width": 64, "height": 64, "checkpoint": rng.choice(["modelA", "modelB"])}
                    r = http.post("/queue/v1/txt2img", json=payload)
                    if r.status_code == 202:
                        self.accepted[r.json()["task_id"]] = payload
                    elif r.status_code >= 500:
                        self.errors.append(r.text)
            except (httpx.HTTPError, ValueError):
                pass  # down, or killed mid-answer: not accepted
            time.sleep(rng.uniform(0.05, 0.25))
        http.close()


def wait_for(condition, timeout):
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.001)


def aim(phase, server, log_offset, rng):
    """Wait for the moment to kill at: while a task samples, writes its images, or
    has them in place but not yet recorded; or at random."""
    images = os.path.join(server.data_dir, "task-queue", "images")
    if phase == "sampling":
        wait_for(lambda: STARTED in read_log(server, log_offset), 10)
        time.sleep(rng.uniform(0, 0.06))
    elif phase == "saving":
        wait_for(lambda: os.listdir(os.path.join(images, ".partial")), 10)
        time.sleep(rng.uniform(0, 0.03))
    elif phase == "committing":
        present = set(os.listdir(images))
        wait_for(lambda: set(os.listdir(images)) - present, 10)
        time.sleep(rng.uniform(0, 2 * DISK_SECONDS))
    else:
        time.sleep(rng.uniform(0, 1.5))


def read_log(server, offset=0):
    with open(os.path.join(server.folder, "server.log"), encoding="utf-8", errors="replace") as f:
        f.seek(offset)
        return f.read()


def test_kill_9_at_any_moment_loses_no_accepted_task_and_runs_none_twice(standin_factory):
    began = time.monotonic()
    rng = random.Random(8)
    server = standin_factory(step_seconds=0.02, admin_key=ADMIN_KEY,
                             extra_args=["--disk-seconds", str(DISK_SECONDS)]).start()
    admin = server.client()
    clients = [admin, admin.add_user("ann"), admin.add_user("bob")]
    hits = collections.Counter()
    final_seen, started_seen, running_at_kill = {}, {}, set()

    with Submitters(clients) as people:
        for kill in range(KILLS):
            log_offset = os.path.getsize(os.path.join(server.folder, "server.log"))
            aim(PHASES[kill % len(PHASES)], server, log_offset, rng)
            server.kill()
            crashed = Crashed(server)
            hits.update(crashed.phases())

            assert crashed.integrity == [("ok",)]
            assert set(people.accepted) <= set(crashed.tasks), "a task that got a 202 is gone"
            for task_id, row in crashed.tasks.items():
                if row["started_at"] is not None:
                    assert started_seen.setdefault(task_id, row["started_at"]) == row["started_at"], "started again"
                if row["status"] not in ("queued", "running"):
                    assert final_seen.setdefault(task_id, row) == row, "a final task changed"
            running_at_kill.update(crashed.running)

            server.start()  # answers only once start-up recovery is done
            for path in crashed.cut_short + crashed.unlisted:
                assert not os.path.exists(path), f"left after the start: {os.path.relpath(path, crashed.images)}"
            for task_id in crashed.running:
                task = admin.task(task_id)
                assert (task["status"], task["error"]) == ("failed", RESTART_MESSAGE)

    # the queue drains: everything accepted ends, once
    wait_for(lambda: admin.get("/queue/v1/health").json()["queued"] + admin.get("/queue/v1/health").json()["running"] == 0, 120)
    server.stop()
    end = Crashed(server)
    assert end.integrity == [("ok",)] and not people.errors
    assert set(people.accepted) <= set(end.tasks)
    generations = collections.Counter(line.split(STARTED)[1].strip() for line in read_log(server).splitlines()
                                      if STARTED in line)
    assert max(generations.values()) == 1, "a task ran twice"
    for task_id, row in end.tasks.items():
        if task_id in running_at_kill:
            assert (row["status"], row["error"]) == ("failed", RESTART_MESSAGE)
            continue
        assert row["status"] == "done" and generations[task_id] == 1, (task_id, row["status"], row["error"])
        assert row["images"] == [f"{i}.png" for i in range(row["params"]["batch_size"])]
        assert end.folders.pop(task_id) == sorted(row["images"])  # the images alone
        for name, infotext in zip(row["images"], row["infotexts"]):
            with Image.open(os.path.join(end.images, task_id, name)) as image:
                image.load()  # whole, not half-written
                assert image.info["parameters"] == infotext
    assert end.folders == {} and end.cut_short == []  # no file that no task lists

    # the kills hit what they aimed at, more than once each
    assert hits["sampling"] >= 2 and hits["saving"] >= 2 and hits["committing"] >= 2, hits
    print(f"\ncrash test: {KILLS} kills {dict(hits)}, {len(people.accepted)} tasks accepted, "
          f"{sum(r['status'] == 'done' for r in end.tasks.values())} done, {len(running_at_kill)} failed by a kill, "
          f"{time.monotonic() - began:.0f} s")
