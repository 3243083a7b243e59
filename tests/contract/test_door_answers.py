"""A native call through the door answers as soon as its task is final, whatever ends
it: done (200, webui's shape), failed (500, webui's error shape) or cancelled by its
owner while queued (409)."""

import os
import threading
import time

import pytest

from .conftest import URL_ENV
from .held import paused  # noqa: F401 (a fixture)
from .test_native import door, native, short  # noqa: F401 (door: a fixture)

Q = "/queue/v1"
RECHECK_SECONDS = 5.0  # api/routes/native.py: a door that missed its task's final event reads it this often


def call_in_thread(http, payload):
    answer = {}
    thread = threading.Thread(target=lambda: answer.update(r=http.post("/sdapi/v1/txt2img", json=payload)))
    thread.start()
    return thread, answer


def only_task(client, status):
    deadline = time.monotonic() + 60
    while True:
        tasks = client.get(f"{Q}/tasks", params={"status": status}).json()["data"]
        if tasks:
            return tasks[0]
        assert time.monotonic() < deadline, f"no {status} task"
        time.sleep(0.05)


def test_a_door_call_answers_when_its_task_is_done(admin, people, door):
    ann, _ = people
    with native(ann) as http:
        r = http.post("/sdapi/v1/txt2img", json=short(admin))
    assert r.status_code == 200 and len(r.json()["images"]) == 1, r.text
    assert ann.get(f"{Q}/tasks").json()["data"][0]["status"] == "done"


def test_a_door_call_answers_when_its_task_fails(admin, people, door):
    if os.environ.get(URL_ENV):
        pytest.skip("the stand-in fails a prompt with the word 'oom'; a real webui cannot be made to")
    ann, _ = people
    with native(ann) as http:
        r = http.post("/sdapi/v1/txt2img", json=short(admin, prompt="an oom one"))
    assert r.status_code == 500 and "out of memory" in r.json()["errors"], r.text
    assert ann.get(f"{Q}/tasks").json()["data"][0]["status"] == "failed"


def test_a_door_call_answers_when_its_task_is_cancelled(admin, people, paused, door):
    _, bob = people
    with native(bob) as http:
        thread, answer = call_in_thread(http, short(admin))
        task = paused.track(only_task(bob, "queued")["task_id"])
        cancelled_at = time.monotonic()
        assert bob.post(f"{Q}/tasks/{task}/interrupt").json()["status"] == "cancelled"
        thread.join(60)
    # woken by the task's final event, not by the door's occasional read of its task
    assert time.monotonic() - cancelled_at < RECHECK_SECONDS
    assert answer["r"].status_code == 409 and "cancelled" in answer["r"].json()["detail"], answer["r"].text
