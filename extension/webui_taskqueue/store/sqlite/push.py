"""The event log and the webhook outbox in the SQLite store (tables of migration 5).
Rows are written inside the transaction of the task change they tell of."""

from __future__ import annotations

import dataclasses
import json
import secrets
import sqlite3
from typing import Any, Dict, Optional

from ..push import EVENTS_KEPT, FINAL, Delivery, Event, PushStore, attempted

MIGRATION = """
    ALTER TABLE tasks ADD COLUMN callback_url TEXT;
    CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        owner TEXT NOT NULL,
        task_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        data TEXT NOT NULL,
        at REAL NOT NULL
    );
    CREATE INDEX events_owner ON events (owner, id);
    CREATE TABLE deliveries (
        task_id TEXT PRIMARY KEY REFERENCES tasks (task_id) ON DELETE CASCADE,
        owner TEXT NOT NULL,
        url TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_status INTEGER,
        last_error TEXT,
        next_try_at REAL,
        delivered_at REAL,
        gave_up_at REAL
    );
    CREATE INDEX deliveries_due ON deliveries (next_try_at)
"""

_DELIVERY = [f.name for f in dataclasses.fields(Delivery)]


class SQLitePush(PushStore):
    """Mixed into SQLiteStore: uses its `_lock`, `_db` and `_transaction`."""

    # called by SQLiteStore inside the transaction that changes the task
    def _log(self, db: sqlite3.Connection, owner: str, task_id: str, kind: str, data: Dict[str, Any], now: float) -> int:
        cursor = db.execute("INSERT INTO events (owner, task_id, kind, data, at) VALUES (?, ?, ?, ?, ?)",
                            (owner, task_id, kind, json.dumps(data), now))
        newest = cursor.lastrowid
        if newest % 100 == 0:  # the window, kept in bounds without a delete on every event
            db.execute("DELETE FROM events WHERE id <= ?", (newest - EVENTS_KEPT,))
        return newest

    def _ended(self, db: sqlite3.Connection, task_id: str, owner: str, status: str,
               callback_url: Optional[str], now: float) -> None:
        """A task reached its final state: log it, and make its webhook due."""
        self._log(db, owner, task_id, FINAL, {"task_id": task_id, "status": status}, now)
        if callback_url:
            db.execute("INSERT OR IGNORE INTO deliveries (task_id, owner, url, next_try_at) VALUES (?, ?, ?, ?)",
                       (task_id, owner, callback_url, now))

    def append_events(self, events, now):
        with self._transaction() as db:
            newest = 0
            for owner, task_id, kind, data in events:
                newest = self._log(db, owner, task_id, kind, data, now)
            return newest or self._newest(db)

    def events_after(self, after, owner=None, limit=500):
        with self._lock:
            if owner is None:
                rows = self._db.execute("SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?", (after, limit))
            else:
                rows = self._db.execute("SELECT * FROM events WHERE owner = ? AND id > ? ORDER BY id LIMIT ?",
                                        (owner, after, limit))
            return [Event(r["id"], r["owner"], r["task_id"], r["kind"], json.loads(r["data"]), r["at"])
                    for r in rows.fetchall()]

    def event_bounds(self):
        with self._lock:
            newest = self._newest(self._db)
            oldest = self._db.execute("SELECT MIN(id) FROM events").fetchone()[0]
        return (newest + 1 if oldest is None else oldest), newest

    @staticmethod
    def _newest(db) -> int:
        row = db.execute("SELECT seq FROM sqlite_sequence WHERE name='events'").fetchone()
        return row[0] if row else 0

    def delivery(self, task_id):
        with self._reader_lock:  # read by status polls on the event loop: never behind a write
            row = self._reader.execute("SELECT * FROM deliveries WHERE task_id=?", (task_id,)).fetchone()
        return _delivery(row) if row else None

    def claim_deliveries(self, now, lease, limit=20):
        with self._lock:
            held = len(self._leases)
            rows = self._db.execute("SELECT * FROM deliveries WHERE next_try_at <= ? ORDER BY next_try_at LIMIT ?",
                                    (now, limit + held)).fetchall()
            return self._leases.take([_delivery(r) for r in rows], now, lease, limit)

    def next_delivery_at(self):
        with self._lock:  # the soonest due, among as many more as there are claims
            rows = self._db.execute("SELECT * FROM deliveries WHERE next_try_at IS NOT NULL ORDER BY next_try_at "
                                    "LIMIT ?", (len(self._leases) + 1,)).fetchall()
            return min((self._leases.due_at(_delivery(r)) for r in rows), default=None)

    def record_attempt(self, task_id, now, status, error, delivered, next_try_at):
        with self._transaction() as db:
            row = db.execute("SELECT * FROM deliveries WHERE task_id=?", (task_id,)).fetchone()
            if row is None:
                raise KeyError(task_id)
            found = attempted(_delivery(row), now, status, error, delivered, next_try_at)
            db.execute("UPDATE deliveries SET attempts=?, last_status=?, last_error=?, next_try_at=?, delivered_at=?, "
                       "gave_up_at=? WHERE task_id=?", (found.attempts, found.last_status, found.last_error,
                                                        found.next_try_at, found.delivered_at, found.gave_up_at, task_id))
            self._leases.release(task_id)
            return found

    def rotate_webhook_secret(self, owner):
        value = secrets.token_hex(32)
        with self._transaction() as db:
            db.execute("INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value=excluded.value",
                       (f"webhook:{owner}", value))
        return value


def _delivery(row: sqlite3.Row) -> Delivery:
    return Delivery(**{name: row[name] for name in _DELIVERY})
