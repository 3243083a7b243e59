"""50 people at once: the worker's throughput while they submit and poll, against its
throughput while nobody does, measured side by side in one run.

The stand-in webui runs as its own process with users on (one checkpoint, so that no
model switch differs between windows). CLIENTS users each get a thread with its own
HTTP connection on loopback and act at a person's pace, one tick a second (spread over
the second): submit a task while they have fewer than 2 unfinished (at most TASKS in
all), otherwise poll the oldest one; fetch the thumbnail of each one done; every 5th
tick list their live tasks and read /health, as the page does.

Throughput: the admin keeps a backlog queued (topped up between windows), so the worker
never waits for work. Windows of WINDOW s alternate ABBA ABBA...: A nobody sends a
request, B the clients run. Tasks finished per window are counted from the server's own
finished_at. Twice: with a backlog of BACKLOG tasks, and with 1,000 queued.
Then every task a client got a 202 for must be in the admin's listing exactly once,
with its prompt, and have run once; no answer may be a 5xx.

The stand-in's queue is on SQLite, or on Redis with TASK_QUEUE_BENCH_STORE=redis.
The last line printed is a JSON object: throughput_vs_idle, submit_p99_ms, poll_p99_ms
(the client windows of both runs), lost, duplicated, errors_5xx, the same three figures
with the suffix _1000_queued for the second run, and the raw counts."""

import json
import os
import random
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

ADMIN_KEY = "tq_bench-load-admin-key-00000"
CLIENTS, TASKS, OUTSTANDING = 50, 40, 2
WINDOW = float(os.environ.get("LOAD_WINDOW_S", 15))
PAIRS = int(os.environ.get("LOAD_PAIRS", 2))  # ABBA blocks per run
BACKLOG = 120
Q = "/queue/v1"
FINAL = {"done", "failed", "interrupted", "cancelled"}
TASK = {"steps": 4, "width": 64, "height": 64, "checkpoint": "modelA"}


def ms(x):
    return None if x is None else round(x * 1000, 1)


class Tally:
    """What every client saw; one lock, appended to from all threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.submit, self.poll, self.other = [], [], []
        self.status, self.net_errors = {}, 0
        self.accepted = {}  # task_id -> (owner, prompt)

    def answer(self, kind, took, code):
        with self.lock:
            getattr(self, kind).append(took)
            self.status[code] = self.status.get(code, 0) + 1

    def errors_5xx(self):
        return sum(n for code, n in self.status.items() if code >= 500)


class Client(threading.Thread):
    def __init__(self, n, url, name, key, tally, running, stopping):
        super().__init__(daemon=True, name=f"client-{n}")
        self.n, self.name_, self.tally, self.running, self.stopping = n, name, tally, running, stopping
        self.http = httpx.Client(base_url=url, timeout=60, headers={"Authorization": f"Bearer {key}"})
        self.mine, self.submitted, self.rng = [], 0, random.Random(n)

    def request(self, kind, method, path, **kw):
        t0 = time.perf_counter()
        try:
            r = self.http.request(method, path, **kw)
        except httpx.HTTPError:
            with self.tally.lock:
                self.tally.net_errors += 1
            return None
        self.tally.answer(kind, time.perf_counter() - t0, r.status_code)
        return r

    def run(self):
        tick = 0
        time.sleep(self.n / CLIENTS)  # spread over the second
        while not self.stopping.is_set():
            if not self.running.is_set():
                self.running.wait(0.2)
                continue
            started = time.perf_counter()
            self.act(tick)
            tick += 1
            time.sleep(max(0.0, 1.0 - (time.perf_counter() - started)) * self.rng.uniform(0.9, 1.1))
        self.http.close()

    def act(self, tick):
        if len(self.mine) < OUTSTANDING and self.submitted < TASKS:
            prompt = f"{self.name_} task {self.submitted}"
            r = self.request("submit", "POST", f"{Q}/txt2img", json={"prompt": prompt, "seed": self.submitted, **TASK})
            if r is not None and r.status_code == 202:
                task_id = r.json()["task_id"]
                self.mine.append(task_id)
                self.submitted += 1
                with self.tally.lock:
                    self.tally.accepted[task_id] = (self.name_, prompt)
        elif self.mine:
            r = self.request("poll", "GET", f"{Q}/tasks/{self.mine[0]}")
            if r is not None and r.status_code == 200 and r.json()["status"] in FINAL:
                task = r.json()
                self.mine.pop(0)
                if task["thumbnails"]:
                    self.request("other", "GET", task["thumbnails"][0])
        if tick % 5 == 4:
            self.request("other", "GET", f"{Q}/tasks", params={"status": "queued,running", "limit": 100})
            self.request("other", "GET", f"{Q}/health")


def top_up(url, target):
    """The admin's backlog: queued tasks up to `target` (8 threads)."""
    with httpx.Client(base_url=url, timeout=120, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as http:
        queued = http.get(f"{Q}/health").json()["queued"]
    missing = max(0, target - queued)
    local = threading.local()

    def submit(i):
        if not hasattr(local, "http"):
            local.http = httpx.Client(base_url=url, timeout=120, headers={"Authorization": f"Bearer {ADMIN_KEY}"})
        r = local.http.post(f"{Q}/txt2img", json={"prompt": f"backlog {time.time()} {i}", "seed": i, **TASK})
        assert r.status_code == 202, r.text[:300]

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(submit, range(missing)))
    return missing


