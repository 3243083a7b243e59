"""Fair turns, fewer model switches, reordering, honest positions and ETAs, over HTTP."""

import uuid

import pytest

TINY = {"prompt": "s", "steps": 2, "width": 64, "height": 64}


@pytest.fixture
def paused(admin):
    assert admin.post("/queue/v1/queue/pause").status_code == 200
    try:
        yield admin
    finally:
        admin.post("/queue/v1/queue/resume")


def names(tag):
    return f"heavy-{tag}", f"light-{tag}"


def queued_order(client):
    return [t["task_id"] for t in client.get("/queue/v1/queue").json()["data"] if t["status"] == "queued"]


def run_order(client, ids):
    tasks = [client.wait(i) for i in ids]
    return [t["task_id"] for t in sorted(tasks, key=lambda t: t["started_at"])]


def test_one_task_is_not_held_back_by_someone_elses_fifty(paused, models):
    tag = uuid.uuid4().hex[:6]
    heavy, light = (paused.add_user(n) for n in names(tag))
    loaded = models[0][0]
    many = [heavy.submit({**TINY, "checkpoint": loaded}) for _ in range(6)]
    one = light.submit({**TINY, "checkpoint": loaded})
    assert light.task(one)["position"] <= 2 and heavy.task(many[-1])["position"] >= 6
    paused.post("/queue/v1/queue/resume")
    order = run_order(paused, many + [one])
    assert order.index(one) <= 1, order


def test_tasks_on_the_loaded_model_run_together_within_the_bound(paused, models):
    heavy = paused.add_user(f"grouper-{uuid.uuid4().hex[:6]}")
    (a, _), (b, _) = models
    # make `a` the loaded model, then queue b, a, b, a, b, a
    paused.post("/queue/v1/queue/resume")
    heavy.wait(heavy.submit({**TINY, "checkpoint": a}))
    paused.post("/queue/v1/queue/pause")
    ids = [heavy.submit({**TINY, "checkpoint": m}) for m in (b, a, b, a, b, a)]
    expected = [ids[i] for i in (1, 3, 5, 0, 2, 4)]  # the a's first, then the b's in their order
    assert queued_order(heavy) == expected
    paused.post("/queue/v1/queue/resume")
    assert run_order(heavy, ids) == expected


def test_positions_count_the_running_task_and_hold_still_between_polls(admin, models):
    user = admin.add_user(f"watcher-{uuid.uuid4().hex[:6]}")
    long = user.submit({**TINY, "steps": 40, "checkpoint": models[0][0]})
    user.wait(long, until={"running"})
    queued = [user.submit({**TINY, "checkpoint": models[0][0]}) for _ in range(3)]
    try:
        first = [user.task(t) for t in queued]
        again = [user.task(t) for t in queued]
        assert [t["position"] for t in first] == [t["position"] for t in again] == [1, 2, 3]
        assert [t["ahead"] for t in first] == [1, 2, 3]  # the running one counts
    finally:
        user.post(f"/queue/v1/tasks/{long}/interrupt")
    for t in queued:
        user.wait(t)


def test_owners_reorder_their_own_tasks_and_admins_anyones(paused, models):
    tag = uuid.uuid4().hex[:6]
    ann, bob = paused.add_user(f"ann-{tag}"), paused.add_user(f"bob-{tag}")
    m = models[0][0]
    a1, a2, a3 = (ann.submit({**TINY, "checkpoint": m}) for _ in range(3))
    b1 = bob.submit({**TINY, "checkpoint": m})
    r = ann.post(f"/queue/v1/tasks/{a3}/move", json={"to": "front"})
    assert r.status_code == 200, r.text
    assert [t for t in queued_order(ann) if t] == [a3, a1, a2]  # bob's entry is anonymous (None)
    assert ann.post(f"/queue/v1/tasks/{a1}/move", json={"before": a3}).status_code == 200
    assert [t for t in queued_order(ann) if t] == [a1, a3, a2]
    assert ann.post(f"/queue/v1/tasks/{a2}/move", json={"to": "back"}).status_code == 200
    # nobody moves another user's task but an admin; bad bodies name the field
    assert bob.post(f"/queue/v1/tasks/{a1}/move", json={"to": "front"}).status_code == 404
    assert ann.post(f"/queue/v1/tasks/{a1}/move", json={"before": b1}).status_code == 404
    assert ann.post(f"/queue/v1/tasks/{a1}/move", json={"to": "sideways"}).status_code == 422
    assert ann.patch(f"/queue/v1/tasks/{a1}", json={"priority": 5}).status_code == 403
    # the admin moves bob's task to the front of everything
    assert paused.post(f"/queue/v1/tasks/{b1}/move", json={"to": "front"}).status_code == 200
    assert queued_order(paused)[0] == b1
    # and a priority puts ann's last task next
    r = paused.patch(f"/queue/v1/tasks/{a2}", json={"priority": 50})
    assert r.status_code == 200 and r.json()["position"] == 1
    assert paused.patch(f"/queue/v1/tasks/{a2}", json={"priority": "high"}).status_code == 422
    paused.post("/queue/v1/queue/resume")
    assert run_order(paused, [a1, a2, a3, b1])[0] == a2
    assert ann.post(f"/queue/v1/tasks/{a1}/move", json={"to": "front"}).status_code == 409


def test_etas_follow_the_run_order_once_speeds_are_known(paused, models):
    user = paused.add_user(f"eta-{uuid.uuid4().hex[:6]}")
    m = models[0][0]
    paused.post("/queue/v1/queue/resume")
    user.wait(user.submit({**TINY, "checkpoint": m}))  # a measured task: the speed is known
    paused.post("/queue/v1/queue/pause")
    ids = [user.submit({**TINY, "checkpoint": m}) for _ in range(3)]
    etas = [user.task(t)["eta_seconds"] for t in ids]
    assert all(e is not None and e > 0 for e in etas) and etas == sorted(etas), etas
    queue = user.get("/queue/v1/queue").json()
    assert queue["eta_seconds"] is not None and queue["eta_seconds"] >= etas[-1] - 0.1
    paused.post("/queue/v1/queue/resume")
    for t in ids:
        user.wait(t)
