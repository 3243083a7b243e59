"""Where a benchmark runs: the webui at TASK_QUEUE_WEBUI_URL (as the admin whose key is in
TASK_QUEUE_ADMIN_KEY, when its queue has users), else a stand-in started for it."""

import contextlib
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from contract.client import QueueClient, StandIn  # noqa: E402


@contextlib.contextmanager
def target(name, **standin):
    """-> (client, real): `standin` are the stand-in's arguments (step_seconds, ...)."""
    url = os.environ.get("TASK_QUEUE_WEBUI_URL")
    if url:
        yield QueueClient(url.rstrip("/"), real=True, key=os.environ.get("TASK_QUEUE_ADMIN_KEY")), True
        return
    server = StandIn(tempfile.mkdtemp(prefix=f"bench-{name}-"), admin_key=f"tq_bench-{name}-admin-key-000", **standin).start()
    try:
        yield server.client(), False
    finally:
        server.stop()
