"""The durable store: one SQLite file, WAL, numbered migrations in PRAGMA user_version.

The columns we query (status, owner, checkpoint, priority, times) are columns; the
request itself is JSON. One connection guarded by one lock: the queue writes a few
rows a second at most, and this keeps every transition a single locked transaction."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from typing import Iterator, List, Optional

from .store import Store
from .tasks import Task, TaskStatus, TaskType, check_transition

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
]

_COLUMNS = (
    "task_id type status owner checkpoint vae priority params created_at started_at "
    "finished_at process_started_at process_finished_at error images infotexts"
).split()
_JSON_COLUMNS = {"params", "images", "infotexts"}


class SQLiteStore(Store):
    def __init__(self, path: str) -> None:
        if os.path.dirname(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._migrate()

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
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add(self, task: Task) -> None:
        row = _to_row(task)
        marks = ",".join("?" for _ in _COLUMNS)
        with self._transaction() as db:
            db.execute(f"INSERT INTO tasks ({','.join(_COLUMNS)}) VALUES ({marks})", [row[c] for c in _COLUMNS])

    def get(self, task_id: str) -> Optional[Task]:
        with self._lock:
            row = self._db.execute("SELECT * FROM tasks WHERE task_id=?", (task_id,)).fetchone()
        return _from_row(row) if row else None

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

    def _transition(self, task_id: str, new: TaskStatus, **changes) -> Task:
        with self._transaction() as db:
            row = db.execute("SELECT * FROM tasks WHERE task_id=?", (task_id,)).fetchone()
            if row is None:
                raise KeyError(task_id)
            check_transition(TaskStatus(row["status"]), new)
            values = _to_row_values({"status": new, **changes})
            sets = ",".join(f"{name}=?" for name in values)
            db.execute(f"UPDATE tasks SET {sets} WHERE task_id=?", list(values.values()) + [task_id])
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


def _from_row(row: sqlite3.Row) -> Task:
    values = {c: row[c] for c in _COLUMNS}
    for name in _JSON_COLUMNS:
        values[name] = json.loads(values[name])
    values["status"] = TaskStatus(values["status"])
    values["type"] = TaskType(values["type"])
    return Task(**values)
