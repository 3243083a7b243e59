"""The soak of several boxes (`nox -s soak`): three stand-in webui processes share one
queue in one real redis-server, with its append-only file on. 200 tasks from 3 users,
sent to all three boxes; one box is killed (SIGKILL) while it runs a task, and Redis
is restarted (SIGTERM, then started again on the same port and folder) while tasks
run. Afterwards every task is accounted for: the killed box's task is marked failed,
every other task is done, and none ran twice, by the stand-ins' own records of what
they generated (--generation-log) as well as by the queue's event log.

Why the append-only file (AOF) and not snapshots (RDB): a snapshot keeps the queue as
it was at the last save, so a restart would bring back tasks as queued or running that
had ended since, and they would run again. The AOF has every write, and a clean
shutdown writes it out in full."""

import collections
import datetime
import json
import os
import random
import threading
import time

import pytest

from contract.client import FINAL, StandIn, model_hash
from redis_server import RedisServer, require
from webui_taskqueue.store.redis.store import RedisStore

KEY = "tq_soak-admin-key-0123456789abcdef"
PREFIX = "soak:"
TASKS, USERS, BOXES = 200, 3, 3
STEP_SECONDS, STEPS = 0.04, 8  # a task: about a third of a second of sampling
LONG_STEPS = 150  # every fiftieth task (6 s): a box is killed inside one of these
ALIVE = 3  # seconds a silent box counts as alive (short, so that the killed box is noticed soon)


@pytest.fixture
def redis(tmp_path):
    require()
    server = RedisServer(tmp_path / "redis", persist=True).start()
    yield server
    server.stop()


@pytest.fixture
def boxes(tmp_path, redis):
    servers = []
    for n in range(1, BOXES + 1):
        folder = tmp_path / f"box-{n}"
        server = StandIn(folder, step_seconds=STEP_SECONDS, admin_key=KEY, redis_url=redis.url, redis_prefix=PREFIX,
                         box=f"box-{n}", extra_args=["--generation-log", str(folder / "generated.jsonl")])
        server.generated = str(folder / "generated.jsonl")
        with open(os.path.join(server.data_dir, "config.json"), "w") as f:
            json.dump({"task_queue_box_alive_seconds": ALIVE, "task_queue_user_max_queued": 0}, f)
        servers.append(server)
    starting = [threading.Thread(target=server.start, kwargs={"timeout": 300}) for server in servers]
    for t in starting:
        t.start()
    for t in starting:
        t.join()
    assert all(server.process and server.process.poll() is None for server in servers), "a box did not start"
    yield servers
    for server in servers:
        server.stop()


def generated(box):
    """The box's own record of what it generated (the stand-in's --generation-log)."""
    if not os.path.exists(box.generated):
        return []
    with open(box.generated) as f:
        return [json.loads(line) for line in f if line.strip()]


def final_count(client):
    r = client.get("/queue/v1/tasks", params={"all": "true", "status": ",".join(sorted(FINAL)), "limit": 1})
    assert r.status_code == 200, r.text
    return r.json()["count"]


def kill_while_running(boxes):
    """SIGKILL a box early in a long task (so that it surely dies inside it, however
    slow the machine); its name and the id of that task."""
    deadline, looked = time.monotonic() + 60, None
    while time.monotonic() < deadline:
        for box in boxes:
            for this in box.client().get("/queue/v1/boxes").json()["data"]:
                if this["this"] and this["running"]:
                    task = box.client().task(this["running"])  # (its progress, as the box that runs it has it)
                    if task["status"] == "running" and task["params"]["steps"] == LONG_STEPS \
                            and (task["progress"] or {}).get("fraction", 1) < 0.7:
                        box.kill()
                        return box, this["name"], this["running"]
                    looked = (this, task)
        time.sleep(0.01)
    raise AssertionError(f"no box was seen early in a long task; the last one looked at: {looked}")


