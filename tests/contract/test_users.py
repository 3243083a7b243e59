"""People over real HTTP: two users and an admin. No route leaks another user's task,
prompt, preview or image; no user's action changes another's task; keys, roles and
limits do what they say."""

import base64
import io
import uuid

import pytest
from PIL import Image

from .client import FINAL

SECRET_PROMPT = "ann's secret lighthouse"
TINY = {"steps": 2, "width": 64, "height": 64}


def png_b64(size=(64, 64)):
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


@pytest.fixture(scope="module")
def world(admin):
    """ann with a done task (images), a queued txt2img and a queued img2img; bob with a
    queued task; the queue paused so that queued tasks stay queued."""
    tag = uuid.uuid4().hex[:6]
    ann, bob = admin.add_user(f"ann-{tag}"), admin.add_user(f"bob-{tag}")
    done = ann.wait(ann.submit({"prompt": SECRET_PROMPT, **TINY}))
    assert done["status"] == "done", done
    assert admin.post("/queue/v1/queue/pause").status_code == 200
    try:
        queued = ann.submit({"prompt": SECRET_PROMPT, **TINY})
        img2img = ann.submit({"prompt": SECRET_PROMPT, "init_images": [png_b64()], **TINY}, kind="img2img")
        bobs = bob.submit({"prompt": "bob's", **TINY})
        yield {"admin": admin, "ann": ann, "bob": bob, "done": done, "queued": queued, "img2img": img2img,
               "bobs": bobs, "names": (ann_name(admin, ann), ann_name(admin, bob))}
    finally:
        for client, task_id in ((ann, queued), (ann, img2img), (bob, bobs)):
            client.post(f"/queue/v1/tasks/{task_id}/interrupt")
        admin.post("/queue/v1/queue/resume")


def ann_name(admin, client):
    return client.get("/queue/v1/me").json()["name"]


def task_routes(task_id):
    """Every route that names a task: (method, path)."""
    base = f"/queue/v1/tasks/{task_id}"
    return [("get", base), ("get", base + "/preview"), ("get", base + "/images/0"),
            ("get", base + "/images/0/thumb"), ("get", base + "/inputs/0"),
            ("post", base + "/interrupt"), ("delete", base)]


def call(client, method, path):
    return getattr(client, method)(path)


def test_another_users_task_answers_exactly_like_an_unknown_id(world):
    ann, bob = world["ann"], world["bob"]
    cases = 0
    for task_id in (world["done"]["task_id"], world["queued"], world["img2img"]):
        for (method, path), (_, unknown) in zip(task_routes(task_id), task_routes("0" * 32)):
            theirs, nothing = call(bob, method, path), call(bob, method, unknown)
            assert theirs.status_code == nothing.status_code == 404, (method, path, theirs.text)
            assert SECRET_PROMPT not in theirs.text
            cases += 1
    # bob tried to interrupt and delete: ann's tasks are as they were
    assert ann.task(world["queued"])["status"] == "queued"
    assert ann.task(world["img2img"])["status"] == "queued"
    assert ann.task(world["done"]["task_id"])["status"] == "done"
    assert cases == 21


def test_owner_and_admin_reach_every_route_of_the_task(world):
    for client in (world["ann"], world["admin"]):
        done = client.task(world["done"]["task_id"])
        for url in done["images"] + done["thumbnails"]:
            assert client.get(url).status_code == 200, url
        img2img = client.task(world["img2img"])
        assert client.get(img2img["inputs"][0]).headers["content-type"] == "image/png"
        assert client.get(f"/queue/v1/tasks/{world['queued']}/preview").status_code == 204


def test_lists_and_queue_view_show_only_your_own_in_full(world):
    ann, bob, admin = world["ann"], world["bob"], world["admin"]
    ann_name, bob_name = world["names"]
    for params in ({}, {"all": "true"}, {"user": ann_name}, {"status": "queued,done"}):
        found = bob.get("/queue/v1/tasks", params=params).json()
        assert {t["owner"] for t in found["data"]} == {bob_name}, params
        assert SECRET_PROMPT not in str(found)
    theirs = admin.get("/queue/v1/tasks", params={"user": ann_name}).json()
    assert {t["owner"] for t in theirs["data"]} == {ann_name} and theirs["count"] == 3

    view = bob.get("/queue/v1/queue").json()
    assert SECRET_PROMPT not in str(view) and ann_name not in str(view)
    others = [t for t in view["data"] if not t["mine"]]
    mine = [t for t in view["data"] if t["mine"]]
    assert [t["task_id"] for t in mine] == [world["bobs"]]
    assert len(others) >= 2 and all(t["task_id"] is None and t["owner"] is None for t in others)
    assert all(t["size"] == "64x64" and t["checkpoint"] and t["position"] for t in others)
    assert all("params" not in t or t["params"] == {} for t in others)
    positions = [t["position"] for t in view["data"] if t["status"] == "queued"]
    assert positions == sorted(positions)
    # the admin sees everyone's in full
    full = admin.get("/queue/v1/queue").json()
    assert all(t["task_id"] and t["owner"] for t in full["data"])


