"""The store's own operations on SQLite and on Redis, side by side in one run, with
QUEUED tasks waiting (10,000 by default: `python tests/bench/stores.py [QUEUED]`).

Both stores get the same tasks (USERS users, two checkpoints). Then, rounds of ABAB
(SQLite, Redis, SQLite, Redis) over the same operations:
  add            one submit (the quota checked in the same step)
  get            one task read back (every status poll)
  light_warm     queued_light() with nothing changed since the last read (every poll)
  light_changed  queued_light() after another process queued a task: SQLite reloads
                 every queued row; Redis catches up from its change log
  light_cold     queued_light() of a store just opened (a box's first read)
  start_finish   a claim (queued -> running, with the scheduler's bookkeeping) and
                 its final state (with its event)
The Redis server is a redis-server started here on loopback, without persistence.
The last line printed is a JSON object: each operation's median in ms per store, and
redis_vs_sqlite: Redis's median over SQLite's (below 1: Redis is faster)."""

import json
import os
import statistics
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(os.path.dirname(HERE)), os.path.join(os.path.dirname(os.path.dirname(HERE)), "extension")]

from redis_server import RedisServer  # noqa: E402
from webui_taskqueue.store.redis.store import RedisStore  # noqa: E402
from webui_taskqueue.store.sqlite.store import SQLiteStore  # noqa: E402
from webui_taskqueue.records.tasks import Task, TaskStatus, TaskType  # noqa: E402

USERS = 20
ROUNDS = 4
SAMPLES = 50  # of each operation per round


def task(i):
    now = time.time()
    return Task(task_id=uuid.uuid4().hex, type=TaskType.TXT2IMG, owner=f"user{i % USERS}",
                checkpoint=("modelA", "modelB")[i % 2], params={"prompt": f"task {i}", "steps": 2, "width": 64, "height": 64},
                created_at=now, sort_order=now, size="64x64")


def timed(fn):
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


def one_round(name, store, other, reopen, samples):
    """`other`: a second store object on the same queue (another process, another box)."""
    ids = [t.task_id for t in store.queued_light()[:samples]]
    out = {
        "add": [timed(lambda: store.add(task(0), max_queued=10**9)) for _ in range(samples)],
        "get": [timed(lambda i=i: store.get(i)) for i in ids],
        "light_warm": [timed(store.queued_light) for _ in range(samples)],
    }
    changed = []
    for _ in range(samples):
        other.add(task(1))
        changed.append(timed(store.queued_light))
    out["light_changed"] = changed
    cold = []
    for _ in range(3):
        fresh = reopen()
        cold.append(timed(fresh.queued_light))
        fresh.close()
    out["light_cold"] = cold
    out["start_finish"] = [timed(lambda i=i: (store.start(i, time.time(), box="bench"),
                                             store.finish(i, TaskStatus.DONE, time.time()))) for i in ids]
    return out


def main():
    queued = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    folder = tempfile.mkdtemp(prefix="bench-stores-")
    server = RedisServer(os.path.join(folder, "redis")).start()
    path = os.path.join(folder, "tasks.sqlite3")
    prefix = "bench:"
    stores = {
        "sqlite": (SQLiteStore(path), SQLiteStore(path), lambda: SQLiteStore(path)),
        "redis": (RedisStore(server.url, prefix), RedisStore(server.url, prefix), lambda: RedisStore(server.url, prefix)),
    }
    try:
        for store, _, _ in stores.values():
            for i in range(queued):
                store.add(task(i))
            store.queued_light()
        samples = {name: {} for name in stores}
        for _ in range(ROUNDS):
            for name, (store, other, reopen) in stores.items():
                for op, times in one_round(name, store, other, reopen, SAMPLES).items():
                    samples[name].setdefault(op, []).extend(times)
        result = {"queued": queued}
        for name in stores:
            result[name] = {op: round(statistics.median(t) * 1000, 3) for op, t in samples[name].items()}
        result["redis_vs_sqlite"] = {op: round(statistics.median(samples["redis"][op]) / statistics.median(samples["sqlite"][op]), 4)
                                     for op in samples["sqlite"]}
        for name in stores:
            result[name]["queued_at_end"] = len(stores[name][0].queued_light())
    finally:
        for store, other, _ in stores.values():
            store.close()
            other.close()
        server.stop()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
