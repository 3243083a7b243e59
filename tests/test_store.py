"""The store contract, run against every implementation."""

import sqlite3
import threading

import pytest

from webui_taskqueue.store.sqlite.store import SQLiteStore
from webui_taskqueue.store.contract import RESTART_MESSAGE
from webui_taskqueue.records.tasks import InvalidTransition, Task, TaskStatus, TaskType



def make(task_id, owner="ann", created_at=1.0, params=None, **kw):
    return Task(task_id=task_id, type=TaskType.TXT2IMG, owner=owner, checkpoint="a.safetensors",
                params=params or {"prompt": "p", "steps": 2}, created_at=created_at, **kw)


def test_added_task_reads_back_equal(store):
    task = make("t1", vae="Automatic")
    store.add(task)
    assert store.get("t1") == task
    assert store.get("nope") is None


def test_duplicate_id_is_refused(store):
    store.add(make("t1"))
    with pytest.raises(Exception):
        store.add(make("t1"))
    assert len(store.queued_light()) == 1


def test_queued_is_in_submission_order(store):
    for i in (3, 1, 2):
        store.add(make(f"t{i}", created_at=float(i)))
    assert [t.task_id for t in store.queued_light()] == ["t3", "t1", "t2"]


def test_list_is_newest_first_filtered_and_counted(store):
    for i in range(5):
        store.add(make(f"t{i}", owner="ann" if i % 2 == 0 else "bob"))
    store.cancel("t0", 2.0)
    tasks, count = store.list(owner="ann", limit=2)
    assert [t.task_id for t in tasks] == ["t4", "t2"] and count == 3
    tasks, count = store.list(owner="ann", limit=2, offset=2)
    assert [t.task_id for t in tasks] == ["t0"]
    tasks, count = store.list(statuses=[TaskStatus.CANCELLED])
    assert [t.task_id for t in tasks] == ["t0"] and count == 1
    assert store.list()[1] == 5


def test_lifecycle_records_outcome(store):
    store.add(make("t1"))
    running = store.start("t1", 5.0)
    assert running.status == TaskStatus.RUNNING and running.started_at == 5.0
    done = store.finish("t1", TaskStatus.DONE, 9.0, images=["0.png"], infotexts=["x"],
                        process_started_at=5.1, process_finished_at=8.9)
    assert done == store.get("t1")
    assert (done.status, done.finished_at, done.images, done.infotexts) == (TaskStatus.DONE, 9.0, ["0.png"], ["x"])
    assert done.process_started_at == 5.1 and done.process_finished_at == 8.9


@pytest.mark.parametrize("prepare, attempt", [
    ([], lambda s: s.finish("t1", TaskStatus.DONE, 1.0)),          # queued -> done
    (["start"], lambda s: s.cancel("t1", 1.0)),                     # running -> cancelled
    (["start"], lambda s: s.start("t1", 1.0)),                      # taken twice
    (["cancel"], lambda s: s.start("t1", 1.0)),                     # cancelled -> running
])
def test_transitions_outside_the_table_are_refused(store, prepare, attempt):
    store.add(make("t1"))
    for step in prepare:
        getattr(store, step)("t1", 0.5)
    before = store.get("t1")
    with pytest.raises(InvalidTransition):
        attempt(store)
    assert store.get("t1") == before


def test_the_box_that_starts_a_task_is_recorded_on_it(store):
    store.add(make("t1"))
    assert store.get("t1").box is None
    store.start("t1", 2.0, box="box-1")
    store.finish("t1", TaskStatus.DONE, 3.0)
    assert store.get("t1").box == "box-1" and store.list()[0][0].box == "box-1"


def test_unknown_task_transition_raises_key_error(store):
    with pytest.raises(KeyError):
        store.start("ghost", 1.0)


def test_only_one_of_racing_claims_wins(store):
    store.add(make("t1"))
    wins = []

    def claim():
        try:
            store.start("t1", 1.0)
            wins.append(1)
        except InvalidTransition:
            pass

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins == [1]


def test_delete_only_final_tasks(store):
    store.add(make("t1"))
    with pytest.raises(ValueError):
        store.delete("t1")
    store.cancel("t1", 1.0)
    store.delete("t1")
    assert store.get("t1") is None
    with pytest.raises(KeyError):
        store.delete("t1")


