"""What the queue adds to webui's own time, measured side by side in one run.

20 small tasks through the queue against the same 20 sent one by one to webui's
native /sdapi/v1/txt2img, interleaved in blocks of 5 (native first, then queue first,
and so on) so that machine noise and drift hit both.
The stand-in webui by default; a real webui with TASK_QUEUE_WEBUI_URL. The last line
printed is a JSON object:
  queue_vs_native_ratio  end-to-end time of the queue blocks over the native blocks
  idle_gap_ms_median     while tasks wait: from one task's process_images returning to
                         the next task's process_images being called"""

import datetime
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from bench.target import target  # noqa: E402

TASKS, BLOCK = 20, 5


def seconds(iso):
    return datetime.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def native_block(client, payloads):
    start = time.time()
    for payload in payloads:
        r = client.post("/sdapi/v1/txt2img", json=payload)
        assert r.status_code == 200, r.text
    return time.time() - start


def queue_block(client, payloads):
    start = time.time()
    ids = [client.submit(payload) for payload in payloads]
    # Poll slowly, as a person's page would: the end is the server's finished_at, so the
    # poll rate does not blur the figure, and fast polling would steal webui's CPU.
    client.wait(ids[-1], every=0.5)
    tasks = [client.wait(task_id) for task_id in ids]
    assert all(t["status"] == "done" for t in tasks), tasks
    end = max(seconds(t["finished_at"]) for t in tasks)
    ordered = sorted(tasks, key=lambda t: seconds(t["process_started_at"]))
    gaps = [seconds(b["process_started_at"]) - seconds(a["process_finished_at"]) for a, b in zip(ordered, ordered[1:])]
    return end - start, gaps


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
                    elapsed, block_gaps = queue_block(client, payloads)
                    queue_total += elapsed
                    gaps += block_gaps
            print(f"block {block}: native {native_total:.3f}s queue {queue_total:.3f}s (running totals)", flush=True)
    result = {
        "benchmark": "overhead",
        "target": "webui" if real else "standin",
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
