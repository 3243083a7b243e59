"""webui's own API beside the queue: the guard (on once users exist) and the door
(off unless set). Two users and an admin; on a real webui run with --api-auth, set
TASK_QUEUE_API_AUTH=name:password too: native calls then send those credentials
(webui's guard) with each user's queue key in X-API-Key (who they are)."""

import base64
import io
import json
import os
import threading
import time

import httpx
import pytest
from PIL import Image

from .conftest import STANDIN_ADMIN_KEY
from .held import paused  # noqa: F401 (a fixture)

Q = "/queue/v1"
API_AUTH_ENV = "TASK_QUEUE_API_AUTH"


def native(client, key="same"):
    """An HTTP client for webui's own routes, as the user of `client` (key=None: no key)."""
    key = client.key if key == "same" else key
    auth = os.environ.get(API_AUTH_ENV)
    headers = {}
    if auth:  # webui's own guard needs its credentials; the queue key says who is calling
        headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
        if key:
            headers["X-API-Key"] = key
    elif key:
        headers["Authorization"] = f"Bearer {key}"
    return httpx.Client(base_url=client.url, headers=headers, timeout=300)


def long_task(target):
    """A task that runs for seconds: long enough to call every native route meanwhile."""
    return {"prompt": "a long one", "width": 64, "height": 64, "steps": 12 if target.real else 80, "seed": 1}


def short(target, **extra):
    real = getattr(target, "real", False)  # a client of a real webui, or a stand-in
    return {"prompt": "a short one", "width": 64, "height": 64, "steps": 2 if real else 4, "seed": 7,
            "subseed": 3, **extra}


def running(client, task_id, timeout=300):
    """Wait until the task samples (webui's state is its job's)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = client.task(task_id)
        if task["status"] == "running" and (task.get("progress") or {}).get("step", 0) >= 1:
            return task
        assert task["status"] in ("queued", "running"), task
        time.sleep(0.05)
    raise AssertionError(f"task {task_id} did not start sampling")


def set_door(admin, open_):
    """Through webui's own options route, as an admin."""
    with native(admin) as http:
        r = http.post("/sdapi/v1/options", json={"task_queue_native_door": open_})
        assert r.status_code == 200, r.text


@pytest.fixture
def door(admin):
    """The door open for the test."""
    set_door(admin, True)
    try:
        yield
    finally:
        set_door(admin, False)


def test_a_running_task_is_invisible_and_unstoppable_for_others(admin, people):
    ann, bob = people
    task_id = ann.submit(long_task(admin))
    running(ann, task_id)
    nobody = native(admin, key=None)
    with native(ann) as owner, native(bob) as other, native(admin) as boss, nobody:
        seen = owner.get("/sdapi/v1/progress").json()
        assert seen["state"]["job_count"] > 0 and seen["progress"] > 0, seen  # the owner sees it as webui shows it
        assert boss.get("/sdapi/v1/progress").json()["state"]["job_count"] > 0
        for stranger in (other, nobody):
            r = stranger.get("/sdapi/v1/progress")
            if r.status_code == 401:  # webui's --api-auth: no credentials, no answer at all
                assert os.environ.get(API_AUTH_ENV) and stranger is nobody
                continue
            body = r.json()
            assert r.status_code == 200 and set(body) == set(seen), body  # webui's shape
            assert body["current_image"] is None and body["progress"] == 0 and body["textinfo"] is None, body
            assert body["state"]["job"] == "" and body["state"]["job_count"] == 0, body
            assert task_id not in r.text
            # webui's UI route, asked for the task's id: an id webui does not know
            r = stranger.post("/internal/progress", json={"id_task": task_id, "live_preview": True})
            if r.status_code == 404:  # --nowebui: webui has no such route
                continue
            assert r.json()["active"] is False and r.json()["live_preview"] is None, r.text
            assert r.json()["textinfo"] == "Waiting...", r.text
            # interrupt and skip: 409, naming the queue's own route
            for route in ("/sdapi/v1/interrupt", "/sdapi/v1/skip"):
                r = stranger.post(route)
                assert r.status_code in (409, 401), r.text
                if r.status_code == 409:
                    assert "/queue/v1/tasks/{task_id}/interrupt" in r.json()["detail"], r.text
        r = owner.post("/internal/progress", json={"id_task": task_id, "live_preview": False})
        assert r.status_code == 404 or r.json()["active"] is True, r.text
    task = ann.wait(task_id)
    assert task["status"] == "done", task  # nobody else's interrupt or skip reached it


