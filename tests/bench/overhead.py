"""What the queue adds to webui's own time, measured side by side in one run.

20 small tasks through the queue against the same 20 sent one by one to webui's
native /sdapi/v1/txt2img, interleaved in blocks of 5 (native first, then queue first,
and so on) so that machine noise and drift hit both.
The stand-in webui by default (its queue on SQLite, or on Redis with
TASK_QUEUE_BENCH_STORE=redis); a real webui with TASK_QUEUE_WEBUI_URL. The last line
printed is a JSON object:
  queue_vs_native_ratio  end-to-end time of the queue blocks over the native blocks
  idle_gap_ms_median     while tasks wait: from one task's process_images returning to
                         the next task's process_images being called"""

import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from bench.store_choice import chosen  # noqa: E402
from bench.target import queue_block, seconds, target  # noqa: E402

TASKS, BLOCK = 20, 5


def native_block(client, payloads):
    start = time.time()
    for payload in payloads:
        r = client.post("/sdapi/v1/txt2img", json=payload)
        assert r.status_code == 200, r.text
    return time.time() - start


def gaps_of(tasks):
    """Seconds between one task's end and the next one's start, in run order."""
    return [seconds(b["process_started_at"]) - seconds(a["process_finished_at"]) for a, b in zip(tasks, tasks[1:])]


def main():
    with target("overhead", step_seconds=0.05) as (client, real):
        payload = {"prompt": "a house", "steps": 2 if real else 4, "width": 64, "height": 64}
        # warm both paths up (model load, first hash) outside the measurement
        client.post("/sdapi/v1/txt2img", json=payload)
        client.wait(client.submit(payload))
        native_total, queue_total, gaps = 0.0, 0.0, []
        for block in range(TASKS // BLOCK):
            payloads = [dict(payload, seed=block * BLOCK + i) for i in range(BLOCK)]
            # ABBA: which side goes first alternates, so that drift hits both alike
            for side in (("native", "queue") if block % 2 == 0 else ("queue", "native")):
                if side == "native":
                    native_total += native_block(client, payloads)
                else:
                    elapsed, tasks = queue_block(client, payloads)
                    queue_total += elapsed
                    gaps += gaps_of(tasks)
            print(f"block {block}: native {native_total:.3f}s queue {queue_total:.3f}s (running totals)", flush=True)
    result = {
        "benchmark": "overhead",
        "target": "webui" if real else "standin",
        "store": None if real else chosen(),
        "tasks": TASKS,
        "native_seconds": round(native_total, 3),
        "queue_seconds": round(queue_total, 3),
        "queue_vs_native_ratio": round(queue_total / native_total, 4),
        "idle_gap_ms_median": round(statistics.median(gaps) * 1000, 2),
        "idle_gap_ms_max": round(max(gaps) * 1000, 2),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
