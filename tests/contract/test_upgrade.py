"""webui starts on a database made by an earlier release (tests/fixtures/schema-<N>,
see tests/test_upgrade.py): it migrates, every task, user and key is there, the task
that was running is failed by the restart, the queued ones run on their checkpoints,
and finished images are still served."""

import glob
import json
import os
import shutil

import pytest

from webui_taskqueue.store.contract import RESTART_MESSAGE

from . import stored
from .client import QueueClient, model_hash

FIXTURES = sorted(glob.glob(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures", "schema-*")))


@pytest.mark.parametrize("fixture", FIXTURES, ids=os.path.basename)
def test_webui_starts_on_an_earlier_database_and_runs_its_queue(standin_factory, fixture):
    with open(os.path.join(fixture, "manifest.json")) as f:
        expected = json.load(f)
    server = standin_factory(step_seconds=0.01)
    if stored.on_redis(server):
        pytest.skip("about SQLite's migrations of an earlier tasks.sqlite3: a queue on Redis has no such file")
    queue_dir = os.path.join(server.data_dir, "task-queue")
    shutil.copytree(fixture, queue_dir)
    os.remove(os.path.join(queue_dir, "manifest.json"))
    server.start()
    keys = expected["keys"]
    admin = QueueClient(server.url, real=False, key=keys.get("admin"))
    tasks = expected["tasks"]

    listed = admin.get("/queue/v1/tasks", params={"all": "true", "limit": 100}).json()
    assert sorted(t["task_id"] for t in listed["data"]) == sorted(sum(tasks.values(), []))
    for task_id in tasks["queued"]:
        task = admin.wait(task_id, timeout=60)
        assert task["status"] == "done", task["error"]
        assert model_hash(task["infotexts"][0]) == server.hashes[task["checkpoint"].split(".")[0]]
    for task_id in tasks["running"]:
        assert (admin.task(task_id)["status"], admin.task(task_id)["error"]) == ("failed", RESTART_MESSAGE)
    for status in ("done", "failed", "cancelled"):
        for task_id in tasks[status]:
            assert admin.task(task_id)["status"] == status
    for task_id in tasks["done"]:
        task = admin.task(task_id)
        for index, infotext in enumerate(task["infotexts"]):
            assert admin.image(task, index).info["parameters"] == infotext

    if keys:  # the users, their roles, limits and keys came along
        users = {u["name"]: u for u in admin.get("/queue/v1/users").json()["data"]}
        assert sorted(users) == ["admin", "ann"] and users["admin"]["role"] == "admin"
        ann = admin.as_user(keys["ann"])
        me = ann.get("/queue/v1/me").json()
        assert (me["name"], me["role"], me["limits"]["max_queued"], me["limits"]["max_steps"]) == ("ann", "user", 5, 40)
        mine = ann.get("/queue/v1/tasks", params={"limit": 100}).json()["data"]
        assert mine and all(t["owner"] == "ann" for t in mine)
        assert admin.as_user("tq_not-a-key-of-anyone-0000").get("/queue/v1/me").status_code == 401