def test_recover_fails_running_tasks_and_keeps_queued(store):
    store.add(make("run"))
    store.add(make("wait"))
    store.start("run", 1.0)
    assert store.recover(2.0) == ["run"]
    failed = store.get("run")
    assert failed.status == TaskStatus.FAILED and failed.error == RESTART_MESSAGE
    assert store.get("wait").status == TaskStatus.QUEUED


def test_flags_default_false_and_persist_values(store):
    assert store.get_flag("paused") is False
    store.set_flag("paused", True)
    assert store.get_flag("paused") is True
    store.set_flag("paused", False)
    assert store.get_flag("paused") is False


def test_sqlite_survives_reopen(tmp_path):
    path = str(tmp_path / "tasks.sqlite3")
    first = SQLiteStore(path)
    first.add(make("t1"))
    first.set_flag("paused", True)
    first.close()
    again = SQLiteStore(path)
    assert again.get("t1").status == TaskStatus.QUEUED and again.get_flag("paused")
    again.close()


def test_sqlite_uses_wal_and_records_schema_version(tmp_path):
    store = SQLiteStore(str(tmp_path / "tasks.sqlite3"))
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._db.execute("PRAGMA user_version").fetchone()[0] >= 1
    store.close()


def test_count_matches_the_lists(store):
    for i in range(3):
        store.add(make(f"t{i}"))
    store.start("t0", 1.0)
    assert store.count(TaskStatus.QUEUED) == len(store.queued_light()) == 2
    assert store.count(TaskStatus.RUNNING) == len(store.running()) == 1
    assert store.count(TaskStatus.DONE) == 0


# ---- users, keys, limits, secrets ------------------------------------------------------

from webui_taskqueue.records.quotas import QuotaExceeded  # noqa: E402
from webui_taskqueue.records.users import Role, User, UserExists, digest  # noqa: E402


def test_users_are_added_listed_updated_and_named_once(store):
    store.add_user(User("bob", Role.USER, {"max_queued": 3}, 1.0))
    store.add_user(User("ann", Role.ADMIN, {}, 2.0))
    with pytest.raises(UserExists):
        store.add_user(User("ann", Role.USER))
    assert [u.name for u in store.users()] == ["ann", "bob"]
    assert store.count_users() == 2 and store.count_users(Role.ADMIN) == 1
    changed = store.update_user("bob", role=Role.ADMIN, limits={"max_steps": 10, "max_queued": None})
    assert changed == User("bob", Role.ADMIN, {"max_steps": 10}, 1.0) == store.get_user("bob")
    with pytest.raises(KeyError):
        store.update_user("nobody", role=Role.USER)


def test_a_key_finds_its_user_until_revoked(store):
    store.add_user(User("ann"))
    store.add_key("ann", digest("k1" * 10), "k1k1k1k1k1k", 1.0)
    store.add_key("ann", digest("k2" * 10), "k2k2k2k2k2k", 2.0)
    assert store.user_for_key(digest("k1" * 10)).name == "ann"
    assert [k.prefix for k in store.keys("ann")] == ["k1k1k1k1k1k", "k2k2k2k2k2k"]
    store.delete_key("ann", "k1k1k1k1k1k")
    assert store.user_for_key(digest("k1" * 10)) is None
    with pytest.raises(KeyError):
        store.delete_key("ann", "k1k1k1k1k1k")
    with pytest.raises(KeyError):
        store.add_key("nobody", digest("x" * 20), "xxxxxxxxxxx", 1.0)


def test_deleting_a_user_drops_their_keys_and_cancels_their_queued_tasks(store):
    store.add_user(User("ann"))
    store.add_key("ann", digest("k" * 20), "kkkkkkkkkkk", 1.0)
    store.add(make("t1", owner="ann"))
    store.add(make("t2", owner="ann"))
    store.add(make("t3", owner="bob"))
    store.start("t1", 2.0)
    assert store.delete_user("ann", 3.0) == ["t2"]
    assert store.get_user("ann") is None and store.user_for_key(digest("k" * 20)) is None
    assert [store.get(t).status for t in ("t1", "t2", "t3")] == [TaskStatus.RUNNING, TaskStatus.CANCELLED, TaskStatus.QUEUED]
    with pytest.raises(KeyError):
        store.delete_user("ann", 4.0)


