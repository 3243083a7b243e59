"""Users and their keys in the SQLite store (tables of migration 2): the part of the
store contract that is about people, kept apart from the tasks."""

from __future__ import annotations

import json
import sqlite3

from ...records.tasks import TaskStatus
from ...records.users import KeyInfo, Role, User, UserExists


class SQLiteUsers:
    """Mixed into SQLiteStore: uses its `_lock`, `_db`, `_transaction`, `_changed` and `_ended`."""

    def add_user(self, user):
        with self._transaction() as db:
            try:
                db.execute("INSERT INTO users (name, role, limits, created_at) VALUES (?, ?, ?, ?)",
                           (user.name, user.role.value, json.dumps(user.limits), user.created_at))
            except sqlite3.IntegrityError:
                raise UserExists(user.name) from None

    def get_user(self, name):
        with self._reader_lock:  # every request asks who its caller is: never behind a write
            row = self._reader.execute("SELECT * FROM users WHERE name=?", (name,)).fetchone()
        return _user(row) if row else None

    def users(self):
        with self._lock:
            return [_user(r) for r in self._db.execute("SELECT * FROM users ORDER BY name").fetchall()]

    def count_users(self, role=None):
        with self._reader_lock:
            if role is None:
                return self._reader.execute("SELECT COUNT(*) FROM users").fetchone()[0]
            return self._reader.execute("SELECT COUNT(*) FROM users WHERE role=?", (role.value,)).fetchone()[0]

    def update_user(self, name, role=None, limits=None):
        with self._transaction() as db:
            row = db.execute("SELECT * FROM users WHERE name=?", (name,)).fetchone()
            if row is None:
                raise KeyError(name)
            user = _user(row)
            merged = {k: v for k, v in {**user.limits, **(limits or {})}.items() if v is not None}
            db.execute("UPDATE users SET role=?, limits=? WHERE name=?",
                       ((role or user.role).value, json.dumps(merged), name))
            return _user(db.execute("SELECT * FROM users WHERE name=?", (name,)).fetchone())

    def delete_user(self, name, now):
        with self._transaction() as db:
            if db.execute("DELETE FROM users WHERE name=?", (name,)).rowcount == 0:
                raise KeyError(name)
            rows = db.execute("SELECT task_id, callback_url FROM tasks WHERE owner=? AND status=?",
                              (name, TaskStatus.QUEUED.value)).fetchall()
            ids = [r[0] for r in rows]
            db.execute("UPDATE tasks SET status=?, finished_at=? WHERE owner=? AND status=?",
                       (TaskStatus.CANCELLED.value, now, name, TaskStatus.QUEUED.value))
            for task_id, callback_url in rows:
                self._ended(db, task_id, name, TaskStatus.CANCELLED.value, callback_url, now)
            self._changed(remove=ids)
        return ids

    def add_key(self, name, key_digest, prefix, now):
        with self._transaction() as db:
            if db.execute("SELECT 1 FROM users WHERE name=?", (name,)).fetchone() is None:
                raise KeyError(name)
            db.execute("INSERT INTO keys (digest, user, prefix, created_at) VALUES (?, ?, ?, ?)",
                       (key_digest, name, prefix, now))

    def user_for_key(self, key_digest):
        with self._reader_lock:
            row = self._reader.execute(
                "SELECT users.* FROM keys JOIN users ON users.name = keys.user WHERE keys.digest=?", (key_digest,)
            ).fetchone()
        return _user(row) if row else None

    def keys(self, name):
        with self._lock:
            rows = self._db.execute("SELECT prefix, created_at FROM keys WHERE user=? ORDER BY created_at", (name,))
            return [KeyInfo(r["prefix"], r["created_at"]) for r in rows.fetchall()]

    def delete_key(self, name, prefix):
        with self._transaction() as db:
            if db.execute("DELETE FROM keys WHERE user=? AND prefix=?", (name, prefix)).rowcount == 0:
                raise KeyError(prefix)


def _user(row: sqlite3.Row) -> User:
    return User(name=row["name"], role=Role(row["role"]), limits=json.loads(row["limits"]), created_at=row["created_at"])
