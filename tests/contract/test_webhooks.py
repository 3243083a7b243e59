"""Webhooks over real HTTP, to a real receiver on loopback: every final state arrives
once, signed; a failing receiver gets it after retries; a server killed between the
final state and the delivery still delivers it after its restart; a forged or
replayed signature fails the documented check. Loopback callbacks need the owner's
allow-list (Settings > Task queue > callback hosts): the tests set it."""

import json
import os
import time

import pytest

from .client import FINAL
from .push import Receiver, verify

OPTIONS = {"task_queue_callback_hosts": "127.0.0.1", "task_queue_callback_retry_seconds": 0.3,
           "task_queue_callback_tries": 5, "task_queue_callback_timeout": 5.0}
SMALL = {"prompt": "a hook", "steps": 3, "width": 64, "height": 64}


@pytest.fixture(scope="module")
def hooks(target):
    """The target with loopback callbacks allowed and quick retries; put back after."""
    before = target.options()
    target.set_options(**OPTIONS)
    yield target
    target.set_options(**{k: before.get(k, "" if k.endswith("hosts") else None) for k in OPTIONS
                          if before.get(k) is not None or k.endswith("hosts")})


def delivered(target, task_id, timeout=30):
    """The task's callback once the server has recorded its delivery."""
    deadline = time.monotonic() + timeout
    while True:
        callback = target.task(task_id)["callback"]
        if callback["delivered_at"] or time.monotonic() > deadline:
            return callback
        time.sleep(0.1)


@pytest.fixture
def receiver():
    found = Receiver()
    yield found
    found.close()


def test_every_final_state_is_delivered_once_signed_as_the_task_object(hooks, receiver):
    done = hooks.submit({**SMALL, "callback_url": receiver.url})
    hooks.post("/queue/v1/queue/pause")
    try:
        cancelled = hooks.submit({**SMALL, "callback_url": receiver.url + "?who=second"})
        assert hooks.post(f"/queue/v1/tasks/{cancelled}/interrupt").json()["status"] == "cancelled"
    finally:
        hooks.post("/queue/v1/queue/resume")
    assert hooks.wait(done)["status"] == "done"
    for task_id in (done, cancelled):
        receiver.wait_for(task_id)
    time.sleep(1.5)  # time for a second delivery, if one were coming
    bodies = receiver.bodies()
    assert sorted(b["task_id"] for b in bodies) == sorted([done, cancelled])
    secret = hooks.get("/queue/v1/me").json()["webhook_secret"]
    for headers, raw in receiver.answered:
        assert verify(secret, headers["X-Queue-Signature"], raw)
        assert headers["Content-Type"] == "application/json"
    sent = {b["task_id"]: b for b in bodies}
    delivered(hooks, done)
    task = hooks.task(done)
    assert {k: sent[done][k] for k in ("status", "images", "infotexts", "finished_at")} == \
           {k: task[k] for k in ("status", "images", "infotexts", "finished_at")}
    assert sent[cancelled]["status"] == "cancelled"
    assert task["callback"]["url"] == receiver.url and task["callback"]["attempts"] == 1
    assert task["callback"]["last_status"] == 200 and task["callback"]["delivered_at"]
    assert task["callback"]["next_try_at"] is None


def test_a_failing_receiver_gets_it_after_retries_and_the_owner_sees_the_tries(hooks):
    receiver = Receiver(fail_first=2)
    try:
        task_id = hooks.submit({**SMALL, "callback_url": receiver.url})
        hooks.wait(task_id)
        receiver.wait_for(task_id)
        assert len(receiver.received) == 3 and len(receiver.bodies()) == 1
        callback = delivered(hooks, task_id)  # the server records a try after the receiver answered it
        assert (callback["attempts"], callback["last_status"], callback["last_error"]) == (3, 200, None)
    finally:
        receiver.close()


def test_a_receiver_that_never_answers_well_is_given_up_after_the_tries(hooks):
    receiver = Receiver(fail_first=100)
    try:
        task_id = hooks.submit({**SMALL, "callback_url": receiver.url})
        hooks.wait(task_id)
        deadline = time.monotonic() + 60
        while hooks.task(task_id)["callback"]["gave_up_at"] is None and time.monotonic() < deadline:
            time.sleep(0.2)
        callback = hooks.task(task_id)["callback"]
        assert callback["attempts"] == OPTIONS["task_queue_callback_tries"] == len(receiver.received)
        assert callback["last_status"] == 500 and "500" in callback["last_error"] and callback["next_try_at"] is None
    finally:
        receiver.close()


