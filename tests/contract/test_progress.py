"""What a user watching their task sees: position, progress, ETA, preview."""

import time

import pytest

from .client import FINAL
from .test_interrupt import long_task, wait_sampling


def test_queued_tasks_report_their_place_and_running_ones_their_progress(target, models):
    a = target.submit(long_task(target, models[0][0], n_iter=2))
    b = target.submit(long_task(target, models[0][0], steps=3))
    c = target.submit(long_task(target, models[0][0], steps=3))
    assert target.task(c)["position"] == target.task(b)["position"] + 1
    seen, last = [], 0.0
    while True:
        task = target.task(a)
        if task["status"] in FINAL:
            break
        if task["status"] == "running":
            assert task["position"] is None
            p = task["progress"]
            assert p is not None and 0.0 <= p["fraction"] <= 1.0 and p["fraction"] >= last
            assert 0 <= p["step"] <= p["steps"] and p["job_count"] == 2 and 0 <= p["job_no"] < 2
            assert p["eta_seconds"] is None or p["eta_seconds"] >= 0
            last = p["fraction"]
            seen.append(p)
            # while a runs, b is next (unless a ended since it was read)
            waiting = target.task(b)
            assert waiting["position"] == 1 or waiting["status"] != "queued"
        time.sleep(0.05)
    assert task["status"] == "done" and task["position"] is None and task["progress"] is None
    assert len(task["images"]) == 2  # two batches, no grid
    assert any(p["eta_seconds"] is not None for p in seen), seen
    assert any(p["job_no"] == 1 for p in seen)
    queue = target.get("/queue/v1/queue").json()
    assert queue["paused"] is False
    ids = [t["task_id"] for t in queue["data"]]
    assert ids.index(b) < ids.index(c) if b in ids and c in ids else True
    for task_id in (b, c):
        assert target.wait(task_id)["status"] == "done"


def test_live_preview_of_my_running_task(target, models):
    before = target.options().get("show_progress_every_n_steps", 10)
    target.set_options(show_progress_every_n_steps=1)
    try:
        a = target.submit(long_task(target, models[0][0]))
        wait_sampling(target, a)
        got = None
        while target.task(a)["status"] == "running":
            r = target.get(f"/queue/v1/tasks/{a}/preview")
            assert r.status_code in (200, 204)
            if r.status_code == 200:
                got = r
                break
            time.sleep(0.05)
        assert got is not None and got.headers["content-type"] == "image/jpeg" and got.content[:2] == b"\xff\xd8"
        # polling with the tag answers 304 until the preview changes, then 200 and a new tag
        tag, statuses = got.headers["etag"], set()
        while 304 not in statuses and target.task(a)["status"] == "running":
            again = target.get(f"/queue/v1/tasks/{a}/preview", headers={"If-None-Match": tag})
            statuses.add(again.status_code)
            if again.status_code == 200:
                assert again.headers["etag"] != tag
                tag = again.headers["etag"]
        assert 304 in statuses
        target.wait(a)
        assert target.get(f"/queue/v1/tasks/{a}/preview").status_code == 204  # nothing once it ended
    finally:
        target.set_options(show_progress_every_n_steps=before)


def test_tasks_list_is_newest_first_and_filters_by_status(target, models):
    ids = [target.submit({"prompt": "a house", "seed": 1, "steps": 2, "width": 64, "height": 64, "checkpoint": models[0][0]})
           for i in range(3)]
    for task_id in ids:
        target.wait(task_id)
    page = target.get("/queue/v1/tasks", params={"limit": 3}).json()
    assert [t["task_id"] for t in page["data"]] == ids[::-1] and page["count"] >= 3
    done = target.get("/queue/v1/tasks", params={"status": "done", "limit": 500}).json()
    assert all(t["status"] == "done" for t in done["data"]) and set(ids) <= {t["task_id"] for t in done["data"]}
    bad = target.get("/queue/v1/tasks", params={"status": "finished"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "status"]


def test_a_task_queued_just_as_the_queue_runs_empty_is_picked_up(target, models):
    payload = {"prompt": "a house", "seed": 1, "steps": 2, "width": 64, "height": 64, "checkpoint": models[0][0]}
    for _ in range(5):
        first = target.wait(target.submit(payload))
        assert first["status"] == "done"
        second = target.submit(payload)  # right after the queue went empty
        assert target.wait(second, timeout=120)["status"] == "done"


def test_pause_lets_the_running_task_finish_and_starts_nothing_new(target, models):
    a = target.submit(long_task(target, models[0][0], steps=None))
    wait_sampling(target, a)
    assert target.post("/queue/v1/queue/pause").json() == {"paused": True}
    try:
        b = target.submit(long_task(target, models[0][0], steps=3))
        assert target.wait(a)["status"] == "done"
        time.sleep(0.5)
        assert target.task(b)["status"] == "queued" and target.get("/queue/v1/queue").json()["paused"] is True
        assert target.get("/queue/v1/health").json()["paused"] is True
    finally:
        assert target.post("/queue/v1/queue/resume").json() == {"paused": False}
    assert target.wait(b)["status"] == "done"


def test_checkpoints_and_health(target):
    found = target.get("/queue/v1/checkpoints").json()
    assert found["data"] and all({"title", "model_name", "hash", "loaded"} <= set(c) for c in found["data"])
    assert sum(c["loaded"] for c in found["data"]) <= 1
    health = target.get("/queue/v1/health").json()
    assert health["status"] == "ok" and health["worker"] == "running"
    assert {"queued", "running"} <= set(health)


def test_openapi_describes_every_route(target):
    paths = target.get("/openapi.json").json()["paths"]
    for path in ("/txt2img", "/img2img", "/tasks", "/tasks/{task_id}", "/tasks/{task_id}/preview",
                 "/tasks/{task_id}/images/{index}", "/tasks/{task_id}/interrupt", "/queue", "/queue/pause",
                 "/queue/resume", "/checkpoints", "/health"):
        assert "/queue/v1" + path in paths, path
    body = paths["/queue/v1/txt2img"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert "checkpoint" in body["properties"]


def test_webuis_own_progress_shows_the_running_task(target, models):
    """With the gradio UI up, webui's /internal/progress knows our task by its id."""
    a = target.submit(long_task(target, models[0][0]))
    wait_sampling(target, a)
    r = target.post("/internal/progress", json={"id_task": a, "id_live_preview": -1})
    if r.status_code == 404:
        target.wait(a)
        pytest.skip("webui runs without its UI (--nowebui): it has no /internal/progress")
    assert r.json()["active"] is True
    target.wait(a)
    assert target.post("/internal/progress", json={"id_task": a, "id_live_preview": -1}).json()["completed"] is True
