"""A flood of polls against the worker's speed, and the poll latency at a page's pace,
side by side in one run.

The stand-in webui runs as its own process with users on (one checkpoint, steps of
50 ms). 50 people have 20 tasks each queued (their limit): 1,000 queued, topped up
between windows. Windows of WINDOW s, each kind against idle windows around it (ABBA):
  idle    nobody sends a request
  flood   each person polls their own last queued task as fast as their connection
          allows, on one connection each, ignoring Retry-After (a careless script, or a
          hostile one)
  1 Hz    each person polls it once a second (an open page's pace), with If-None-Match
          as a browser sends it
Tasks finished per window are counted from the server's own finished_at.
The stand-in's queue is on SQLite, or on Redis with TASK_QUEUE_BENCH_STORE=redis.
FLOOD_READS_PER_SECOND sets each person's read rate (task_queue_user_reads_per_second;
0: none, to see what the limit is for), else the default applies.
The last line printed is a JSON object: throughput_flood_vs_idle,
throughput_1hz_vs_idle, poll_1hz_p99_ms, and the raw figures (the flood's answers by
status code, its requests per second)."""

import asyncio
import json
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import httpx  # noqa: E402

from bench.store_choice import bench_store, chosen  # noqa: E402
from bench.target import pct, seconds  # noqa: E402
from contract.client import StandIn  # noqa: E402

ADMIN_KEY = "tq_bench-flood-admin-key-0000"
PEOPLE, EACH = 50, 20
WINDOW = float(os.environ.get("FLOOD_WINDOW_S", 10))
PAIRS = int(os.environ.get("FLOOD_PAIRS", 2))  # ABBA blocks per kind
Q = "/queue/v1"
TASK = {"steps": 4, "width": 64, "height": 64, "checkpoint": "modelA"}


class Person:
    """Polls their own last queued task while `mode` says so ("flood" or "1hz"): a
    coroutine on the pollers' event loop, with a connection of its own (threads would
    time each other's waits for the GIL, not the server)."""

    def __init__(self, n, url, key, mode, tally):
        self.n, self.url, self.key, self.mode, self.tally = n, url, key, mode, tally
        self.http = httpx.Client(base_url=url, timeout=60, headers={"Authorization": f"Bearer {key}"})
        self.task_id, self.etag = None, None

    def top_up(self):
        """Back to EACH queued tasks; the last one is the one polled."""
        queued = self.http.get(f"{Q}/tasks", params={"status": "queued", "limit": 1}).json()["count"]
        for i in range(EACH - queued):
            r = self.http.post(f"{Q}/txt2img", json={"prompt": f"person {self.n} {time.time()}", "seed": i, **TASK})
            assert r.status_code == 202, r.text[:300]
            self.task_id, self.etag = r.json()["task_id"], None

    async def poll(self, stopping):
        async with httpx.AsyncClient(base_url=self.url, timeout=60, headers={"Authorization": f"Bearer {self.key}"}) as http:
            while not stopping.is_set():
                mode = self.mode[0]
                if mode is None or self.task_id is None:
                    await asyncio.sleep(0.05)
                    continue
                if mode == "1hz":  # at its own moment of every second, as pages opened at random times
                    await asyncio.sleep((self.n / PEOPLE - time.time()) % 1.0)
                started = time.perf_counter()
                headers = {"If-None-Match": self.etag} if mode == "1hz" and self.etag else {}
                try:
                    r = await http.get(f"{Q}/tasks/{self.task_id}", headers=headers)
                except httpx.HTTPError:
                    self.tally.count(mode, "network error", 0.0)
                    continue
                took = time.perf_counter() - started
                if r.status_code == 200:
                    self.etag = r.headers.get("etag")
                self.tally.count(mode, r.status_code, took)
                if mode == "1hz":
                    await asyncio.sleep(0.01)  # past this second's moment


def pollers(people, stopping):
    """The people's polls, on an event loop of their own thread."""
    async def all_of_them():
        await asyncio.gather(*(person.poll(stopping) for person in people))

    thread = threading.Thread(target=lambda: asyncio.run(all_of_them()), daemon=True, name="pollers")
    thread.start()
    return thread


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.answers = {"flood": {}, "1hz": {}}
        self.took = {"flood": [], "1hz": []}

    def count(self, mode, code, took):
        with self.lock:
            self.answers[mode][code] = self.answers[mode].get(code, 0) + 1
            self.took[mode].append(took)


