"""What the Redis store adds to the store contract (test_store.py runs that on it too):
several boxes, i.e. several store objects on one server, see one queue; prefixes keep
queues apart; each box's copy of the queued tasks catches up with the others' changes;
data survives a restart of a persistent server."""

import random
import threading
import time
import uuid

import pytest
from redis_server import RedisServer, require

from webui_taskqueue.records.quotas import QuotaExceeded
from webui_taskqueue.records.tasks import InvalidTransition, Task, TaskStatus, TaskType


def make(task_id, owner="ann", created_at=1.0, **kw):
    return Task(task_id=task_id, type=TaskType.TXT2IMG, owner=owner, checkpoint="a.safetensors",
                params={"prompt": "p"}, created_at=created_at, **kw)


@pytest.fixture
def boxes(redis_server):
    """Two stores on one queue (a prefix of their own), as two boxes would open it."""
    from webui_taskqueue.store.redis.store import RedisStore

    prefix = f"boxes-{uuid.uuid4().hex[:8]}:"
    found = [RedisStore(redis_server.url, prefix=prefix) for _ in range(2)]
    yield found
    for store in found:
        store.close()


def fresh(store):
    """The queued tasks as a box that never read them sees them."""
    from webui_taskqueue.store.redis.store import RedisStore

    kw = store._redis.connection_pool.connection_kwargs
    other = RedisStore(f"redis://{kw['host']}:{kw['port']}/{kw.get('db', 0)}", prefix=store.prefix)
    try:
        return other.queued_light()
    finally:
        other.close()


def test_a_box_hears_of_work_queued_or_resumed_on_another(boxes):
    a, b = boxes
    heard = threading.Event()
    a.attach(heard.set)
    while dict(b._redis.pubsub_numsub(b.prefix + "work"))[b.prefix + "work"] == 0:
        time.sleep(0.01)  # until the server has the subscription
    b.add(make("t1"))
    assert heard.wait(10)
    heard.clear()
    b.set_flag("paused", False)
    assert heard.wait(10)


def test_prefixes_keep_queues_apart(redis_server):
    from webui_taskqueue.store.redis.store import RedisStore

    one, two = RedisStore(redis_server.url, prefix="one-x:"), RedisStore(redis_server.url, prefix="two-x:")
    try:
        one.add(make("t1"))
        one.set_flag("paused", True)
        assert two.get("t1") is None and two.queued_light() == [] and not two.get_flag("paused")
        two.add(make("t1"))  # the same id in another queue
        assert one.count(TaskStatus.QUEUED) == two.count(TaskStatus.QUEUED) == 1
    finally:
        one.close()
        two.close()


def test_a_box_sees_the_other_boxes_changes_in_its_queued_copy(boxes):
    a, b = boxes
    assert b.queued_light() == []
    for i in range(4):
        a.add(make(f"t{i}", created_at=float(i), sort_order=float(i)))
    assert [q.task_id for q in b.queued_light()] == ["t0", "t1", "t2", "t3"]
    a.start("t0", 5.0, overtaken=["t2"], due=["t1"])
    a.reorder("t3", priority=7)
    light = {q.task_id: q for q in b.queued_light()}
    assert list(light) == ["t1", "t2", "t3"]
    assert (light["t2"].overtaken, light["t1"].due_since, light["t3"].priority) == (1, 5.0, 7)
    assert b.served() == {"ann": 5.0} and b.version() == a.version()


def test_catching_up_gives_what_a_full_read_gives(boxes):
    a, b = boxes
    rng = random.Random(7)
    queued = []
    for step in range(300):
        box = rng.choice(boxes)
        action = rng.random()
        if action < 0.5 or not queued:
            task_id = f"t{step}"
            box.add(make(task_id, owner=rng.choice(["ann", "bob"]), created_at=float(step)))
            queued.append(task_id)
        elif action < 0.7:
            task_id = queued.pop(rng.randrange(len(queued)))
            box.start(task_id, float(step), overtaken=rng.sample(queued, min(2, len(queued))),
                      due=rng.sample(queued, min(1, len(queued))))
        elif action < 0.85:
            box.reorder(rng.choice(queued), sort_order=rng.random(), priority=rng.randrange(3))
        else:
            box.cancel(queued.pop(rng.randrange(len(queued))), float(step))
        if step % 7 == 0:
            assert b.queued_light() == fresh(b)
    assert a.queued_light() == b.queued_light() == fresh(a)
    assert [q.task_id for q in a.queued_light()] == [t for t in sorted(queued, key=lambda t: int(t[1:]))]