def test_non_admins_get_403_on_admin_routes_and_change_nothing(world):
    bob, admin = world["bob"], world["admin"]
    ann_name, _ = world["names"]
    for method, path, body in (("post", "/queue/v1/queue/pause", None), ("post", "/queue/v1/queue/resume", None),
                               ("get", "/queue/v1/users", None), ("post", "/queue/v1/users", {"name": "mallory"}),
                               ("patch", f"/queue/v1/users/{ann_name}", {"role": "admin"}),
                               ("delete", f"/queue/v1/users/{ann_name}", None),
                               ("post", f"/queue/v1/users/{ann_name}/keys", None)):
        r = getattr(bob, method)(path, **({"json": body} if body is not None else {}))
        assert r.status_code == 403, (method, path, r.text)
    assert admin.get("/queue/v1/queue").json()["paused"] is True
    assert admin.get(f"/queue/v1/users/{ann_name}").json()["role"] == "user"


def test_every_route_needs_a_valid_key(world):
    admin = world["admin"]
    nobody, wrong = admin.as_user(None), admin.as_user("tq_" + "x" * 32)
    routes = task_routes(world["queued"]) + [
        ("get", "/queue/v1/tasks"), ("get", "/queue/v1/queue"), ("post", "/queue/v1/queue/pause"),
        ("get", "/queue/v1/checkpoints"), ("get", "/queue/v1/health"), ("get", "/queue/v1/me"),
        ("get", "/queue/v1/users"), ("post", "/queue/v1/txt2img"), ("post", "/queue/v1/img2img"),
    ]
    for client in (nobody, wrong):
        for method, path in routes:
            r = call(client, method, path)
            assert r.status_code == 401, (method, path, r.status_code)
    assert world["ann"].task(world["queued"])["status"] == "queued"


def test_x_api_key_header_works_like_bearer(world):
    ann = world["ann"]
    r = ann.http.get("/queue/v1/me", headers={"Authorization": "", "X-API-Key": ann.key})
    assert r.status_code == 200 and r.json()["name"] == world["names"][0]


def test_signed_urls_open_one_image_until_they_expire(world):
    ann, bob = world["ann"], world["bob"]
    done = ann.task(world["done"]["task_id"])
    anyone = ann.as_user(None)
    url = done["images"][0]
    assert "sig=" in url and "exp=" in url
    r = anyone.get(url)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert anyone.get(done["thumbnails"][0]).headers["content-type"] == "image/jpeg"
    path, query = url.split("?")
    params = dict(p.split("=") for p in query.split("&"))
    bobs_path = path.replace(done["task_id"], world["bobs"])
    forged = [
        path,                                                        # no signature
        f"{path}?exp={params['exp']}&sig={'0' * 32}",               # wrong signature
        f"{path}?exp={int(params['exp']) + 600}&sig={params['sig']}",  # a later expiry
        f"{path}?exp=1&sig={params['sig']}",                        # long expired
        f"{path.replace('/images/0', '/images/1')}?{query}",        # another image of the task
        f"{path}/thumb?{query}",                                     # another kind of resource
        f"{bobs_path}?{query}",                                      # another task
        f"/queue/v1/tasks/{done['task_id']}?{query}",               # the task itself
    ]
    for bad in forged:
        assert anyone.get(bad).status_code == 401, bad
    # bob's key with ann's signed URL: his key decides, and it is not his task
    assert bob.get(url).status_code == 404


@pytest.mark.parametrize("path", [
    "/queue/v1/tasks/..", "/queue/v1/tasks/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/queue/v1/tasks/..%2f..%2ftasks.sqlite3",
    "/queue/v1/tasks/{id}/images/-1", "/queue/v1/tasks/{id}/images/1", "/queue/v1/tasks/{id}/images/99999999999999999999",
    "/queue/v1/tasks/{id}/images/0x0", "/queue/v1/tasks/{id}/images/..%2f0", "/queue/v1/tasks/{id}/inputs/1",
    "/queue/v1/tasks/{id}%00/images/0", "/queue/v1/tasks/{ID}/images/0",
])
def test_path_tricks_reach_nothing(world, path):
    task_id = world["done"]["task_id"]
    r = world["bob"].get(path.replace("{id}", task_id).replace("{ID}", task_id.upper()))
    assert r.status_code in (404, 422), (path, r.status_code)
    r = world["ann"].get(path.replace("{id}", task_id).replace("{ID}", task_id.upper()))
    assert r.status_code in (404, 422), (path, r.status_code)


def test_me_says_who_you_are_with_limits_and_usage(world):
    me = world["ann"].get("/queue/v1/me").json()
    assert me["name"] == world["names"][0] and me["role"] == "user"
    assert set(me["limits"]) == {"max_queued", "max_per_hour", "max_steps", "max_pixels", "max_images", "checkpoints"}
    assert me["usage"]["queued"] == 2 and me["usage"]["last_hour"] == 3
    assert [k["prefix"] for k in me["keys"]] == [world["ann"].key[:11]]
    admin = world["admin"].get("/queue/v1/me").json()
    assert admin["role"] == "admin" and all(v is None for v in admin["limits"].values())


