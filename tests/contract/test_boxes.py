"""Several boxes, one queue: stand-in webui processes sharing a queue in one real
redis-server (started here). Tasks sent to one box run on both, each once, each
recorded with its box; any box answers for any task."""

import collections
import json
import os

import pytest

from .client import model_hash

ADMIN_KEY = "tq_boxes-admin-key-0123456789abc"
PREFIX = "shared:"


@pytest.fixture
def boxes(standin_factory, redis):
    """Two stand-ins, box-a and box-b, on one queue."""
    return [standin_factory(step_seconds=0.05, admin_key=ADMIN_KEY, redis_url=redis.url, redis_prefix=PREFIX,
                            box=name).start() for name in ("box-a", "box-b")]


def test_tasks_sent_to_one_box_run_on_both_each_once(boxes, redis):
    from webui_taskqueue.store.redis.store import RedisStore

    a, b = (box.client() for box in boxes)
    sent = {a.submit({"prompt": f"house {i}", "seed": i, "steps": 8, "width": 64, "height": 64,
                      "checkpoint": "modelA" if i % 2 else "modelB"}): "modelA" if i % 2 else "modelB"
            for i in range(8)}
    done = {task_id: b.wait(task_id, timeout=300) for task_id in sent}  # the other box answers for each
    assert [t["status"] for t in done.values()] == ["done"] * 8
    assert {t["box"] for t in done.values()} == {"box-a", "box-b"}
    for task_id, task in done.items():  # each on the model it asked for, whichever box ran it
        assert model_hash(task["infotexts"][0]) == boxes[0].hashes[sent[task_id]]
    store = RedisStore(redis.url, prefix=PREFIX)
    try:
        started = collections.Counter(e.task_id for e in store.events_after(0, limit=10_000) if e.kind == "started")
    finally:
        store.close()
    assert started == {task_id: 1 for task_id in sent}  # none started twice


def test_a_killed_boxs_task_is_marked_failed_by_the_other_and_the_queue_goes_on(standin_factory, redis):
    boxes = []
    for name in ("box-a", "box-b"):
        box = standin_factory(step_seconds=0.05, admin_key=ADMIN_KEY, redis_url=redis.url, redis_prefix=PREFIX, box=name)
        settings = os.path.join(box.data_dir, "config.json")
        found = json.load(open(settings)) if os.path.exists(settings) else {}
        with open(settings, "w") as f:  # a box that is silent for 3 s counts as stopped
            json.dump({**found, "task_queue_box_alive_seconds": 3}, f)
        boxes.append(box.start())
    a = boxes[0].client()
    long = a.submit({"prompt": "cut off", "steps": 150, "width": 64, "height": 64})
    running = a.wait(long, until={"running"})
    killed, alive = sorted(boxes, key=lambda box: box.env["TASK_QUEUE_BOX"] != running["box"])
    killed.kill()
    failed = alive.client().wait(long, timeout=60)
    assert failed["status"] == "failed" and failed["error"] == f"box {running['box']} stopped while this task ran; " \
                                                                "it was not run again"
    after = alive.client().submit({"prompt": "next", "steps": 2, "width": 64, "height": 64})
    assert alive.client().wait(after)["status"] == "done"
