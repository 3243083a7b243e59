"""GET /queue/v1/boxes: which box runs which task, and each box's loaded model. Over
HTTP, on the suite's target (one box, whatever its store) and on two stand-in boxes
sharing a queue in one real redis-server (started here)."""

import time

import pytest
from redis_server import RedisServer, require

ADMIN_KEY = "tq_boxes-view-admin-key-0123456789"
PREFIX = "view:"


def boxes_of(client):
    r = client.get("/queue/v1/boxes")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["count"] == len(body["data"])
    return {box["name"]: box for box in body["data"]}


def base(title):
    """A checkpoint's title without its hash, which it gains once loaded (on Forge, which
    loads nothing at start, after the task's title was resolved)."""
    return title.split(" [")[0]


def test_one_box_names_itself_its_model_and_its_task(admin, models):
    """Any store: the box that answers is listed, with the model the running task
    loaded and that task; idle again afterwards."""
    (title, _), _ = models
    task_id = admin.submit({"prompt": "a box", "steps": 4 if admin.real else 40, "width": 64, "height": 64,
                            "checkpoint": title})
    running = admin.wait(task_id, until={"running", "done", "failed"})
    found = boxes_of(admin)
    this = [box for box in found.values() if box["this"]]
    assert len(this) == 1
    if running["status"] == "running":
        (box,) = this
        assert box["name"] == running["box"] and base(box["checkpoint"]) == base(title)
        if box["busy"]:
            assert box["running"] == task_id and box["owner"] == running["owner"] and box["mine"]
    admin.wait(task_id)
    (box,) = [box for box in boxes_of(admin).values() if box["this"]]
    assert base(box["checkpoint"]) == base(title) and box["tasks_started"] >= 1 and box["started_at"] and box["seen_at"]


def test_a_user_sees_names_and_models_and_only_their_own_task(admin, people, models):
    ann, bob = people
    title = models[0][0]
    steps = 4 if admin.real else 60  # long enough to be seen running (a real webui's CPU step: seconds)
    held = [admin.submit({"prompt": f"hold {i}", "steps": steps, "width": 64, "height": 64, "checkpoint": title})
            for i in range(2)]  # admin's: whatever runs first, the users queue behind it
    mine = ann.submit({"prompt": "ann's", "steps": steps, "width": 64, "height": 64, "checkpoint": title})
    admin.wait(held[0], until={"running", "done"})
    for box in boxes_of(bob).values():
        assert set(box) >= {"name", "checkpoint", "busy", "running", "mine"}
        assert box["owner"] is None and box["tasks_started"] is None and box["url"] is None
        if box["busy"]:
            assert box["running"] is None and not box["mine"]  # the admin's task: not bob's to see
    ran = ann.wait(mine, until={"running", "done"})
    seen = boxes_of(ann).get(ran["box"])
    if ran["status"] == "running" and seen and seen["busy"]:
        assert seen["running"] == mine and seen["mine"] and seen["owner"] is None
    for task_id in held + [mine]:
        admin.wait(task_id)


@pytest.fixture
def two_boxes(standin_factory, tmp_path):
    require()
    redis = RedisServer(tmp_path / "redis").start()
    boxes = [standin_factory(step_seconds=0.1, admin_key=ADMIN_KEY, redis_url=redis.url, redis_prefix=PREFIX,
                             box=name).start() for name in ("box-a", "box-b")]
    yield boxes
    for box in boxes:
        box.stop()
    redis.stop()


def test_each_box_shows_every_box_with_its_model_and_task(two_boxes):
    """Two tasks on two models, one per box: asked on either box, both boxes are
    listed, each with the model and task of the task it runs (the heartbeat carries
    them), and each task names its box."""
    a, b = (box.client() for box in two_boxes)
    deadline = time.monotonic() + 60
    while set(boxes_of(a)) != {"box-a", "box-b"}:  # the other box's first heartbeat
        assert time.monotonic() < deadline, boxes_of(a)
        time.sleep(0.1)
    sent = {a.submit({"prompt": "long A", "steps": 150, "width": 64, "height": 64, "checkpoint": "modelA"}): "modelA",
            a.submit({"prompt": "long B", "steps": 150, "width": 64, "height": 64, "checkpoint": "modelB"}): "modelB"}
    running = {task_id: a.wait(task_id, until={"running"}) for task_id in sent}
    assert {t["box"] for t in running.values()} == {"box-a", "box-b"}
    deadline = time.monotonic() + 30
    while True:  # the other box's record is at most one heartbeat old
        views = [boxes_of(a), boxes_of(b)]
        if all({name: box["running"] for name, box in v.items()} == {t["box"]: i for i, t in running.items()}
               for v in views):
            break
        assert time.monotonic() < deadline, views
        time.sleep(0.2)
    for view, asked in zip(views, ("box-a", "box-b")):
        for task_id, task in running.items():
            box = view[task["box"]]
            assert box["checkpoint"].startswith(sent[task_id]) and box["busy"] and box["owner"] == "admin"
            assert box["this"] == (task["box"] == asked)
    for task_id in sent:
        assert a.post(f"/queue/v1/tasks/{task_id}/interrupt").status_code == 200  # (either box stops either task)
    for box in two_boxes:
        box.stop()