@pytest.mark.parametrize("who", ["owner", "admin"])
def test_its_owner_and_admins_stop_it_through_webui_s_own_interrupt(admin, people, who):
    ann, _ = people
    task_id = ann.submit(long_task(admin))
    running(ann, task_id)
    with native(ann if who == "owner" else admin) as http:
        r = http.post("/sdapi/v1/interrupt")
        assert r.status_code == 200 and r.json() == {}, r.text  # webui's own answer
    assert ann.wait(task_id)["status"] == "interrupted"


def test_native_jobs_still_run_and_stop_as_before(admin, people):
    _, bob = people
    answers = []
    with native(bob) as http:
        job = threading.Thread(target=lambda: answers.append(http.post("/sdapi/v1/txt2img", json=long_task(admin))))
        job.start()
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:  # a native job runs: its progress is webui's, for anyone
            state = http.get("/sdapi/v1/progress").json()["state"]
            if state["job_count"] > 0 and state["sampling_step"] > 0:
                break
            time.sleep(0.05)
        assert http.post("/sdapi/v1/interrupt").json() == {}  # no queued task runs: webui's own interrupt
        job.join()
    r = answers[0]
    assert r.status_code == 200 and len(r.json()["images"]) == 1, r.text
    assert bob.get(f"{Q}/tasks").json()["count"] == 0  # the door is closed: it never was a task


def _pixels(b64):
    image = Image.open(io.BytesIO(base64.b64decode(b64)))
    return image.convert("RGB").tobytes(), image.info.get("parameters")


@pytest.mark.parametrize("kind", ["txt2img", "img2img"])
def test_the_door_answers_in_webui_s_own_shape(admin, people, models, kind):
    ann, _ = people
    payload = short(admin, override_settings={"sd_model_checkpoint": models[1][0]})
    if kind == "img2img":
        init = io.BytesIO()
        Image.new("RGB", (64, 64), (200, 40, 90)).save(init, format="PNG")
        payload.update(init_images=[base64.b64encode(init.getvalue()).decode()])
    with native(ann) as http:
        plain = http.post(f"/sdapi/v1/{kind}", json=payload)
        assert plain.status_code == 200, plain.text
        set_door(admin, True)
        try:
            queued = http.post(f"/sdapi/v1/{kind}", json=payload)
        finally:
            set_door(admin, False)
    assert queued.status_code == 200, queued.text
    a, b = plain.json(), queued.json()
    assert list(b) == list(a) == ["images", "parameters", "info"]
    assert b["parameters"] == a["parameters"]  # the request as webui echoes it
    info_a, info_b = json.loads(a["info"]), json.loads(b["info"])
    assert list(info_b) == list(info_a)
    assert {k: v for k, v in info_b.items() if k != "job_timestamp"} == {k: v for k, v in info_a.items() if k != "job_timestamp"}
    assert info_b["sd_model_name"] and info_b["sd_model_name"] in models[1][0]  # the one override_settings named
    assert [_pixels(x) for x in b["images"]] == [_pixels(x) for x in a["images"]]
    tasks = ann.get(f"{Q}/tasks").json()["data"]  # it was ann's task, on that checkpoint
    assert len(tasks) == 1 and tasks[0]["status"] == "done" and tasks[0]["checkpoint"].split(" [")[0] == models[1][0].split(" [")[0], tasks


def test_with_the_door_open_native_calls_take_fair_turns_with_queued_tasks(admin, people, paused, door):
    ann, bob = people
    mine = [paused.track(ann.submit(short(admin, seed=i))) for i in range(3)]
    answers = []
    with native(bob) as http:
        calls = [threading.Thread(target=lambda i=i: answers.append(http.post("/sdapi/v1/txt2img", json=short(admin, seed=10 + i))))
                 for i in range(2)]
        for call in calls:
            call.start()
        deadline = time.monotonic() + 60
        while admin.get(f"{Q}/tasks", params={"user": bob_name(bob, admin), "status": "queued"}).json()["count"] < 2:
            assert time.monotonic() < deadline, "the native calls were not queued"
            time.sleep(0.05)
        assert admin.post(f"{Q}/queue/resume").status_code == 200
        for call in calls:
            call.join()
    assert [r.status_code for r in answers] == [200, 200], [r.text for r in answers]
    assert all(list(r.json()) == ["images", "parameters", "info"] and len(r.json()["images"]) == 1 for r in answers)
    for task_id in mine:
        ann.wait(task_id)
    ran = admin.get(f"{Q}/tasks", params={"all": "true", "limit": 50}).json()["data"]
    ours = sorted((t for t in ran if t["task_id"] in mine or t["owner"] == bob_name(bob, admin)), key=lambda t: t["started_at"])
    owners = ["bob" if t["owner"] == bob_name(bob, admin) else "ann" for t in ours]
    assert len(owners) == 5 and owners[:4].count("bob") == 2, owners  # turns: neither waits for all of the other's