def test_queued_limit_is_checked_in_the_same_step_as_the_add(store):
    store.add(make("t1", owner="ann", created_at=10.0), max_queued=2)
    store.add(make("t2", owner="ann", created_at=11.0), max_queued=2)
    with pytest.raises(QuotaExceeded) as refused:
        store.add(make("t3", owner="ann", created_at=12.0), max_queued=2)
    assert refused.value.limit == "max_queued" and refused.value.usage.queued == 2
    assert store.get("t3") is None
    store.add(make("t4", owner="bob", created_at=12.0), max_queued=2)  # per owner
    store.cancel("t1", 13.0)
    store.add(make("t5", owner="ann", created_at=14.0), max_queued=2)


def test_hourly_limit_counts_deleted_tasks_and_says_when_to_retry(store):
    store.add(make("t1", owner="ann", created_at=100.0), max_per_hour=2)
    store.cancel("t1", 101.0)
    store.delete("t1")
    store.add(make("t2", owner="ann", created_at=200.0), max_per_hour=2)
    with pytest.raises(QuotaExceeded) as refused:
        store.add(make("t3", owner="ann", created_at=300.0), max_per_hour=2)
    assert refused.value.limit == "max_per_hour" and refused.value.usage.last_hour == 2
    assert refused.value.retry_after == 3401  # t1's submit leaves the hour at 3700
    store.add(make("t4", owner="ann", created_at=3701.0), max_per_hour=2)
    assert store.usage("ann", 3701.0).last_hour == 2


def test_concurrent_adds_never_pass_the_queued_limit(store):
    accepted, refused = [], []

    def submit(i):
        try:
            store.add(make(f"t{i}", owner="ann", created_at=float(i)), max_queued=5)
            accepted.append(i)
        except QuotaExceeded:
            refused.append(i)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(accepted) == 5 and len(refused) == 35 and store.count(TaskStatus.QUEUED) == 5


def test_a_secret_is_made_once_and_kept(store):
    first = store.secret("signing")
    assert len(first) == 64 and store.secret("signing") == first and store.secret("other") != first


def test_users_survive_reopening_the_database(tmp_path):
    path = str(tmp_path / "tasks.sqlite3")
    store = SQLiteStore(path)
    store.add_user(User("ann", Role.ADMIN, {"max_queued": 1}, 5.0))
    store.add_key("ann", digest("k" * 20), "kkkkkkkkkkk", 6.0)
    secret = store.secret("signing")
    store.close()
    store = SQLiteStore(path)
    assert store.user_for_key(digest("k" * 20)) == User("ann", Role.ADMIN, {"max_queued": 1}, 5.0)
    assert store.secret("signing") == secret
    store.close()


def test_a_database_of_the_first_schema_gains_users_and_keeps_its_tasks(tmp_path):
    from webui_taskqueue.store.sqlite.store import MIGRATIONS

    path = str(tmp_path / "tasks.sqlite3")
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0] + "; PRAGMA user_version=1;")
    db.execute("INSERT INTO tasks (task_id, type, status, owner, checkpoint, params, created_at) "
               "VALUES ('old', 'txt2img', 'queued', 'default', 'a.safetensors', '{\"prompt\": \"p\"}', 1.0)")
    db.commit()
    db.close()
    store = SQLiteStore(path)
    assert store.get("old").params == {"prompt": "p"} and store.queued_light()[0].task_id == "old"
    assert store.count_users() == 0 and store.usage("default", 2.0).queued == 1
    store.close()


def test_a_requests_large_values_are_kept_apart_and_put_back_whole(store):
    from webui_taskqueue.store.inputs import describe, join

    image, mask = "A" * 100_000, "B" * 20_000
    params = {"prompt": "p", "init_images": [image, "small"], "mask": mask,
              "alwayson_scripts": {"ControlNet": {"args": [{"image": image}]}}}
    store.add(make("t1", params=params))
    stored = store.get("t1").params
    assert len(str(stored)) < 1000  # a poll reads no megabytes
    assert join(stored, store.inputs("t1")) == params
    assert store.list()[0][0].params == stored
    shown = describe(stored)
    assert shown["init_images"] == ["<base64 image, 100000 chars>", "<base64 image, 5 chars>"]  # however small
    assert shown["alwayson_scripts"]["ControlNet"]["args"][0]["image"] == "<base64 image, 100000 chars>"
    store.add(make("t2"))
    assert store.inputs("t2") == [] and store.get("t2").params == {"prompt": "p", "steps": 2}
