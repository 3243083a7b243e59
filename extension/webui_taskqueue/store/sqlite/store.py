"""The durable store: one SQLite file, WAL, numbered migrations in PRAGMA user_version.

The columns we query (status, owner, checkpoint, priority, times) are columns; the
request itself is JSON. One connection guarded by one lock: the queue writes a few
rows a second at most, and this keeps every transition a single locked transaction."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import secrets
import sqlite3
import threading
from typing import Dict, Iterator, List, Optional

from ...records.tasks import InvalidTransition, Queued, Task, TaskStatus, TaskType, check_transition
from ...records.users import Usage
from ..contract import HOUR, Store, check_quota
from ..inputs import split as split_inputs
from ..live import MemoryLive
from ..push import STARTED, SUBMITTED, Leases
from .push import MIGRATION as PUSH_MIGRATION
from .push import SQLitePush
from .users import SQLiteUsers

MIGRATIONS = [
    # 1: tasks and flags
    """
    CREATE TABLE tasks (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        task_id TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        status TEXT NOT NULL,
        owner TEXT NOT NULL,
        checkpoint TEXT NOT NULL,
        vae TEXT,
        priority INTEGER NOT NULL DEFAULT 0,
        params TEXT NOT NULL,
        created_at REAL NOT NULL,
        started_at REAL,
        finished_at REAL,
        process_started_at REAL,
        process_finished_at REAL,
        error TEXT,
        images TEXT NOT NULL DEFAULT '[]',
        infotexts TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX tasks_status ON tasks (status, seq);
    CREATE INDEX tasks_owner ON tasks (owner, seq);
    CREATE TABLE flags (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    """,
    # 2: users, their keys (digests only), submissions of the last hour, secrets
    """
    CREATE TABLE users (
        name TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        limits TEXT NOT NULL DEFAULT '{}',
        created_at REAL NOT NULL
    );
    CREATE TABLE keys (
        digest TEXT PRIMARY KEY,
        user TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
        prefix TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE INDEX keys_user ON keys (user);
    CREATE TABLE submissions (owner TEXT NOT NULL, at REAL NOT NULL);
    CREATE INDEX submissions_owner ON submissions (owner, at);
    CREATE TABLE secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    # 3: the scheduler: each task's own order, expected work and fairness bookkeeping;
    # when each user was last served; small state records (learned speeds)
    """
    ALTER TABLE tasks ADD COLUMN sort_order REAL NOT NULL DEFAULT 0;
    ALTER TABLE tasks ADD COLUMN work REAL NOT NULL DEFAULT 1;
    ALTER TABLE tasks ADD COLUMN overtaken INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE tasks ADD COLUMN due_since REAL;
    ALTER TABLE tasks ADD COLUMN size TEXT NOT NULL DEFAULT '';
    UPDATE tasks SET sort_order = created_at;
    CREATE TABLE served (owner TEXT PRIMARY KEY, at REAL NOT NULL);
    CREATE TABLE state (name TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    # 4: a request's large values (base64 images) apart from it, so that reading a
    # task (every status poll) never parses megabytes
    """
    CREATE TABLE inputs (
        task_id TEXT NOT NULL REFERENCES tasks (task_id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (task_id, idx)
    );
    """,
    # 5: push: each task's callback URL, the event log and the webhook outbox
    PUSH_MIGRATION,
    # 6: the box (webui process) that ran each task
    "ALTER TABLE tasks ADD COLUMN box TEXT",
]

_COLUMNS = (
    "task_id type status owner checkpoint vae priority params created_at started_at "
    "finished_at process_started_at process_finished_at error images infotexts "
    "sort_order work overtaken due_since size callback_url box"
).split()
_LIGHT = [f.name for f in dataclasses.fields(Queued)]
_JSON_COLUMNS = {"params", "images", "infotexts"}


class SQLiteStore(MemoryLive, SQLiteUsers, SQLitePush, Store):
    def __init__(self, path: str) -> None:
        if os.path.dirname(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
        self._lock = threading.RLock()
        self._leases = Leases()  # webhook deliveries this process claimed (sqlite/push.py)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._migrate()
        # Status polls read through a connection of their own: in WAL mode a reader never
        # waits for a writer, so a poll answered on the event loop never stalls it behind
        # a submit writing megabytes or a task's final state.
        self._reader_lock = threading.Lock()
        self._reader = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10)
        self._reader.row_factory = sqlite3.Row
        # The queued tasks' light records, kept in memory: the scheduler reads them on
        # every pick and every status poll. Our own writes update them; a write by
        # another process (the command line) changes PRAGMA data_version: reload.
        self._queued: Optional[Dict[str, Queued]] = None
        self._data_version = -1
        self._version = 0

    def _migrate(self) -> None:
        with self._transaction() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in filter(str.strip, script.split(";")):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version={number}")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                self._queued = None  # the light records may have run ahead: reload them
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock, self._reader_lock:
            self._reader.close()
            self._db.close()

    def add(self, task, max_queued=None, max_per_hour=None):
        params, blobs = split_inputs(task.params)
        row = _to_row(dataclasses.replace(task, params=params))
        marks = ",".join("?" for _ in _COLUMNS)
        now = task.created_at
        with self._transaction() as db:
            db.execute("DELETE FROM submissions WHERE at <= ?", (now - HOUR,))
            if max_queued or max_per_hour:
                oldest = db.execute("SELECT MIN(at) FROM submissions WHERE owner=?", (task.owner,)).fetchone()[0]
                check_quota(self._usage(db, task.owner, now), max_queued, max_per_hour, oldest, now)
            try:
                db.execute(f"INSERT INTO tasks ({','.join(_COLUMNS)}) VALUES ({marks})", [row[c] for c in _COLUMNS])
            except sqlite3.IntegrityError:
                raise KeyError(f"task {task.task_id} exists") from None
            db.executemany("INSERT INTO inputs (task_id, idx, data) VALUES (?, ?, ?)",
                           [(task.task_id, i, blob) for i, blob in enumerate(blobs)])
            db.execute("INSERT INTO submissions (owner, at) VALUES (?, ?)", (task.owner, now))
            self._log(db, task.owner, task.task_id, SUBMITTED, {"task_id": task.task_id, "status": "queued"}, now)
            self._changed(add=[_light(task)] if task.status == TaskStatus.QUEUED else ())

    def usage(self, owner, now):
        with self._lock:
            return self._usage(self._db, owner, now)

    @staticmethod
    def _usage(db, owner, now):
        queued = db.execute("SELECT COUNT(*) FROM tasks WHERE owner=? AND status=?", (owner, TaskStatus.QUEUED.value)).fetchone()[0]
        last_hour = db.execute("SELECT COUNT(*) FROM submissions WHERE owner=? AND at > ?", (owner, now - HOUR)).fetchone()[0]
        return Usage(queued=queued, last_hour=last_hour)

    def get(self, task_id: str) -> Optional[Task]:
        with self._reader_lock:
            row = self._reader.execute("SELECT * FROM tasks WHERE task_id=?", (task_id,)).fetchone()
        return _from_row(row) if row else None

    def inputs(self, task_id):
        with self._lock:
            rows = self._db.execute("SELECT data FROM inputs WHERE task_id=? ORDER BY idx", (task_id,)).fetchall()
        return [r["data"] for r in rows]

    def list(self, owner=None, statuses=(), limit=50, offset=0):
        where, args = [], []
        if owner is not None:
            where.append("owner=?")
            args.append(owner)
        if statuses:
            where.append(f"status IN ({','.join('?' for _ in statuses)})")
            args.extend(TaskStatus(s).value for s in statuses)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        with self._lock:
            count = self._db.execute(f"SELECT COUNT(*) FROM tasks {clause}", args).fetchone()[0]
            rows = self._db.execute(
                f"SELECT * FROM tasks {clause} ORDER BY seq DESC LIMIT ? OFFSET ?", args + [limit, offset]
            ).fetchall()
        return [_from_row(r) for r in rows], count

    def count(self, status: TaskStatus) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM tasks WHERE status=?", (status.value,)).fetchone()[0]

    def _with_status(self, status: TaskStatus) -> List[Task]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM tasks WHERE status=? ORDER BY seq", (status.value,)).fetchall()
        return [_from_row(r) for r in rows]

    def delete(self, task_id: str) -> None:
        with self._transaction() as db:
            row = db.execute("SELECT status FROM tasks WHERE task_id=?", (task_id,)).fetchone()
            if row is None:
                raise KeyError(task_id)
            if not TaskStatus(row["status"]).is_final:
                raise ValueError(f"task {task_id} is {row['status']}")
            db.execute("DELETE FROM tasks WHERE task_id=?", (task_id,))

    def images_of(self, task_ids):
        task_ids, found = list(task_ids), {}
        with self._lock:
            for start in range(0, len(task_ids), 500):
                chunk = task_ids[start:start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(f"SELECT task_id, images FROM tasks WHERE task_id IN ({marks})", chunk).fetchall()
                found.update((r["task_id"], json.loads(r["images"])) for r in rows)
        return found

    def get_flag(self, name: str) -> bool:
        with self._lock:
            row = self._db.execute("SELECT value FROM flags WHERE name=?", (name,)).fetchone()
        return bool(row and row["value"])

    def set_flag(self, name: str, value: bool) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO flags (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value=excluded.value",
                (name, int(value)),
            )

    def secret(self, name):
        with self._lock:
            row = self._db.execute("SELECT value FROM secrets WHERE name=?", (name,)).fetchone()
        if row:
            return row[0]
        with self._transaction() as db:
            db.execute("INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)", (name, secrets.token_hex(32)))
            return db.execute("SELECT value FROM secrets WHERE name=?", (name,)).fetchone()[0]

    # ---- the scheduler's reads and writes ----------------------------------------------

    def queued_light(self):
        with self._lock:
            self._sync()
            return list(self._queued.values())

    def version(self):
        with self._lock:
            self._sync()
            return self._version

    def served(self):
        with self._lock:
            return {r["owner"]: r["at"] for r in self._db.execute("SELECT owner, at FROM served").fetchall()}

    def start(self, task_id, now, overtaken=(), due=(), box=None):
        with self._transaction() as db:
            task = self._transition_in(db, task_id, TaskStatus.RUNNING, started_at=now, box=box)
            db.executemany("UPDATE tasks SET overtaken = overtaken + 1 WHERE task_id=? AND status='queued'",
                           [(t,) for t in overtaken])
            db.executemany("UPDATE tasks SET due_since=? WHERE task_id=? AND status='queued' AND due_since IS NULL",
                           [(now, t) for t in due])
            db.execute("INSERT INTO served (owner, at) VALUES (?, ?) ON CONFLICT(owner) DO UPDATE SET at=excluded.at",
                       (task.owner, now))
            self._log(db, task.owner, task_id, STARTED, {"task_id": task_id, "status": "running"}, now)
            self._changed(remove=[task_id], refresh=list(overtaken) + list(due))
            return task

    def reorder(self, task_id, sort_order=None, priority=None):
        with self._transaction() as db:
            row = db.execute("SELECT status FROM tasks WHERE task_id=?", (task_id,)).fetchone()
            if row is None:
                raise KeyError(task_id)
            if row["status"] != TaskStatus.QUEUED.value:
                raise InvalidTransition(f"task {task_id} is {row['status']}, not queued")
            for column, value in (("sort_order", sort_order), ("priority", priority)):
                if value is not None:
                    db.execute(f"UPDATE tasks SET {column}=? WHERE task_id=?", (value, task_id))
            self._changed(refresh=[task_id])
            return _from_row(db.execute("SELECT * FROM tasks WHERE task_id=?", (task_id,)).fetchone())

    def get_state(self, name):
        with self._lock:
            row = self._db.execute("SELECT value FROM state WHERE name=?", (name,)).fetchone()
        return json.loads(row[0]) if row else None

    def set_state(self, name, value):
        with self._transaction() as db:
            db.execute("INSERT INTO state (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value=excluded.value",
                       (name, json.dumps(value)))

    def _sync(self) -> None:
        """Reload the light records if another connection changed the database."""
        data_version = self._db.execute("PRAGMA data_version").fetchone()[0]
        if self._queued is None or data_version != self._data_version:
            rows = self._db.execute(
                f"SELECT {','.join(_LIGHT)} FROM tasks WHERE status=? ORDER BY seq", (TaskStatus.QUEUED.value,)
            ).fetchall()
            self._queued = {r["task_id"]: Queued(**{c: r[c] for c in _LIGHT}) for r in rows}
            self._data_version = data_version
            self._version += 1

    def _changed(self, add=(), remove=(), refresh=()) -> None:
        """After our own write, inside its transaction: keep the light records current.
        The version moves only when the queued tasks do (a running task's end does not)."""
        if self._queued is None:
            self._version += 1
            return
        removed = [self._queued.pop(task_id) for task_id in remove if task_id in self._queued]
        if add or removed or refresh:
            self._version += 1
        for light in add:
            self._queued[light.task_id] = light
        for task_id in refresh:
            if task_id in self._queued:
                row = self._db.execute(f"SELECT {','.join(_LIGHT)} FROM tasks WHERE task_id=?", (task_id,)).fetchone()
                self._queued[task_id] = Queued(**{c: row[c] for c in _LIGHT})

    def _transition(self, task_id: str, new: TaskStatus, **changes) -> Task:
        with self._transaction() as db:
            task = self._transition_in(db, task_id, new, **changes)
            self._changed(remove=[task_id])
            return task

    def _transition_in(self, db, task_id: str, new: TaskStatus, **changes) -> Task:
        row = db.execute("SELECT * FROM tasks WHERE task_id=?", (task_id,)).fetchone()
        if row is None:
            raise KeyError(task_id)
        check_transition(TaskStatus(row["status"]), new)
        values = _to_row_values({"status": new, **changes})
        sets = ",".join(f"{name}=?" for name in values)
        db.execute(f"UPDATE tasks SET {sets} WHERE task_id=?", list(values.values()) + [task_id])
        if new.is_final:
            self._ended(db, task_id, row["owner"], new.value, row["callback_url"], changes.get("finished_at") or 0.0)
        return _from_row(db.execute("SELECT * FROM tasks WHERE task_id=?", (task_id,)).fetchone())


def _to_row_values(values: dict) -> dict:
    out = {}
    for name, value in values.items():
        if name not in _COLUMNS:
            raise TypeError(f"unknown task field {name}")
        if name in _JSON_COLUMNS:
            value = json.dumps(value)
        elif isinstance(value, (TaskStatus, TaskType)):
            value = value.value
        out[name] = value
    return out


def _to_row(task: Task) -> dict:
    return _to_row_values({c: getattr(task, c) for c in _COLUMNS})


def _light(task: Task) -> Queued:
    return Queued(**{c: getattr(task, c) for c in _LIGHT})


def _from_row(row: sqlite3.Row) -> Task:
    values = {c: row[c] for c in _COLUMNS}
    for name in _JSON_COLUMNS:
        values[name] = json.loads(values[name])
    values["status"] = TaskStatus(values["status"])
    values["type"] = TaskType(values["type"])
    return Task(**values)
