"""Webhooks with several boxes on one queue (Redis): each box runs a sender, and each
final state reaches the receiver once, sent by one box. A box killed in the middle of a
try leaves the delivery to another box once its claim ends (webhooks.lease)."""

import collections
import json
import os
import time


from .push import Receiver

ADMIN_KEY = "tq_boxhooks-admin-0123456789abcd"
PREFIX = "hooks:"
OPTIONS = {"task_queue_callback_hosts": "127.0.0.1", "task_queue_callback_retry_seconds": 0.3,
           "task_queue_callback_tries": 5, "task_queue_callback_timeout": 3.0}
SMALL = {"prompt": "a hook", "steps": 2, "width": 64, "height": 64}


def box(standin_factory, redis, name):
    made = standin_factory(step_seconds=0.02, admin_key=ADMIN_KEY, redis_url=redis.url, redis_prefix=PREFIX, box=name)
    with open(os.path.join(made.data_dir, "config.json"), "w") as f:
        json.dump(OPTIONS, f)
    return made


def settle(receiver, count, timeout=60):
    """Wait until `count` POSTs were answered, then a while more for any second one."""
    deadline = time.monotonic() + timeout
    while len(receiver.bodies()) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(2.0)


def test_every_final_state_is_posted_once_by_one_of_the_boxes(standin_factory, redis):
    a, b = (box(standin_factory, redis, name).start() for name in ("box-a", "box-b"))
    receiver = Receiver()
    try:
        clients = a.client(), b.client()
        sent = [clients[i % 2].submit({**SMALL, "seed": i, "callback_url": receiver.url}) for i in range(12)]
        finals = [clients[0].wait(task_id, timeout=300) for task_id in sent]
        assert {t["status"] for t in finals} == {"done"} and {t["box"] for t in finals} == {"box-a", "box-b"}
        settle(receiver, len(sent))
        posts = collections.Counter(body["task_id"] for body in receiver.bodies(answered=False))
        assert posts == {task_id: 1 for task_id in sent}
        for task_id in sent:  # either box shows the one delivery
            callback = clients[1].task(task_id)["callback"]
            assert callback["attempts"] == 1 and callback["delivered_at"]
    finally:
        receiver.close()


def test_a_box_killed_inside_a_try_leaves_the_delivery_to_another_box(standin_factory, redis):
    a = box(standin_factory, redis, "box-a").start()
    receiver = Receiver(hold_first=True)  # the first POST is read, then never answered
    try:
        task_id = a.client().submit({**SMALL, "callback_url": receiver.url})
        assert a.client().wait(task_id)["status"] == "done"
        deadline = time.monotonic() + 30
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.02)
        assert receiver.received and not receiver.answered  # box-a is inside its try, holding the claim
        a.kill()
        receiver.release()
        b = box(standin_factory, redis, "box-b").start()
        receiver.wait_for(task_id, timeout=60)  # once box-a's claim has ended
        settle(receiver, 1)
        assert [body["task_id"] for body in receiver.bodies(answered=False)] == [task_id, task_id]
        assert len(receiver.bodies()) == 1
        callback = b.client().task(task_id)["callback"]
        assert callback["delivered_at"] and callback["attempts"] == 1  # box-a never recorded its try
    finally:
        receiver.close()
