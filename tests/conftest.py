"""Test setup: the package from extension/, and the stand-in webui from tests/standin.

The stand-in's fake `modules` package is importable in every test; nothing in the
package proper may import it except the host boundary (test_layers.py checks that)."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for path in (os.path.join(ROOT, "extension"), os.path.join(HERE, "standin")):
    if path not in sys.path:
        sys.path.insert(0, path)

import pytest  # noqa: E402
from redis_server import boxes_of_one_queue, redis, redis_server, redis_store  # noqa: E402,F401  (a real redis-server, for the Redis store's tests)

from webui_taskqueue.store.sqlite.store import SQLiteStore  # noqa: E402
from webui_taskqueue.store.memory import MemoryStore  # noqa: E402


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store(request, tmp_path):
    """Each store behind the contract, empty: the tests that take it run over all three."""
    found = (MemoryStore() if request.param == "memory" else redis_store(request) if request.param == "redis"
             else SQLiteStore(str(tmp_path / "q" / "tasks.sqlite3")))
    yield found
    found.close()
