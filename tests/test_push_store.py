"""The push part of the store contract (event log, webhook outbox), against every store."""

import threading

import pytest

from webui_taskqueue.store import push as push_store
from webui_taskqueue.store.sqlite.store import SQLiteStore
from webui_taskqueue.store.memory import MemoryStore
from webui_taskqueue.records.tasks import Task, TaskStatus, TaskType
from webui_taskqueue.records.users import Role, User



def make(task_id, owner="ann", callback_url=None, created_at=1.0):
    return Task(task_id=task_id, type=TaskType.TXT2IMG, owner=owner, checkpoint="a.safetensors",
                params={"prompt": "p"}, created_at=created_at, callback_url=callback_url)


def kinds(events):
    return [(e.task_id, e.kind) for e in events]


def test_each_change_of_a_task_is_logged_in_order_with_growing_ids(store):
    store.add(make("t1"))
    store.add(make("t2", owner="bob"))
    store.start("t1", 2.0)
    store.finish("t1", TaskStatus.DONE, 3.0, images=["0.png"])
    store.cancel("t2", 4.0)
    events = store.events_after(0)
    assert kinds(events) == [("t1", "submitted"), ("t2", "submitted"), ("t1", "started"), ("t1", "final"),
                             ("t2", "final")]
    assert [e.id for e in events] == sorted({e.id for e in events})
    assert events[3].data == {"task_id": "t1", "status": "done"} and events[3].at == 3.0
    assert kinds(store.events_after(0, owner="bob")) == [("t2", "submitted"), ("t2", "final")]
    assert kinds(store.events_after(events[2].id)) == [("t1", "final"), ("t2", "final")]
    assert store.event_bounds() == (events[0].id, events[-1].id)


def test_appended_events_share_the_sequence(store):
    store.add(make("t1"))
    newest = store.append_events([("ann", "t1", "position", {"task_id": "t1", "position": 1}),
                                  ("ann", "t1", "progress", {"task_id": "t1", "step": 2})], 2.0)
    events = store.events_after(0)
    assert kinds(events) == [("t1", "submitted"), ("t1", "position"), ("t1", "progress")]
    assert newest == events[-1].id and events[1].data["position"] == 1
    assert store.append_events([], 3.0) == newest


def test_an_empty_log_has_bounds_that_resume_from_nothing(store):
    oldest, newest = store.event_bounds()
    assert oldest == newest + 1 and store.events_after(newest) == []


def test_the_log_keeps_a_bounded_window(store, monkeypatch):
    monkeypatch.setattr(push_store, "EVENTS_KEPT", 100)
    monkeypatch.setattr("webui_taskqueue.store.sqlite.push.EVENTS_KEPT", 100)
    if isinstance(store, MemoryStore):  # its window is fixed when made
        store.__init__()
    store.add(make("t1"))
    for i in range(300):
        store.append_events([("ann", "t1", "progress", {"step": i})], 2.0)
    oldest, newest = store.event_bounds()
    assert newest == 301 and 100 <= newest - oldest + 1 < 200
    assert len(store.events_after(0, limit=1000)) == newest - oldest + 1


def test_a_final_state_with_a_callback_makes_its_delivery_due_in_the_same_step(store):
    store.add(make("t1", callback_url="http://127.0.0.1:9/hook"))
    store.add(make("t2"))
    assert store.delivery("t1") is None and store.next_delivery_at() is None
    store.start("t1", 2.0)
    store.finish("t1", TaskStatus.FAILED, 5.0, error="boom")
    store.cancel("t2", 6.0)
    assert store.delivery("t2") is None
    found = store.delivery("t1")
    assert (found.url, found.owner, found.attempts, found.next_try_at) == ("http://127.0.0.1:9/hook", "ann", 0, 5.0)
    assert store.next_delivery_at() == 5.0
    assert store.claim_deliveries(4.9, 60) == [] and [d.task_id for d in store.claim_deliveries(5.0, 60)] == ["t1"]


