"""Interrupt and cancel act on one task only."""

import os
import random
import time
from collections import Counter

from .client import FINAL


def long_task(target, checkpoint, steps=None, **kw):
    """Long enough to be caught running: ~2 s on the stand-in, more on a real webui."""
    steps = steps or (12 if target.real else 40)
    return {"prompt": "a house", "steps": steps, "width": 64, "height": 64, "seed": 1, "checkpoint": checkpoint, **kw}


def wait_sampling(target, task_id, timeout=300):
    """Until the task is running and its sampling has started."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = target.task(task_id)
        if task["status"] in FINAL:
            raise AssertionError(f"task ended before sampling was seen: {task}")
        if task["status"] == "running" and task["progress"] and task["progress"]["fraction"] > 0:
            return task
        time.sleep(0.02)
    raise AssertionError("sampling never started")


def test_interrupting_my_running_task_stops_it_and_not_the_next(target, models):
    a = target.submit(long_task(target, models[0][0]))
    b = target.submit(long_task(target, models[0][0], steps=3))
    wait_sampling(target, a)
    r = target.post(f"/queue/v1/tasks/{a}/interrupt")
    assert r.status_code == 200 and r.json()["task_id"] == a
    stopped = target.wait(a)
    assert stopped["status"] == "interrupted" and stopped["error"] is None
    assert len(stopped["images"]) == 1  # webui returns the partial image
    after = target.wait(b)
    assert after["status"] == "done", after


def test_interrupt_on_a_queued_task_cancels_it_and_the_running_one_goes_on(target, models):
    a = target.submit(long_task(target, models[0][0]))
    b = target.submit(long_task(target, models[1][0], steps=3))
    queued = target.task(b)
    assert queued["status"] == "queued" and queued["position"] >= 1 and queued["progress"] is None
    r = target.post(f"/queue/v1/tasks/{b}/interrupt")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert target.wait(a)["status"] == "done"
    cancelled = target.task(b)
    assert cancelled["status"] == "cancelled" and cancelled["started_at"] is None and cancelled["images"] == []


def test_final_tasks_answer_409_and_can_be_deleted(target, models):
    task_id = target.submit({"prompt": "a house", "seed": 1, "steps": 2, "width": 64, "height": 64, "checkpoint": models[0][0]})
    running_or_queued = target.delete(f"/queue/v1/tasks/{task_id}")
    done = target.wait(task_id)
    if done["status"] != "done":
        raise AssertionError(done)
    assert running_or_queued.status_code in (409, 204)
    r = target.post(f"/queue/v1/tasks/{task_id}/interrupt")
    assert r.status_code == 409 and "done" in r.json()["detail"]
    image_url = done["images"][0]
    assert target.delete(f"/queue/v1/tasks/{task_id}").status_code == 204
    assert target.get(f"/queue/v1/tasks/{task_id}").status_code == 404
    assert target.get(image_url).status_code == 404
    assert target.post(f"/queue/v1/tasks/{task_id}/interrupt").status_code == 404


def test_unknown_task_answers_404(target):
    for method, path in (("get", ""), ("get", "/preview"), ("get", "/images/0"), ("post", "/interrupt"), ("delete", "")):
        r = getattr(target, method)(f"/queue/v1/tasks/nope{path}")
        assert r.status_code == 404, (method, path, r.status_code)


def test_interrupt_race_never_hits_the_next_task(standin_factory):
    """Interrupts aimed at the end of every odd task: the even task that starts right
    then must never be the victim."""
    tries = int(os.environ.get("TASK_QUEUE_RACE_TRIES", "1000"))
    server = standin_factory(step_seconds=0.002).start()
    client = server.client()
    rng = random.Random(1)
    payload = {"prompt": "race", "steps": 8, "width": 64, "height": 64}  # ~20 ms a task
    wrong, aimed, odd_outcomes = [], 0, Counter()
    batch = 50
    for start in range(0, tries, batch):
        pairs = [(client.submit(payload), client.submit(payload)) for _ in range(min(batch, tries - start))]
        for odd, even in pairs:
            # land the interrupt anywhere from "just started" to "already finished"
            client.wait(odd, until={"running"} | FINAL, every=0.001)
            time.sleep(rng.uniform(0, 0.03))
            r = client.post(f"/queue/v1/tasks/{odd}/interrupt")
            assert r.status_code in (200, 409), r.text
            aimed += 1
        for odd, even in pairs:
            if client.wait(even)["status"] != "done":
                wrong.append(client.task(even))
            odd_outcomes[client.wait(odd)["status"]] += 1
    assert aimed == tries and wrong == []
    # the interrupts landed on both sides of the end of their task: the race was run
    assert set(odd_outcomes) == {"done", "interrupted"}, odd_outcomes
