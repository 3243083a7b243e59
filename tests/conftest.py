"""Test setup: the package from extension/, and the stand-in webui from tests/standin.

The stand-in's fake `modules` package is importable in every test; nothing in the
package proper may import it except the boundary (test_boundary.py checks that)."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for path in (os.path.join(ROOT, "extension"), os.path.join(HERE, "standin")):
    if path not in sys.path:
        sys.path.insert(0, path)

from redis_server import redis_server  # noqa: E402,F401  (a real redis-server, for the Redis store's tests)
