"""Stopping webui stops the queue first: the running task is recorded as stopped
(interrupted, with the reason), queued tasks stay queued and run at the next start.
Each way webui v1.10.1 stops, on the stand-in as a real process (see standin/server.py)."""

import os
import signal
import time

import pytest

from webui_taskqueue.runtime.lifecycle import STOP_MESSAGE, STOP_SECONDS

from . import stored

LONG = {"prompt": "long", "steps": 150, "width": 64, "height": 64}
SHORT = {"prompt": "short", "steps": 2, "width": 64, "height": 64}


def stop_by_signal(signum):
    def stop(server):
        server.process.send_signal(signum)
    return stop


def stop_by_webui_stop_route(server):
    assert server.client().post("/sdapi/v1/server-stop").status_code == 200


@pytest.mark.parametrize("flags, stop, exit_code", [
    ([], stop_by_signal(signal.SIGTERM), -signal.SIGTERM),  # with the UI: the system's default, after ours
    ([], stop_by_signal(signal.SIGINT), 0),  # Ctrl+C: webui's handler (os._exit(0)), after ours
    (["--nowebui"], stop_by_signal(signal.SIGTERM), -signal.SIGTERM),  # uvicorn shuts down, then ours
    (["--api-server-stop"], stop_by_webui_stop_route, 0),  # webui's own Stop: the main loop ends, then atexit
], ids=["sigterm", "sigint", "sigterm-nowebui", "server-stop"])
def test_stopping_webui_marks_the_running_task_and_leaves_the_queue(standin_factory, flags, stop, exit_code):
    server = standin_factory(step_seconds=0.05, extra_args=flags).start()
    client = server.client()
    running = client.submit(LONG)
    queued = [client.submit(SHORT) for _ in range(2)]
    client.wait(running, until={"running"})
    time.sleep(0.3)  # a few steps in

    began = time.monotonic()
    stop(server)
    assert server.process.wait(STOP_SECONDS + 10) == exit_code
    assert time.monotonic() - began < STOP_SECONDS  # it let go of the task at the next step

    # the database as the stopped process left it, before anything starts again
    rows = {task_id: f"{row['status']}: {row['error'] or ''}" for task_id, row in stored.tasks(server).items()}
    assert rows[running] == f"interrupted: {STOP_MESSAGE}"
    assert [rows[t] for t in queued] == ["queued: ", "queued: "]

    server.start()
    client = server.client()
    for task_id in queued:
        assert client.wait(task_id)["status"] == "done"
    stopped = client.task(running)
    assert (stopped["status"], stopped["error"], stopped["images"]) == ("interrupted", STOP_MESSAGE, [])
    with open(os.path.join(server.folder, "server.log"), encoding="utf-8", errors="replace") as log:
        assert log.read().count(f"Starting job task-queue {running}") == 1  # never run again
    assert os.listdir(os.path.join(server.data_dir, "task-queue", "images", ".partial")) == []
    assert sorted(os.listdir(os.path.join(server.data_dir, "task-queue", "images"))) == sorted([".partial", *queued])
