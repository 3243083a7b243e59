"""How the queue decides who may call it, on stand-in servers of their own: open mode,
the first user, webui's --api-auth, the owner's command line, keys at rest."""

import base64
import glob
import os
import subprocess
import sys

import httpx

from webui_taskqueue.records.users import prefix_of

from .client import REDIS_PREFIX_ENV, REDIS_URL_ENV, ROOT, QueueClient

TINY = {"prompt": "x", "steps": 2, "width": 64, "height": 64}


def cli(server, *args):
    """The owner's command line on `server`'s queue (its folder, and its Redis queue if it has one)."""
    queue_dir = os.path.join(server.data_dir, "task-queue")
    return subprocess.run([sys.executable, "-m", "webui_taskqueue", "--dir", queue_dir, "users", *args],
                          capture_output=True, text=True, env=dict(server.env, PYTHONPATH=os.path.join(ROOT, "extension")))


def stored_bytes(server):
    """Everything the queue's store keeps: its SQLite files, or its Redis queue's values."""
    if REDIS_URL_ENV not in server.env:
        files = glob.glob(os.path.join(server.data_dir, "task-queue", "tasks.sqlite3*"))
        assert files
        return b"".join(open(f, "rb").read() for f in files)
    import redis

    client, out = redis.Redis.from_url(server.env[REDIS_URL_ENV]), []
    try:
        for key in client.scan_iter(match=server.env[REDIS_PREFIX_ENV] + "*"):
            kind = client.type(key).decode()
            found = {"string": lambda: [client.get(key)], "list": lambda: client.lrange(key, 0, -1),
                     "set": lambda: list(client.smembers(key)), "zset": lambda: client.zrange(key, 0, -1),
                     "hash": lambda: [x for pair in client.hgetall(key).items() for x in pair],
                     "stream": lambda: [x for _, fields in client.xrange(key) for pair in fields.items() for x in pair],
                     }[kind]()
            out += [key, *found]
    finally:
        client.close()
    assert out
    return b"\n".join(out)


def basic(name, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


def test_open_mode_until_the_first_user_then_keys_only(standin_factory):
    server = standin_factory().start()
    anyone = QueueClient(server.url, real=False)
    me = anyone.get("/queue/v1/me").json()
    assert (me["name"], me["role"]) == ("default", "admin")
    task = anyone.wait(anyone.submit(TINY))
    assert task["owner"] == "default" and task["images"][0].endswith("/images/0")  # open: plain URLs
    # a first user who could not manage the queue would lock its owner out
    r = anyone.post("/queue/v1/users", json={"name": "ann"})
    assert r.status_code == 409 and "admin" in r.json()["detail"]
    boss = anyone.add_user("boss", role="admin")
    assert anyone.get("/queue/v1/me").status_code == 401
    assert anyone.get(task["images"][0]).status_code == 401
    assert boss.get("/queue/v1/me").json()["role"] == "admin"
    # the open-mode tasks stay, seen by admins
    assert boss.task(task["task_id"])["owner"] == "default"
    # the last admin cannot demote itself while it is the only one
    assert boss.patch("/queue/v1/users/boss", json={"role": "user"}).status_code == 409


def test_keys_are_stored_only_as_digests(standin_factory):
    server = standin_factory(admin_key="tq_admin-key-for-this-test-000").start()
    admin = server.client()
    keys = [admin.add_user(f"user{i}").key for i in range(3)]
    keys.append(admin.post("/queue/v1/users/user0/keys").json()["key"])
    assert all(admin.as_user(k).get("/queue/v1/me").status_code == 200 for k in keys)
    stored = stored_bytes(server)
    for key in keys + [server.admin_key]:
        assert key.encode() not in stored and key[11:].encode() not in stored
        assert prefix_of(key).encode() in stored  # the prefix, to tell keys apart
    # a key the owner chose is listed by a prefix that gives none of it away
    assert not server.admin_key.startswith(prefix_of(server.admin_key))


def test_webui_api_auth_credentials_are_users_and_the_queue_is_never_open(standin_factory):
    server = standin_factory(extra_args=["--api", "--api-auth", "carol:pw1,dan:pw2"]).start()
    http = httpx.Client(base_url=server.url, timeout=60)
    assert http.get("/queue/v1/me").status_code == 401  # no users in the store, yet not open
    assert http.get("/queue/v1/me", headers=basic("carol", "nope")).status_code == 401
    me = http.get("/queue/v1/me", headers=basic("carol", "pw1")).json()
    assert (me["name"], me["role"]) == ("carol", "user")
    r = http.post("/queue/v1/txt2img", json=TINY, headers=basic("carol", "pw1"))
    assert r.status_code == 202
    task_id = r.json()["task_id"]
    assert http.get(f"/queue/v1/tasks/{task_id}", headers=basic("dan", "pw2")).status_code == 404
    assert http.get(f"/queue/v1/tasks/{task_id}", headers=basic("carol", "pw1")).status_code == 200
    assert http.post("/queue/v1/queue/pause", headers=basic("carol", "pw1")).status_code == 403
    # webui's own API keeps its own guard
    assert http.get("/sdapi/v1/options").status_code == 401
    assert http.get("/sdapi/v1/options", headers=basic("dan", "pw2")).status_code == 200
    # the owner makes carol an admin with the command line, webui running
    assert cli(server, "add", "carol", "--admin").returncode == 0
    assert http.get("/queue/v1/me", headers=basic("carol", "pw1")).json()["role"] == "admin"


def test_the_command_line_manages_users_with_webui_stopped(standin_factory, tmp_path):
    server = standin_factory()
    added = cli(server, "add", "owner", "--admin")
    assert added.returncode == 0, added.stderr
    owner_key = added.stdout.strip().splitlines()[-1]
    assert owner_key.startswith("tq_") and len(owner_key) >= 35
    ann_key = cli(server, "add", "ann").stdout.strip().splitlines()[-1]
    assert cli(server, "add", "ann").returncode == 1
    assert cli(server, "set-limits", "ann", "--max-queued", "2", "--checkpoints", "modelA").returncode == 0
    listed = cli(server, "list").stdout
    assert "ann\tuser" in listed and '"max_queued": 2' in listed and ann_key[:11] in listed and ann_key not in listed
    rotated = cli(server, "rotate", "ann")
    new_key = rotated.stdout.strip().splitlines()[-1]
    assert rotated.returncode == 0 and new_key != ann_key

    server.start()
    ann = QueueClient(server.url, real=False, key=new_key)
    me = ann.get("/queue/v1/me").json()
    assert me["limits"]["max_queued"] == 2 and me["limits"]["checkpoints"] == ["modelA"]
    assert ann.as_user(ann_key).get("/queue/v1/me").status_code == 401
    r = ann.post("/queue/v1/txt2img", json={**TINY, "checkpoint": "modelB"})
    assert r.status_code == 422 and r.json()["detail"][0]["ctx"]["limit"] == "checkpoints"
    # with webui running: revoke at once
    assert cli(server, "revoke", "ann").returncode == 0
    assert ann.get("/queue/v1/me").status_code == 401
    assert QueueClient(server.url, real=False, key=owner_key).get("/queue/v1/users").json()["count"] == 1
