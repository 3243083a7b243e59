"""A database made by an earlier release opens with today's code and loses nothing.

tests/fixtures/schema-<N> holds a database of each schema version, made by the release
that introduced it (tests/fixtures/make_fixture.py): tasks in every status, and users
and keys where the schema has them. Here each one is migrated in place and compared,
row by row, with what it held before; tests/contract/test_upgrade.py runs the queue on it."""

import glob
import json
import os
import shutil
import sqlite3

import pytest

from webui_taskqueue.store.sqlite.store import MIGRATIONS, SQLiteStore
from webui_taskqueue.store.contract import RESTART_MESSAGE
from webui_taskqueue.records.tasks import TaskStatus
from webui_taskqueue.records.users import digest

FIXTURES = sorted(glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "schema-*")))
KEYS = {"tasks": "task_id", "users": "name", "keys": "digest", "flags": "name", "secrets": "name",
        "served": "owner", "state": "name"}


def manifest(fixture):
    with open(os.path.join(fixture, "manifest.json")) as f:
        return json.load(f)


def rows(path):
    """Every row of every table, by table and key, as plain values."""
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
        found = {}
        for table in tables:
            found[table] = [dict(r) for r in db.execute(f"SELECT * FROM {table}")]
        return found
    finally:
        db.close()


def pragma(path, name):
    db = sqlite3.connect(path)
    try:
        return db.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        db.close()


def test_there_is_a_fixture_of_every_schema_version():
    assert [manifest(f)["schema"] for f in FIXTURES] == list(range(1, len(MIGRATIONS) + 1))


@pytest.mark.parametrize("fixture", FIXTURES, ids=os.path.basename)
def test_an_earlier_database_migrates_and_keeps_every_row(fixture, tmp_path):
    path = str(tmp_path / "tasks.sqlite3")
    shutil.copy(os.path.join(fixture, "tasks.sqlite3"), path)
    before = rows(path)

    store = SQLiteStore(path)
    try:
        after = rows(path)
        assert pragma(path, "user_version") == len(MIGRATIONS) and pragma(path, "integrity_check") == "ok"
        for table, old_rows in before.items():
            if table not in KEYS:  # rows without a key (submissions): compared as a whole
                assert sorted(tuple(r[c] for c in old_rows[0]) for r in after[table]) == \
                    sorted(tuple(r.values()) for r in old_rows), table
                continue
            new_rows = {r[KEYS[table]]: r for r in after[table]}
            assert len(new_rows) == len(old_rows), table
            for old in old_rows:  # every column it had, unchanged
                new = new_rows[old[KEYS[table]]]
                assert {c: new[c] for c in old} == old, (table, old[KEYS[table]])

        expected = manifest(fixture)
        for status, ids in expected["tasks"].items():
            for task_id in ids:
                task = store.get(task_id)
                assert task.status == TaskStatus(status)
                if status == "done":
                    assert task.images and all(os.path.isfile(os.path.join(fixture, "images", task_id, n)) for n in task.images)
        queued = [q.task_id for q in store.queued_light()]
        assert queued == expected["tasks"]["queued"]  # in the order they were submitted
        assert all(q.sort_order > 0 for q in store.queued_light())

        for name, key in expected["keys"].items():
            assert store.user_for_key(digest(key)).name == name
        assert sorted(u.name for u in store.users()) == sorted(expected["keys"])

        assert store.recover(1e10) == expected["tasks"]["running"]
        assert all(store.get(t).error == RESTART_MESSAGE for t in expected["tasks"]["running"])
    finally:
        store.close()