def test_limits_refuse_with_the_limit_and_usage_and_enqueue_nothing(admin, models):
    carol = admin.add_user(f"carol-{uuid.uuid4().hex[:6]}", limits={
        "max_queued": 1, "max_steps": 5, "max_pixels": 64 * 64, "max_images": 2, "checkpoints": [models[0][0]]})
    name = carol.get("/queue/v1/me").json()["name"]
    admin.post("/queue/v1/queue/pause")
    try:
        first = carol.submit({"prompt": "c", **TINY, "checkpoint": models[0][0]})
        cases = [
            ({"steps": 6}, 422, "max_steps"), ({"width": 128}, 422, "max_pixels"),
            ({"batch_size": 3}, 422, "max_images"), ({"checkpoint": models[1][0]}, 422, "checkpoints"),
            ({}, 429, "max_queued"),
        ]
        for change, status, limit in cases:
            r = carol.post("/queue/v1/txt2img", json={"prompt": "c", **TINY, "checkpoint": models[0][0], **change})
            assert r.status_code == status, (change, r.text)
            detail = r.json()["detail"]
            assert any(d["ctx"]["limit"] == limit and d["ctx"]["usage"]["queued"] == 1 for d in detail), detail
        assert carol.get("/queue/v1/tasks").json()["count"] == 1
        # (by name: a title gains its hash once its model loads; on Forge, at the first job)
        names = [c["title"].split(" [")[0] for c in carol.get("/queue/v1/checkpoints").json()["data"]]
        assert names == [models[0][0].split(" [")[0]]
        # the admin lifts one limit; another falls back to the default
        r = admin.patch(f"/queue/v1/users/{name}", json={"limits": {"max_queued": 3, "max_steps": None}})
        assert r.status_code == 200 and r.json()["limits"]["max_queued"] == 3 and "max_steps" not in r.json()["limits"]
        carol.submit({"prompt": "c", **TINY, "checkpoint": models[0][0], "steps": 6})
        # admins are not limited
        admin_task = admin.submit({"prompt": "a", **TINY, "checkpoint": models[1][0], "batch_size": 3})
        assert admin.post(f"/queue/v1/tasks/{admin_task}/interrupt").json()["status"] == "cancelled"
    finally:
        admin.post("/queue/v1/queue/resume")
        assert carol.wait(first)["status"] in FINAL


def test_tasks_per_hour_answer_429_with_retry_after(admin):
    dave = admin.add_user(f"dave-{uuid.uuid4().hex[:6]}", limits={"max_per_hour": 1})
    admin.post("/queue/v1/queue/pause")
    try:
        first = dave.submit({"prompt": "d", **TINY})
        assert dave.post(f"/queue/v1/tasks/{first}/interrupt").json()["status"] == "cancelled"
        r = dave.post("/queue/v1/txt2img", json={"prompt": "d", **TINY})
        assert r.status_code == 429 and 3500 <= int(r.headers["retry-after"]) <= 3601
        assert r.json()["detail"][0]["ctx"] == {"limit": "max_per_hour", "allowed": 1,
                                                "usage": {"queued": 0, "last_hour": 1}}
    finally:
        admin.post("/queue/v1/queue/resume")


def test_keys_rotate_and_revoke_at_once(admin):
    erin = admin.add_user(f"erin-{uuid.uuid4().hex[:6]}")
    name = erin.get("/queue/v1/me").json()["name"]
    made = erin.post(f"/queue/v1/users/{name}/keys")
    assert made.status_code == 201 and made.json()["prefix"] == made.json()["key"][:11]
    new = erin.as_user(made.json()["key"])
    assert new.delete(f"/queue/v1/users/{name}/keys/{erin.key[:11]}").status_code == 204
    assert erin.get("/queue/v1/me").status_code == 401
    assert new.get("/queue/v1/me").status_code == 200
    listed = {u["name"]: u for u in admin.get("/queue/v1/users").json()["data"]}
    assert [k["prefix"] for k in listed[name]["keys"]] == [new.key[:11]]
    assert new.key not in str(listed)
    admin.post("/queue/v1/queue/pause")
    try:
        queued = new.submit({"prompt": "e", **TINY})
        assert admin.delete(f"/queue/v1/users/{name}").status_code == 204
    finally:
        admin.post("/queue/v1/queue/resume")
    assert new.get("/queue/v1/me").status_code == 401
    assert admin.task(queued)["status"] == "cancelled"
    assert admin.get(f"/queue/v1/users/{name}").status_code == 404


def test_user_management_refuses_bad_input_by_field(admin):
    name = f"frank-{uuid.uuid4().hex[:6]}"
    for body, field in (({"name": "../x"}, "name"), ({"name": name, "role": "god"}, "role"),
                        ({"name": name, "limits": {"max_queue": 1}}, "limits"),
                        ({"name": name, "limits": {"max_steps": -1}}, "limits")):
        r = admin.post("/queue/v1/users", json=body)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == field, r.text
    admin.add_user(name)
    assert admin.post("/queue/v1/users", json={"name": name}).status_code == 409
    assert admin.patch("/queue/v1/users/nobody-here", json={"role": "admin"}).status_code == 404