def all_tasks(http):
    out, offset = [], 0
    while True:
        r = http.get(f"{Q}/tasks", params={"all": "true", "limit": 500, "offset": offset})
        assert r.status_code == 200, r.text[:300]
        page = r.json()["data"]
        out += page
        if len(page) < 500:
            return out
        offset += 500


def measure(server, admin, tally, running, backlog):
    """One run of PAIRS ABBA blocks; -> figures of the run."""
    first_submit, first_poll = len(tally.submit), len(tally.poll)
    windows = []
    for w in range(4 * PAIRS):
        polled = w % 4 in (1, 2)  # A B B A
        top_up(server.url, backlog)
        time.sleep(0.5)
        if polled:
            running.set()
        start = time.time()
        time.sleep(WINDOW)
        end = time.time()
        running.clear()
        windows.append((polled, start, end))
        time.sleep(1.5)  # requests in flight finish outside the window
        print(f"  window {w}: {'clients' if polled else 'idle'}", flush=True)
    finished = [t for t in all_tasks(admin) if t.get("finished_at")]
    done = {True: 0, False: 0}
    spent = {True: 0.0, False: 0.0}
    for polled, start, end in windows:
        done[polled] += sum(start <= seconds(t["finished_at"]) < end for t in finished)
        spent[polled] += end - start
    idle, loaded = done[False] / spent[False], done[True] / spent[True]
    # where the worker's time went: inside process_images, and between one task and the next
    runs, gaps = {True: [], False: []}, {True: [], False: []}
    ordered = sorted((t for t in finished if t.get("process_started_at")), key=lambda t: seconds(t["process_started_at"]))
    for a, b in zip(ordered, ordered[1:]):
        ended = seconds(a["process_finished_at"])
        for polled, start, end in windows:
            if start <= ended < end:
                runs[polled].append(ended - seconds(a["process_started_at"]))
                gaps[polled].append(seconds(b["process_started_at"]) - ended)
    return {
        "throughput_vs_idle": round(loaded / idle, 3) if idle else None,
        "tasks_per_s_idle": round(idle, 2), "tasks_per_s_clients": round(loaded, 2),
        "finished_idle": done[False], "finished_clients": done[True],
        "submit_p99_ms": ms(pct(tally.submit[first_submit:], 99)), "poll_p99_ms": ms(pct(tally.poll[first_poll:], 99)),
        "poll_p50_ms": ms(pct(tally.poll[first_poll:], 50)),
        "generate_ms_median_idle": ms(pct(runs[False], 50)), "generate_ms_median_clients": ms(pct(runs[True], 50)),
        "gap_ms_median_idle": ms(pct(gaps[False], 50)), "gap_ms_median_clients": ms(pct(gaps[True], 50)),
        "gap_ms_p90_idle": ms(pct(gaps[False], 90)), "gap_ms_p90_clients": ms(pct(gaps[True], 90)),
        "requests": len(tally.submit) - first_submit + len(tally.poll) - first_poll,
    }