def test_200_tasks_3_users_3_boxes_one_killed_one_redis_restart(boxes, redis):
    admin = boxes[0].client()
    deadline = time.monotonic() + 60
    while len(admin.get("/queue/v1/boxes").json()["data"]) < BOXES:  # every box has said it is alive
        assert time.monotonic() < deadline, admin.get("/queue/v1/boxes").text
        time.sleep(0.2)
    keys = [admin.post("/queue/v1/users", json={"name": f"user{u}", "role": "user"}).json()["key"]
            for u in range(USERS)]
    assert admin.post("/queue/v1/queue/pause").status_code == 200  # all queued first, however slow the sending
    rng = random.Random(12)
    sent = {}  # task id -> (prompt, checkpoint)
    for n in range(TASKS):  # each user sends through every box
        client = boxes[n % BOXES].client().as_user(keys[rng.randrange(USERS)])
        checkpoint = rng.choice(("modelA", "modelB"))
        prompt = f"soak task {n}"
        steps = LONG_STEPS if n % 50 == 25 else STEPS
        sent[client.submit({"prompt": prompt, "seed": n, "steps": steps, "width": 64, "height": 64,
                            "checkpoint": checkpoint})] = (prompt, checkpoint)
    ids = list(sent)
    assert admin.post("/queue/v1/queue/resume").status_code == 200

    while final_count(admin) < TASKS // 4:
        time.sleep(0.1)
    killed_box, killed, killed_task = kill_while_running(boxes)
    alive = [box for box in boxes if box is not killed_box]
    admin = alive[0].client()

    while final_count(admin) < TASKS // 2:
        time.sleep(0.1)
    running_before = admin.get("/queue/v1/tasks", params={"all": "true", "status": "running"}).json()["count"]
    redis.stop()  # SIGTERM: Redis writes its append-only file out and exits
    down_at = time.monotonic()
    time.sleep(1.0)  # tasks go on generating meanwhile; their ends wait for Redis
    redis.start()
    outage, restarted_at = time.monotonic() - down_at, time.time()

    deadline = time.monotonic() + 240
    while final_count(admin) < TASKS:
        assert time.monotonic() < deadline, admin.get("/queue/v1/health").text
        time.sleep(0.2)

    tasks = {task_id: admin.task(task_id) for task_id in ids}
    statuses = collections.Counter(t["status"] for t in tasks.values())
    assert tasks[killed_task]["status"] == "failed", tasks[killed_task]
    assert tasks[killed_task]["error"] == f"box {killed} stopped while this task ran; it was not run again"
    assert statuses == {"done": TASKS - 1, "failed": 1}, statuses  # the rest done: no live box was marked stopped
    for task_id, task in tasks.items():
        if task["status"] == "done":  # each on the model it asked for
            assert task["box"] in {f"box-{n}" for n in range(1, BOXES + 1)}
            assert model_hash(task["infotexts"][0]) == boxes[0].hashes[sent[task_id][1]]

    # none ran twice: the stand-ins' own records of what they generated
    by_prompt = {prompt: task_id for task_id, (prompt, _) in sent.items()}
    starts, ends = collections.Counter(), collections.Counter()
    where = {}
    for box in boxes:
        for line in generated(box):
            task_id = by_prompt[line["prompt"]]
            (starts if line["event"] == "start" else ends)[task_id] += 1
            where[task_id] = box.env["TASK_QUEUE_BOX"]
    assert max(starts.values()) == 1, [sent[t] for t, n in starts.items() if n > 1]
    assert set(starts) == set(ids)  # every task began exactly once, the killed one included
    for task_id, task in tasks.items():
        if task["status"] == "done":
            assert ends[task_id] == 1 and where[task_id] == task["box"], (task_id, task["box"], where.get(task_id))
    assert where[killed_task] == killed
    # and by the queue's own event log: each task started once
    store = RedisStore(redis.url, prefix=PREFIX)
    try:
        started = collections.Counter(e.task_id for e in store.events_after(0, limit=100_000) if e.kind == "started")
    finally:
        store.close()
    assert started == {task_id: 1 for task_id in ids}
    for box in alive:  # both boxes that lived rode over the outage: still up, and running tasks after it
        assert box.process.poll() is None
        health = box.client().get("/queue/v1/health").json()
        assert health["worker"] == "running", health
        assert any(t["box"] == box.env["TASK_QUEUE_BOX"] and when(t["started_at"]) > restarted_at
                   for t in tasks.values()), box.env["TASK_QUEUE_BOX"]
    print(json.dumps({"tasks": TASKS, "statuses": dict(statuses), "by_box": dict(collections.Counter(
        t["box"] for t in tasks.values())), "redis_outage_s": round(outage, 2), "running_at_restart": running_before,
        "killed": killed}))


def when(iso):
    return datetime.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
