"""The store contract, run against every implementation."""

import threading

import pytest

from webui_taskqueue.sqlite_store import SQLiteStore
from webui_taskqueue.store import RESTART_MESSAGE, MemoryStore
from webui_taskqueue.tasks import InvalidTransition, Task, TaskStatus, TaskType


@pytest.fixture(params=["memory", "sqlite"])
def store(request, tmp_path):
    s = MemoryStore() if request.param == "memory" else SQLiteStore(str(tmp_path / "q" / "tasks.sqlite3"))
    yield s
    s.close()


def make(task_id, owner="ann", created_at=1.0, **kw):
    return Task(task_id=task_id, type=TaskType.TXT2IMG, owner=owner, checkpoint="a.safetensors",
                params={"prompt": "p", "steps": 2}, created_at=created_at, **kw)


def test_added_task_reads_back_equal(store):
    task = make("t1", vae="Automatic")
    store.add(task)
    assert store.get("t1") == task
    assert store.get("nope") is None


def test_duplicate_id_is_refused(store):
    store.add(make("t1"))
    with pytest.raises(Exception):
        store.add(make("t1"))
    assert len(store.queued()) == 1


def test_queued_is_in_submission_order(store):
    for i in (3, 1, 2):
        store.add(make(f"t{i}", created_at=float(i)))
    assert [t.task_id for t in store.queued()] == ["t3", "t1", "t2"]


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
    assert store.count(TaskStatus.QUEUED) == len(store.queued()) == 2
    assert store.count(TaskStatus.RUNNING) == len(store.running()) == 1
    assert store.count(TaskStatus.DONE) == 0
