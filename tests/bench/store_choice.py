"""Which store a benchmark's stand-in keeps its queue in: SQLite (the default), or with
TASK_QUEUE_BENCH_STORE=redis a Redis queue on a redis-server started here on loopback
(no persistence, as tests/redis_server.py starts one). Run a benchmark once each way
to compare the two stores; the JSON line names the store it measured."""

import contextlib
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from contract.client import REDIS_URL_ENV  # noqa: E402
from redis_server import queue_for_standins  # noqa: E402

STORE_ENV = "TASK_QUEUE_BENCH_STORE"


def chosen():
    kind = os.environ.get(STORE_ENV) or "sqlite"
    if kind not in ("sqlite", "redis"):
        raise SystemExit(f"{STORE_ENV}={kind!r}: sqlite or redis")
    return kind


@contextlib.contextmanager
def bench_store():
    """-> "sqlite" or "redis"; inside, stand-ins started (StandIn) use that store."""
    kind = chosen()
    if kind == "sqlite":
        yield kind
        return
    with queue_for_standins(tempfile.mkdtemp(prefix="bench-redis-"), REDIS_URL_ENV):
        yield kind