def test_a_forged_or_replayed_signature_fails_the_documented_check(hooks, receiver):
    task_id = hooks.submit({**SMALL, "callback_url": receiver.url})
    hooks.wait(task_id)
    receiver.wait_for(task_id)
    headers, raw = receiver.answered[-1]
    header = headers["X-Queue-Signature"]
    secret = hooks.get("/queue/v1/me").json()["webhook_secret"]
    assert verify(secret, header, raw)
    forged = raw.replace(b'"done"', b'"failed"')
    assert forged != raw and not verify(secret, header, forged)
    assert not verify("0" * 64, header, raw)
    t = int(header.split(",")[0][2:])
    assert not verify(secret, header, raw, now=t + 301)  # replayed later than the tolerance
    rotated = hooks.post("/queue/v1/me/webhook-secret").json()["webhook_secret"]
    assert rotated != secret and hooks.get("/queue/v1/me").json()["webhook_secret"] == rotated
    assert not verify(rotated, header, raw)


def test_another_users_webhooks_are_signed_with_their_own_secret(hooks, people, receiver):
    ann, _ = people
    task_id = ann.submit({**SMALL, "callback_url": receiver.url})
    ann.wait(task_id)
    receiver.wait_for(task_id)
    headers, raw = next((h, b) for h, b in receiver.answered if json.loads(b)["task_id"] == task_id)
    assert verify(ann.get("/queue/v1/me").json()["webhook_secret"], headers["X-Queue-Signature"], raw)
    assert not verify(hooks.get("/queue/v1/me").json()["webhook_secret"], headers["X-Queue-Signature"], raw)


@pytest.mark.parametrize("url, why", [
    ("ftp://127.0.0.1/x", "http or https"),
    ("http://10.1.2.3/x", "allowed hosts"),
    ("http://user@127.0.0.1/x", "http or https"),
    ("http://127.0.0.1:99999/x", "not a valid URL"),
    (5, "http or https"),
])
def test_a_callback_url_that_may_not_be_called_is_refused_at_submit(hooks, url, why):
    hooks.refuses({**SMALL, "callback_url": url}, "callback_url")
    r = hooks.post("/queue/v1/txt2img", json={**SMALL, "callback_url": url})
    assert why in r.json()["detail"][0]["msg"]


def test_a_delivery_survives_the_server_killed_between_the_final_state_and_the_delivery(standin_factory):
    server = standin_factory(step_seconds=0.02)
    with open(os.path.join(server.data_dir, "config.json"), "w") as f:
        json.dump(OPTIONS, f)
    server.start()
    client = server.client()
    receiver = Receiver(hold_first=True)  # the first POST is read, then never answered
    try:
        task_id = client.submit({**SMALL, "callback_url": receiver.url})
        assert client.wait(task_id)["status"] == "done"
        deadline = time.monotonic() + 30
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.02)
        assert receiver.received and not receiver.answered  # the sender is inside its try
        server.kill()
        receiver.release()
        server.start()
        receiver.wait_for(task_id)
        time.sleep(1.0)
        assert [b["task_id"] for b in receiver.bodies()] == [task_id]
        assert receiver.bodies()[0]["status"] in FINAL
        callback = client.task(task_id)["callback"]
        assert callback["delivered_at"] and callback["attempts"] == 1
    finally:
        receiver.close()


def test_a_users_default_callback_takes_the_tasks_that_name_none(hooks, receiver):
    r = hooks.patch("/queue/v1/me", json={"callback_url": "ftp://example.com/x"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "callback_url"], r.text
    r = hooks.patch("/queue/v1/me", json={"callback_url": receiver.url + "?default"})
    assert r.status_code == 200 and r.json()["callback_url"] == receiver.url + "?default", r.text
    try:
        assert hooks.get("/queue/v1/me").json()["callback_url"] == receiver.url + "?default"
        by_default = hooks.submit(SMALL)
        named = hooks.submit({**SMALL, "callback_url": receiver.url + "?named"})
        none = hooks.submit({**SMALL, "callback_url": None})
        for task_id in (by_default, named, none):
            hooks.wait(task_id)
        for task_id in (by_default, named):
            receiver.wait_for(task_id)
        assert delivered(hooks, by_default)["url"] == receiver.url + "?default"
        assert delivered(hooks, named)["url"] == receiver.url + "?named"
        assert hooks.task(none)["callback"] is None
        time.sleep(1)
        assert none not in {b["task_id"] for b in receiver.bodies(answered=False)}
    finally:
        assert hooks.patch("/queue/v1/me", json={"callback_url": None}).json()["callback_url"] is None
    assert hooks.task(hooks.submit(SMALL))["callback"] is None
