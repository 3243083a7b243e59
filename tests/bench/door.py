"""What the door and the guard on webui's own API cost, measured side by side in one run.

- The door: 20 native /sdapi/v1/txt2img calls with the door closed (webui runs them)
  against the same 20 with it open (each a queued task, answered in webui's shape),
  interleaved in blocks of 5, which side goes first alternating.
- The guard: 200 GET /sdapi/v1/progress with the guard off against 200 with it on,
  interleaved the same way, while nothing runs (every call then goes through the guard's
  route to webui's own).

The stand-in webui by default; a real webui with TASK_QUEUE_WEBUI_URL (and, as the admin
of its queue, TASK_QUEUE_ADMIN_KEY; with webui's --api-auth, TASK_QUEUE_API_AUTH=name:pw).
The last line printed is a JSON object with door_vs_native_ratio, door_added_ms_median
(per call) and progress_guarded_vs_plain_ratio."""

import base64
import json
import os
import statistics
import sys
import time

import httpx

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from bench.target import target  # noqa: E402

CALLS, POLLS, BLOCK = 20, 200, 5


def native_client(client):
    """webui's own routes as the queue's admin (webui's --api-auth credentials too, if set)."""
    auth = os.environ.get("TASK_QUEUE_API_AUTH")
    headers = {}
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
        headers["X-API-Key"] = client.key
    elif client.key:
        headers["Authorization"] = f"Bearer {client.key}"
    return httpx.Client(base_url=client.url, headers=headers, timeout=600)


def timed(http, method, path, **kw):
    start = time.perf_counter()
    r = http.request(method, path, **kw)
    assert r.status_code == 200, r.text
    return time.perf_counter() - start


def side_by_side(http, setting, calls, block, one):
    """(seconds with `setting` off, seconds with it on, per-call pairs)."""
    off, on, pairs = 0.0, 0.0, []
    for b in range(calls // block):
        times = {}
        for value in ((False, True) if b % 2 == 0 else (True, False)):
            assert http.post("/sdapi/v1/options", json={setting: value}).status_code == 200
            times[value] = [one(b * block + i) for i in range(block)]
        off, on = off + sum(times[False]), on + sum(times[True])
        pairs += list(zip(times[False], times[True]))
    return off, on, pairs


def main():
    with target("door", step_seconds=0.05) as (client, real):
        http = native_client(client)
        payload = {"prompt": "a house", "steps": 2 if real else 4, "width": 64, "height": 64}
        http.post("/sdapi/v1/txt2img", json=payload)  # warm up (model load, first hash)
        try:
            native_s, door_s, pairs = side_by_side(
                http, "task_queue_native_door", CALLS, BLOCK,
                lambda i: timed(http, "POST", "/sdapi/v1/txt2img", json=dict(payload, seed=i)))
            plain_s, guarded_s, _ = side_by_side(
                http, "task_queue_native_guard", POLLS, POLLS // 4,
                lambda i: timed(http, "GET", "/sdapi/v1/progress"))
        finally:
            http.post("/sdapi/v1/options", json={"task_queue_native_door": False, "task_queue_native_guard": True})
    result = {
        "benchmark": "door",
        "target": "webui" if real else "standin",
        "calls": CALLS,
        "native_seconds": round(native_s, 3),
        "door_seconds": round(door_s, 3),
        "door_vs_native_ratio": round(door_s / native_s, 4),
        "door_added_ms_median": round(statistics.median(d - n for n, d in pairs) * 1000, 1),
        "polls": POLLS,
        "progress_plain_ms_mean": round(plain_s / POLLS * 1000, 2),
        "progress_guarded_ms_mean": round(guarded_s / POLLS * 1000, 2),
        "progress_guarded_vs_plain_ratio": round(guarded_s / plain_s, 4),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