def test_attempts_are_recorded_until_delivered_or_given_up(store):
    for task_id in ("t1", "t2"):
        store.add(make(task_id, callback_url="http://h/x"))
        store.cancel(task_id, 2.0)
    failed = store.record_attempt("t1", 3.0, 500, "HTTP 500", delivered=False, next_try_at=8.0)
    assert (failed.attempts, failed.last_status, failed.next_try_at, failed.delivered_at) == (1, 500, 8.0, None)
    assert [d.task_id for d in store.claim_deliveries(7.0, 60)] == ["t2"]
    done = store.record_attempt("t1", 9.0, 204, None, delivered=True, next_try_at=None)
    assert (done.attempts, done.delivered_at, done.next_try_at, done.last_error) == (2, 9.0, None, None)
    gone = store.record_attempt("t2", 9.0, None, "timed out", delivered=False, next_try_at=None)
    assert gone.gave_up_at == 9.0 and gone.next_try_at is None
    assert store.claim_deliveries(100.0, 60) == [] and store.next_delivery_at() is None
    assert store.delivery("t1") == done


def test_a_claimed_delivery_is_nobody_elses_until_its_try_is_recorded_or_its_lease_ends(store):
    for task_id in ("t1", "t2"):
        store.add(make(task_id, callback_url="http://h/x"))
        store.cancel(task_id, 2.0)
    first = store.claim_deliveries(3.0, 60, limit=1)
    assert [d.task_id for d in first] == ["t1"] and first[0].next_try_at == 2.0
    assert [d.task_id for d in store.claim_deliveries(3.0, 60)] == ["t2"]  # t1 is held
    assert store.claim_deliveries(62.9, 60) == [] and store.next_delivery_at() == 63.0
    store.record_attempt("t2", 4.0, 500, "HTTP 500", delivered=False, next_try_at=9.0)
    assert [d.task_id for d in store.claim_deliveries(9.0, 60)] == ["t2"]  # recorded: due again at its next try
    assert [d.task_id for d in store.claim_deliveries(63.0, 60)] == ["t1"]  # its claimer died: the lease ended
    assert store.delivery("t1").attempts == 0


def test_of_many_claimers_at_once_each_delivery_goes_to_one(store):
    for i in range(20):
        store.add(make(f"t{i}", callback_url="http://h/x"))
        store.cancel(f"t{i}", 2.0)
    taken, threads = [], []
    for _ in range(4):
        threads.append(threading.Thread(target=lambda: [taken.extend(store.claim_deliveries(3.0, 60, limit=1))
                                                        for _ in range(10)]))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(d.task_id for d in taken) == sorted(f"t{i}" for i in range(20))


def test_cancelling_a_revoked_users_tasks_logs_them_and_makes_their_webhooks_due(store):
    store.add_user(User(name="ann", role=Role.USER))
    store.add(make("t1", callback_url="http://h/x"))
    store.delete_user("ann", 5.0)
    assert kinds(store.events_after(0)) == [("t1", "submitted"), ("t1", "final")]
    assert store.delivery("t1").next_try_at == 5.0


def test_a_deleted_task_takes_its_pending_delivery_with_it(store):
    store.add(make("t1", callback_url="http://h/x"))
    store.cancel("t1", 2.0)
    store.delete("t1")
    assert store.delivery("t1") is None and store.claim_deliveries(10.0, 60) == []


def test_webhook_secrets_are_per_user_and_rotate(store):
    ann, bob = store.webhook_secret("ann"), store.webhook_secret("bob")
    assert ann != bob and len(ann) == 64 and store.webhook_secret("ann") == ann
    rotated = store.rotate_webhook_secret("ann")
    assert rotated != ann and store.webhook_secret("ann") == rotated and store.webhook_secret("bob") == bob


def test_sqlite_keeps_events_and_deliveries_across_reopen(tmp_path):
    path = str(tmp_path / "tasks.sqlite3")
    first = SQLiteStore(path)
    first.add(make("t1", callback_url="http://h/x"))
    first.cancel("t1", 2.0)
    first.close()
    again = SQLiteStore(path)
    try:
        assert kinds(again.events_after(0)) == [("t1", "submitted"), ("t1", "final")]
        assert again.delivery("t1").next_try_at == 2.0 and again.get("t1").callback_url == "http://h/x"
    finally:
        again.close()