def test_a_box_whose_change_log_is_gone_reads_the_queue_again(boxes):
    a, b = boxes
    a.add(make("t1"))
    assert len(b.queued_light()) == 1
    a.add(make("t2"))
    a._redis.delete(a.prefix + "qlog")  # as if b had been away longer than the log reaches
    a.add(make("t3"))
    assert [q.task_id for q in b.queued_light()] == ["t1", "t2", "t3"]


def test_the_version_moves_with_the_queue_and_not_with_a_running_tasks_end(boxes):
    a, b = boxes
    a.add(make("t1"))
    first = b.version()
    a.start("t1", 2.0)
    started = b.version()
    a.finish("t1", TaskStatus.DONE, 3.0)
    assert first < started == b.version()


def test_only_one_box_claims_a_task(boxes):
    for i in range(20):
        boxes[0].add(make(f"t{i}"))
    wins = []

    def claim(store):
        for i in range(20):
            try:
                store.start(f"t{i}", 1.0)
                wins.append(f"t{i}")
            except InvalidTransition:
                pass

    threads = [threading.Thread(target=claim, args=(boxes[n % 2],)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == sorted(f"t{i}" for i in range(20))  # each once


def test_boxes_submitting_together_never_pass_a_users_queued_limit(boxes):
    accepted = []

    def submit(n):
        for i in range(10):
            try:
                boxes[n % 2].add(make(f"t{n}-{i}"), max_queued=7)
                accepted.append(1)
            except QuotaExceeded:
                pass

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(accepted) == 7 and boxes[1].count(TaskStatus.QUEUED) == 7


def test_times_keep_every_digit(boxes):
    a, b = boxes
    now = time.time() + 0.123456789
    a.add(make("t1", created_at=now, sort_order=now))
    a.start("t1", now + 1e-6)
    task = b.get("t1")
    assert (task.created_at, task.sort_order, task.started_at) == (now, now, now + 1e-6)
    assert b.served()["ann"] == now + 1e-6 and b.events_after(0)[-1].at == now + 1e-6


def test_a_persistent_server_keeps_the_queue_across_its_restart(tmp_path):
    require()
    from webui_taskqueue.store.redis.store import RedisStore

    server = RedisServer(tmp_path / "redis", persist=True).start()
    try:
        store = RedisStore(server.url)
        store.add(make("t1", callback_url="http://h/x"))
        store.add(make("t2"))
        store.cancel("t1", 2.0)
        store.close()
        server.stop()
        server = RedisServer(tmp_path / "redis", persist=True).start()  # (on another port)
        store = RedisStore(server.url)
        assert [q.task_id for q in store.queued_light()] == ["t2"]
        assert store.get("t1").status == TaskStatus.CANCELLED and store.delivery("t1").next_try_at == 2.0
        store.close()
    finally:
        server.stop()


def test_a_stopped_boxs_task_is_marked_failed_once_by_whoever_notices_first(boxes_of_one_queue):
    from webui_taskqueue.store.redis.boxes import stopped_message

    a, b, c = boxes_of_one_queue("a"), boxes_of_one_queue("b"), boxes_of_one_queue("c")
    for box in (b, c):
        box.beat(1.0)
    a.add(make("ta"))
    b.add(make("tb"))
    a.start("ta", 2.0, box="a")  # box a never said it is alive: as if it stopped
    b.start("tb", 2.0, box="b")
    found = []
    threads = [threading.Thread(target=lambda s=s: found.extend(s.reap(3.0))) for s in (b, c, b, c)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert found == ["ta"]
    failed = c.get("ta")
    assert (failed.status, failed.error, failed.finished_at) == (TaskStatus.FAILED, stopped_message("a"), 3.0)
    assert c.get("tb").status == TaskStatus.RUNNING  # box b is alive
    with pytest.raises(InvalidTransition):  # box a, back, cannot record it: it was not run twice
        a.finish("ta", TaskStatus.DONE, 4.0)
    assert [e.kind for e in c.events_after(0) if e.task_id == "ta"] == ["submitted", "started", "final"]


def test_a_box_that_starts_again_fails_its_own_running_tasks_and_no_others(boxes_of_one_queue):
    from webui_taskqueue.store.contract import RESTART_MESSAGE

    a, b = boxes_of_one_queue("a"), boxes_of_one_queue("b")
    b.beat(1.0)
    for task_id, box in (("ta", a), ("tb", b)):
        box.add(make(task_id))
        box.start(task_id, 2.0, box=box.box)
    again = boxes_of_one_queue("a")
    assert again.recover(3.0) == ["ta"]
    assert again.get("ta").error == RESTART_MESSAGE and again.get("tb").status == TaskStatus.RUNNING


def test_boxes_alive_are_listed_until_they_stop_saying_so(boxes_of_one_queue):
    a, b = boxes_of_one_queue("a"), boxes_of_one_queue("b")
    a.beat(1.0)
    b.beat(1.0, alive=0.05)
    assert set(a.boxes()) == {"a", "b"}
    time.sleep(0.2)  # b's word expires
    assert a.boxes() == {"a": {"at": 1.0}}


def test_a_box_attached_says_it_is_alive_and_forgets_itself_when_it_stops(boxes_of_one_queue):
    a, b = boxes_of_one_queue("a"), boxes_of_one_queue("b")
    a.attach(lambda: None)
    while "a" not in b.boxes():
        time.sleep(0.01)
    a.close()
    assert b.boxes() == {}


def test_a_box_goes_on_after_redis_restarts(tmp_path):
    """Redis restarts (persistence on): the box's calls reconnect, its queued copy and its
    listener too (a restart may lose what was published meanwhile: it is woken anyway)."""
    require()
    from webui_taskqueue.store.redis.store import RedisStore

    server = RedisServer(tmp_path / "redis", persist=True).start()
    box = other = None
    try:
        box, other = RedisStore(server.url, box="a"), RedisStore(server.url)
        heard = threading.Event()
        box.attach(heard.set)
        box.add(make("t1"))
        assert [q.task_id for q in box.queued_light()] == ["t1"]
        port = server.port
        server.stop()
        server = RedisServer(tmp_path / "redis", persist=True)
        server.port, server.url = port, f"redis://127.0.0.1:{port}/0"  # where the boxes look for it
        server.start()
        assert heard.wait(30)  # woken after the lost connection
        heard.clear()
        other.add(make("t2"))
        assert heard.wait(30)  # and hears again
        assert [q.task_id for q in box.queued_light()] == ["t1", "t2"]
        assert box.start("t1", 2.0, box="a").status == TaskStatus.RUNNING
    finally:
        for store in (box, other):
            if store is not None:
                store.close()
        server.stop()


def test_a_box_name_is_one_live_processs_until_it_stops_saying_so(boxes_of_one_queue):
    first, second = boxes_of_one_queue("gpu"), boxes_of_one_queue("gpu")
    assert first.claim_box(1.0) is None and first.box_error is None
    found = second.claim_box(1.5)
    assert "another box named 'gpu' is alive" in found and second.box_error == found
    assert first.beat(2.0) is None and second.beat(2.0)["at"] == 2.0  # the holder renews; the other is told who
    second._forget_box()  # a stopping process frees only a name of its own
    assert set(first.boxes()) == {"gpu"} and "token" not in first.boxes()["gpu"]
    first._forget_box()
    assert second.claim_box(3.0) is None and first.claim_box(3.0) is not None