def bob_name(bob, admin):
    return bob.get(f"{Q}/me").json()["name"]


def test_the_door_keeps_each_caller_s_limits(admin, door):
    tag = str(time.time_ns())[-6:]
    small = admin.add_user(f"small-{tag}", limits={"max_steps": 3, "max_queued": 1})
    with native(small) as http:
        r = http.post("/sdapi/v1/txt2img", json=short(admin, steps=5))
        assert r.status_code == 422, r.text
        assert ["body", "steps"] in [e["loc"] for e in r.json()["detail"]], r.text  # FastAPI's shape, as webui's
        r = http.post("/sdapi/v1/txt2img", json=short(admin, override_settings={"sd_model_checkpoint": "no-such-model"}))
        assert r.status_code == 422 and ["body", "checkpoint"] in [e["loc"] for e in r.json()["detail"]], r.text
    assert small.get(f"{Q}/tasks").json()["count"] == 0


def test_a_client_that_leaves_cancels_its_queued_task(admin, people, paused, door):
    _, bob = people
    with native(bob) as http:
        with pytest.raises(httpx.ReadTimeout):
            http.post("/sdapi/v1/txt2img", json=short(admin), timeout=2)
    deadline = time.monotonic() + 30
    while True:
        tasks = bob.get(f"{Q}/tasks").json()["data"]
        if tasks and tasks[0]["status"] == "cancelled":
            break
        assert time.monotonic() < deadline, tasks
        time.sleep(0.05)


def test_with_webui_s_api_auth_its_names_are_the_callers(standin_factory):
    server = standin_factory(step_seconds=0.05, extra_args=["--api-auth", "ann:pw-a,bob:pw-b"],
                             admin_key=STANDIN_ADMIN_KEY).start()
    ann, bob = (httpx.Client(base_url=server.url, auth=auth, timeout=60) for auth in (("ann", "pw-a"), ("bob", "pw-b")))
    with ann, bob, httpx.Client(base_url=server.url, timeout=60) as nobody:
        r = ann.post(f"{Q}/txt2img", json={"prompt": "a long one", "width": 64, "height": 64, "steps": 60})
        assert r.status_code == 202, r.text
        task_id = r.json()["task_id"]
        deadline = time.monotonic() + 60
        while ann.get(f"{Q}/tasks/{task_id}").json()["status"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert nobody.get("/sdapi/v1/progress").status_code == 401  # webui's own guard, as before
        assert nobody.post("/sdapi/v1/interrupt").status_code == 401
        assert bob.get("/sdapi/v1/progress").json()["state"]["job"] == ""
        assert bob.post("/sdapi/v1/interrupt").status_code == 409
        assert ann.get("/sdapi/v1/progress").json()["state"]["job"] == f"task-queue {task_id}"
        r = ann.post("/sdapi/v1/options", json={"task_queue_native_door": True})  # a person: not the box's to change
        assert r.status_code == 403 and "task_queue_native_door" in r.json()["detail"], r.text
        r = ann.post("/sdapi/v1/options", json={"task_queue_native_door": True}, headers={"X-API-Key": STANDIN_ADMIN_KEY})
        assert r.status_code == 200, r.text  # an admin of the queue (with webui's --api-auth too)
        r = bob.post("/sdapi/v1/txt2img", json=short(server))  # waits for ann's task, then runs as bob's
        assert r.status_code == 200 and len(r.json()["images"]) == 1, r.text
        assert ann.get(f"{Q}/tasks/{task_id}").json()["status"] == "done"
        mine = bob.get(f"{Q}/tasks").json()["data"]
        assert [t["owner"] for t in mine] == ["bob"] and mine[0]["status"] == "done", mine
        assert nobody.post("/sdapi/v1/txt2img", json=short(server)).status_code == 401
