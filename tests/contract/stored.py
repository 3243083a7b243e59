"""What a stand-in's queue holds, read as the server left it (stopped or killed), from
either store: its SQLite file opened read-only, or its Redis queue under its prefix. The
durability tests read through here, so that they hold on both stores."""

import json
import os
import sqlite3

from .client import REDIS_PREFIX_ENV, REDIS_URL_ENV


def on_redis(server):
    return REDIS_URL_ENV in server.env


def tasks(server):
    """task_id -> {status, started_at, finished_at, error, images, infotexts, params}."""
    if on_redis(server):
        from webui_taskqueue.store.redis.store import RedisStore

        store = RedisStore(server.env[REDIS_URL_ENV], server.env[REDIS_PREFIX_ENV])
        try:
            found, _ = store.list(limit=1_000_000)
        finally:
            store.close()
        return {t.task_id: {"status": t.status.value, "started_at": t.started_at, "finished_at": t.finished_at,
                            "error": t.error, "images": t.images, "infotexts": t.infotexts, "params": t.params}
                for t in found}
    db = sqlite3.connect(f"file:{os.path.join(server.data_dir, 'task-queue', 'tasks.sqlite3')}?mode=ro", uri=True)
    try:
        return {r[0]: {"status": r[1], "started_at": r[2], "finished_at": r[3], "error": r[4],
                       "images": json.loads(r[5]), "infotexts": json.loads(r[6]), "params": json.loads(r[7])}
                for r in db.execute("SELECT task_id, status, started_at, finished_at, error, images, "
                                    "infotexts, params FROM tasks")}
    finally:
        db.close()


def integrity(server):
    """SQLite's integrity check of the file; a Redis queue has no file of its own to check
    (each change is one script, whole or not at all): "ok" when its tasks read back."""
    if on_redis(server):
        tasks(server)
        return [("ok",)]
    db = sqlite3.connect(f"file:{os.path.join(server.data_dir, 'task-queue', 'tasks.sqlite3')}?mode=ro", uri=True)
    try:
        return db.execute("PRAGMA integrity_check").fetchall()
    finally:
        db.close()
