"""Where a benchmark runs: the webui at TASK_QUEUE_WEBUI_URL (as the admin whose key is in
TASK_QUEUE_ADMIN_KEY, when its queue has users), else a stand-in started for it."""

import contextlib
import datetime
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.store_choice import bench_store  # noqa: E402
from contract.client import QueueClient, StandIn  # noqa: E402


@contextlib.contextmanager
def target(name, **standin):
    """-> (client, real): `standin` are the stand-in's arguments (step_seconds, ...);
    the stand-in keeps its queue in the store chosen (store_choice.py)."""
    url = os.environ.get("TASK_QUEUE_WEBUI_URL")
    if url:
        yield QueueClient(url.rstrip("/"), real=True, key=os.environ.get("TASK_QUEUE_ADMIN_KEY")), True
        return
    with bench_store():
        server = StandIn(tempfile.mkdtemp(prefix=f"bench-{name}-"), admin_key=f"tq_bench-{name}-admin-key-000",
                         **standin).start()
        try:
            yield server.client(), False
        finally:
            server.stop()


def seconds(iso):
    return datetime.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def pct(values, p):
    """The `p`th percentile of `values` (None when there are none)."""
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else None


def queue_block(client, payloads):
    """Submit `payloads`, wait for them all: (seconds from the first submit to the last
    server-side finish, the tasks in the order they ran). Polled slowly, as a person's
    page would: the end is the server's finished_at, so the poll rate does not blur it,
    and fast polling would steal webui's CPU."""
    start = time.time()
    ids = [client.submit(payload) for payload in payloads]
    client.wait(ids[-1], every=0.5)
    tasks = [client.wait(task_id) for task_id in ids]
    assert all(t["status"] == "done" for t in tasks), tasks
    end = max(seconds(t["finished_at"]) for t in tasks)
    return end - start, sorted(tasks, key=lambda t: seconds(t["process_started_at"]))
