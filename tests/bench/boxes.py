"""Several boxes on one queue in Redis against one box: stand-in webui processes (whose
steps wait rather than compute, as a GPU box's steps leave its CPU free) sharing a
queue in a redis-server started here. `python tests/bench/boxes.py [TASKS]`.

Each run has a fresh queue: TASKS tasks from 3 users over 2 checkpoints, submitted to
the first box while the queue is paused, then resumed. Runs: 1 box; 3 boxes; 3 boxes
without the preference for the loaded model (max_overtaken 0).
  throughput     tasks per second from the first start to the last end (the tasks' times)
  switches       checkpoint switches per task, counted per box in start order
  lost           tasks not done; duplicated: tasks started more than once (the event log)
  claim_p99_ms   in-process: 3 store objects claiming 600 queued tasks from 6 threads,
                 each claim timed, lost races included
The last line is JSON: throughput_3_boxes_vs_1, switches_per_task_affinity and
_no_affinity, lost, duplicated, claim_p99_ms, and the raw figures."""

import collections
import json
import os
import random
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.dirname(HERE), os.path.join(os.path.dirname(os.path.dirname(HERE)), "extension")]

from contract.client import StandIn  # noqa: E402
from redis_server import RedisServer  # noqa: E402
from webui_taskqueue.store.redis.store import RedisStore  # noqa: E402
from webui_taskqueue.records.tasks import InvalidTransition, Task, TaskStatus, TaskType  # noqa: E402

KEY = "tq_bench-boxes-admin-key-0123456789"
STEP_SECONDS, STEPS = 0.05, 10


def run(redis, folder, boxes, tasks, settings=None):
    prefix = f"bench-{uuid.uuid4().hex[:8]}:"
    servers = [StandIn(os.path.join(folder, f"{prefix[:-1]}-{i}"), step_seconds=STEP_SECONDS, admin_key=KEY,
                       redis_url=redis.url, redis_prefix=prefix, box=f"box-{i}") for i in range(boxes)]
    for server in servers:
        with open(os.path.join(server.data_dir, "config.json"), "w") as f:
            json.dump({"task_queue_user_max_queued": 0, **(settings or {})}, f)  # (all sent at once)
    starting = [threading.Thread(target=server.start, kwargs={"timeout": 300}) for server in servers]
    for t in starting:
        t.start()
    for t in starting:
        t.join()
    try:
        admin = servers[0].client()
        assert admin.post("/queue/v1/queue/pause").status_code == 200
        users = [admin.add_user(f"user{i}") for i in range(3)]
        rng = random.Random(1)
        sent = [rng.choice(users).submit({"prompt": f"task {n}", "seed": n, "steps": STEPS, "width": 64, "height": 64,
                                          "checkpoint": rng.choice(("modelA", "modelB"))}) for n in range(tasks)]
        assert admin.post("/queue/v1/queue/resume").status_code == 200
        deadline = time.monotonic() + 60 + tasks * 5
        store = RedisStore(redis.url, prefix=prefix)
        try:
            while store.count(TaskStatus.QUEUED) or store.count(TaskStatus.RUNNING):
                assert time.monotonic() < deadline, "the boxes did not finish"
                time.sleep(0.2)
            found = [store.get(task_id) for task_id in sent]
            started = collections.Counter(e.task_id for e in store.events_after(0, limit=100_000) if e.kind == "started")
        finally:
            store.close()
    finally:
        for server in servers:
            server.stop()
    done = [t for t in found if t is not None and t.status == TaskStatus.DONE]
    switches = 0
    for box in {t.box for t in done}:
        order = sorted((t for t in done if t.box == box), key=lambda t: t.started_at)
        switches += sum(a.checkpoint != b.checkpoint for a, b in zip(order, order[1:]))
    span = max(t.finished_at for t in done) - min(t.started_at for t in done)
    return {"tasks_per_s": round(len(done) / span, 3), "switches_per_task": round(switches / len(done), 3),
            "lost": tasks - len(done), "duplicated": sum(n > 1 for n in started.values()),
            "by_box": dict(collections.Counter(t.box for t in done))}


def claims(redis, queued=600, threads=6):
    """Each thread claims the head of the queue as its store sees it, until none is left."""
    prefix = f"claims-{uuid.uuid4().hex[:8]}:"
    stores = [RedisStore(redis.url, prefix=prefix) for _ in range(3)]
    for n in range(queued):
        stores[0].add(Task(task_id=uuid.uuid4().hex, type=TaskType.TXT2IMG, owner=f"user{n % 3}",
                           checkpoint="modelA", params={"prompt": "p"}, created_at=time.time()))
    times, won, lock = [], collections.Counter(), threading.Lock()

    def claim(store):
        while True:
            light = store.queued_light()
            if not light:
                return
            began = time.perf_counter()
            try:
                task = store.start(light[0].task_id, time.time())
                with lock:
                    won[task.task_id] += 1
            except InvalidTransition:
                pass
            with lock:
                times.append(time.perf_counter() - began)

    workers = [threading.Thread(target=claim, args=(stores[n % 3],)) for n in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    for store in stores:
        store.close()
    times.sort()
    return {"claim_p99_ms": round(times[int(0.99 * (len(times) - 1))] * 1000, 2), "claims": len(times),
            "claimed": len(won), "claimed_twice": sum(n > 1 for n in won.values())}


def main():
    tasks = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    folder = tempfile.mkdtemp(prefix="bench-boxes-")
    redis = RedisServer(os.path.join(folder, "redis")).start()
    try:
        one = run(redis, folder, 1, tasks)
        three = run(redis, folder, 3, tasks)
        plain = run(redis, folder, 3, tasks, {"task_queue_max_overtaken": 0})
        claimed = claims(redis)
    finally:
        redis.stop()
    print(json.dumps({
        "tasks": tasks,
        "throughput_3_boxes_vs_1": round(three["tasks_per_s"] / one["tasks_per_s"], 2),
        "switches_per_task_affinity": three["switches_per_task"],
        "switches_per_task_no_affinity": plain["switches_per_task"],
        "lost": one["lost"] + three["lost"] + plain["lost"],
        "duplicated": one["duplicated"] + three["duplicated"] + plain["duplicated"] + claimed["claimed_twice"],
        "claim_p99_ms": claimed["claim_p99_ms"],
        "one_box": one, "three_boxes": three, "three_boxes_no_affinity": plain, "claims": claimed,
    }))


if __name__ == "__main__":
    main()