def account(admin, tally):
    """Every accepted task exactly once, with its owner and prompt, run once when done."""
    found = all_tasks(admin)
    by_id = {}
    for t in found:
        by_id.setdefault(t["task_id"], []).append(t)
    prompts = {}
    for t in found:
        prompt = (t.get("params") or {}).get("prompt")
        prompts[prompt] = prompts.get(prompt, 0) + 1
    lost = sum(1 for task_id, (owner, prompt) in tally.accepted.items()
               if len(by_id.get(task_id, [])) < 1 or by_id[task_id][0]["owner"] != owner
               or (by_id[task_id][0].get("params") or {}).get("prompt") != prompt)
    duplicated = sum(len(v) - 1 for v in by_id.values()) + sum(
        prompts.get(prompt, 0) - 1 for _, prompt in tally.accepted.values() if prompts.get(prompt, 0) > 1)
    unfinished = [t for t in tally.accepted if by_id.get(t) and by_id[t][0]["status"] not in FINAL]
    not_done = [t for t in tally.accepted if by_id.get(t) and by_id[t][0]["status"] != "done"]
    bad_runs = [t for t in tally.accepted if by_id.get(t) and by_id[t][0]["status"] == "done"
                and len(by_id[t][0]["images"]) != 1]
    return lost, duplicated, len(unfinished), len(not_done), len(bad_runs)


def main():
    folder = tempfile.mkdtemp(prefix="bench-load-")
    server = StandIn(folder, step_seconds=0.05, checkpoints=("modelA",), admin_key=ADMIN_KEY).start()
    result = {"benchmark": "load", "store": chosen(), "clients": CLIENTS, "window_s": WINDOW, "windows_per_run": 4 * PAIRS}
    tally, running, stopping = Tally(), threading.Event(), threading.Event()
    try:
        admin = server.client().http
        keys = []
        for n in range(CLIENTS):
            r = admin.post(f"{Q}/users", json={"name": f"person{n}", "role": "user"})
            assert r.status_code == 201, r.text
            keys.append((f"person{n}", r.json()["key"]))
        clients = [Client(n, server.url, name, key, tally, running, stopping) for n, (name, key) in enumerate(keys)]
        for c in clients:
            c.start()
        top_up(server.url, BACKLOG)
        time.sleep(3)  # past the first model load and the first speeds learned
        for label, backlog in (("", BACKLOG), ("_1000_queued", 1000)):
            print(f"run with {backlog} queued", flush=True)
            figures = measure(server, admin, tally, running, backlog)
            result.update({k + label: v for k, v in figures.items()})
            result["queued_at_start" + label] = backlog
        # the clients finish what they started (their turns come before the admin's backlog)
        stopping.set()
        for c in clients:
            c.join()
        deadline = time.time() + 300
        while time.time() < deadline:
            status = {t["task_id"]: t["status"] for t in all_tasks(admin)}
            if all(status.get(t) in FINAL for t in tally.accepted):
                break
            time.sleep(2)
        assert admin.post(f"{Q}/queue/pause").status_code == 200
        lost, duplicated, unfinished, not_done, bad_runs = account(admin, tally)
        result.update(accepted=len(tally.accepted), lost=lost, duplicated=duplicated, unfinished=unfinished,
                      not_done=not_done, done_without_one_image=bad_runs, errors_5xx=tally.errors_5xx(),
                      network_errors=tally.net_errors, answers={str(k): v for k, v in sorted(tally.status.items())})
    finally:
        stopping.set()
        server.stop()
    result["goals_met"] = {
        "throughput_vs_idle>=0.95": (result.get("throughput_vs_idle") or 0) >= 0.95,
        "throughput_vs_idle_1000_queued>=0.95": (result.get("throughput_vs_idle_1000_queued") or 0) >= 0.95,
        "0 lost, 0 duplicated, 0 5xx": (result.get("lost"), result.get("duplicated"), result.get("errors_5xx")) == (0, 0, 0),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    with bench_store():
        main()