def finished_in(admin, windows):
    """Per kind of window: tasks finished per second, and figures of a task's generation
    and of the gap after it (its job's end to the next one's start)."""
    since = min(start for _, start, _ in windows)
    tasks, offset = [], 0
    while True:
        page = admin.get(f"{Q}/tasks", params={"all": "true", "status": "done", "limit": 500, "offset": offset}).json()["data"]
        tasks += [t for t in page if t.get("finished_at")]
        if len(page) < 500 or min(seconds(t["finished_at"]) for t in page) < since:
            break
        offset += 500
    finished = [seconds(t["finished_at"]) for t in tasks]
    done, spent, runs, gaps = {}, {}, {}, {}
    for kind, start, end in windows:
        done[kind] = done.get(kind, 0) + sum(start <= f < end for f in finished)
        spent[kind] = spent.get(kind, 0.0) + end - start
    ordered = sorted(tasks, key=lambda t: seconds(t["process_started_at"]))
    for a, b in zip(ordered, ordered[1:]):
        ended = seconds(a["process_finished_at"])
        for kind, start, end in windows:
            if start <= ended < end:
                runs.setdefault(kind, []).append(ended - seconds(a["process_started_at"]))
                gaps.setdefault(kind, []).append(seconds(b["process_started_at"]) - ended)
    def figures(values):  # ms: median, 90th percentile, mean
        return [round(pct(values, 50) * 1000, 1), round(pct(values, 90) * 1000, 1), round(sum(values) / len(values) * 1000, 1)]

    return ({kind: done[kind] / spent[kind] for kind in done},
            {kind: figures(v) for kind, v in runs.items()}, {kind: figures(v) for kind, v in gaps.items()})


def main():
    folder = tempfile.mkdtemp(prefix="bench-flood-")
    server = StandIn(folder, step_seconds=0.05, checkpoints=("modelA",), admin_key=ADMIN_KEY).start()
    result = {"benchmark": "flood", "store": chosen(), "people": PEOPLE, "queued": PEOPLE * EACH, "window_s": WINDOW}
    mode, stopping, tally = [None], threading.Event(), Tally()
    polling = None
    try:
        admin = httpx.Client(base_url=server.url, timeout=120, headers={"Authorization": f"Bearer {ADMIN_KEY}"})
        rate = os.environ.get("FLOOD_READS_PER_SECOND")
        if rate is not None:
            assert admin.post("/sdapi/v1/options", json={"task_queue_user_reads_per_second": float(rate)}).status_code == 200
        result["reads_per_second"] = admin.get("/sdapi/v1/options").json().get("task_queue_user_reads_per_second")
        people = []
        for n in range(PEOPLE):
            r = admin.post(f"{Q}/users", json={"name": f"person{n}", "role": "user"})
            assert r.status_code == 201, r.text
            people.append(Person(n, server.url, r.json()["key"], mode, tally))
        assert admin.post(f"{Q}/queue/pause").status_code == 200
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(Person.top_up, people))
        assert admin.post(f"{Q}/queue/resume").status_code == 200
        polling = pollers(people, stopping)
        time.sleep(3)  # past the first model load and the first speeds learned
        windows = []
        for kind in ("flood", "1hz"):
            for w in range(4 * PAIRS):
                active = w % 4 in (1, 2)  # A B B A
                with ThreadPoolExecutor(8) as pool:
                    list(pool.map(Person.top_up, people))
                time.sleep(0.5)
                mode[0] = kind if active else None
                start = time.time()
                time.sleep(WINDOW)
                end = time.time()
                mode[0] = None
                windows.append((kind if active else "idle", start, end))
                time.sleep(1.5)  # requests in flight end outside the window
                print(f"  {kind} window {w}: {'on' if active else 'idle'}", flush=True)
        rates, runs, gaps = finished_in(admin, windows)
        flood_s = sum(end - start for kind, start, end in windows if kind == "flood")
        result.update({
            "throughput_flood_vs_idle": round(rates["flood"] / rates["idle"], 3),
            "throughput_1hz_vs_idle": round(rates["1hz"] / rates["idle"], 3),
            "poll_1hz_p99_ms": round(pct(tally.took["1hz"], 99) * 1000, 1),
            "poll_1hz_p50_ms": round(pct(tally.took["1hz"], 50) * 1000, 1),
            "tasks_per_s": {kind: round(rate, 2) for kind, rate in rates.items()},
            "generate_ms_p50_p90_mean": runs, "gap_ms_p50_p90_mean": gaps,
            "flood_requests_per_s": round(sum(tally.answers["flood"].values()) / flood_s, 1),
            "flood_answers": {str(k): v for k, v in sorted(tally.answers["flood"].items(), key=str)},
            "1hz_answers": {str(k): v for k, v in sorted(tally.answers["1hz"].items(), key=str)},
        })
    finally:
        stopping.set()
        if polling is not None:
            polling.join(10)
        server.stop()
    result["goals_met"] = {
        "throughput_flood_vs_idle>=0.9": result.get("throughput_flood_vs_idle", 0) >= 0.9,
        "poll_1hz_p99_ms<=20": result.get("poll_1hz_p99_ms", 1e9) <= 20,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    with bench_store():
        main()
