"""The queue with 10,000 tasks waiting: status polls, the worker's pick, and throughput
while many clients poll.

The stand-in webui runs as its own process (three small checkpoints, users on; steps of
50 ms, so the worker runs about 9 small tasks a second, as when the problem was first
measured: 9.3 a second without pollers, 0.4 with 50). The
queue is paused and QUEUED tasks are enqueued over HTTP by several threads, from
USERS users on random checkpoints: txt2img 64x64 with 2 steps, and IMG2IMG of them
img2img with a ~5 MB PNG of noise as init image (placed in the back half of the queue,
so that the throughput windows below run txt2img only). Then:
  poll latency   GET /queue/v1/tasks/{id} of queued tasks, sequential samples, queue
                 paused (the plan cached) and queue running (the plan changes after
                 every task), and the 50 pollers' own samples
  throughput     queue resumed; equal windows of WINDOW s, ABAB: nobody polling, then
                 POLLERS clients (coroutines in a process of their own) each polling a queued task once a
                 second; tasks finished per window from the server's own finished_at
  gap            from the outside: one task's process_finished_at to the next's
                 process_started_at, in those windows (the worker's whole turnaround:
                 record, plan, start)
  pick           in-process, after the server stopped, on a copy of its SQLite file
                 or on its Redis queue (TASK_QUEUE_BENCH_STORE=redis: the stand-in's
                 queue is on Redis) (~10,000 queued): Planner.next() (what the worker calls per task,
                 light records warm in memory as in the server, followed by the store's
                 start and Planner.started as in the worker; pick_ms_first: the first,
                 which sorts the queue as a pick after any submit does), and the store's start
The last line printed is a JSON object: queued, poll_p99_ms (the worst of the poll
figures), pick_ms (median Planner.next()), throughput_polled_vs_idle, and the rest raw."""

import base64
import concurrent.futures
import io
import json
import multiprocessing
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "extension"))

import httpx  # noqa: E402
from PIL import Image  # noqa: E402

from bench.store_choice import bench_store, chosen  # noqa: E402
from bench.target import pct, seconds  # noqa: E402
from contract.client import REDIS_PREFIX_ENV, REDIS_URL_ENV, StandIn  # noqa: E402

ADMIN_KEY = "tq_bench-admin-key-000000000"
QUEUED = int(os.environ.get("QUEUE_SCALE_TASKS", 10_000))  # fewer for a quick look
IMG2IMG, USERS = 20, 4
CHECKPOINTS = ("modelA", "modelB", "modelC")
POLLERS, WINDOW, WINDOWS = 50, 20.0, 4
Q = "/queue/v1"


def noise_png(megabytes=5.0) -> str:
    side = int((megabytes * 1024 * 1024 / 3) ** 0.5) + 1
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return base64.b64encode(out.getvalue()).decode()


def ms(x):
    return round(x * 1000, 2)


def enqueue(url, keys, image):
    """QUEUED tasks from the users in `keys`, several threads; returns [(id, kind)] in
    submission order (approximately: threads interleave)."""
    rng = random.Random(1)
    img2img_at = set(rng.sample(range(QUEUED // 2, QUEUED), IMG2IMG))
    jobs = []
    for i in range(QUEUED):
        key = keys[i % len(keys)]
        payload = {"prompt": f"task {i}", "steps": 2, "width": 64, "height": 64, "seed": i,
                   "checkpoint": rng.choice(CHECKPOINTS)}
        kind = "txt2img"
        if i in img2img_at:
            kind = "img2img"
            payload.update(init_images=[image], denoising_strength=0.5)
        jobs.append((i, key, kind, payload))
    local = threading.local()

    def submit(job):
        i, key, kind, payload = job
        if not hasattr(local, "http"):
            local.http = httpx.Client(base_url=url, timeout=300)
        r = local.http.post(f"{Q}/{kind}", json=payload, headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 202, r.text[:500]
        return i, r.json()["task_id"], kind, key

    done, started = [], time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        for n, result in enumerate(pool.map(submit, jobs), start=1):
            done.append(result)
            if n % 1000 == 0:
                print(f"enqueued {n} in {time.monotonic() - started:.1f}s", flush=True)
    return sorted(done), time.monotonic() - started


def poll_samples(http, ids, count):
    out = []
    for n in range(count):
        task_id = ids[n % len(ids)]
        t0 = time.perf_counter()
        r = http.get(f"{Q}/tasks/{task_id}")
        out.append(time.perf_counter() - t0)
        assert r.status_code == 200, r.text[:300]
    return out


class Pollers:
    """POLLERS clients, each polling one queued task once a second while on: coroutines
    in a process of their own, as clients on other machines would be (threads in this
    process would time their own wait for its GIL as the server's latency)."""

    def __init__(self, url, key, ids):
        self.url, self.key, self.ids = url, key, ids
        self.latencies, self.errors = [], 0
        self._process = self._stop = self._results = None

    def start(self):
        context = multiprocessing.get_context("spawn")
        self._stop, self._results = context.Event(), context.Queue()
        self._process = context.Process(target=_poll_process, daemon=True, args=(
            self.url, self.key, [self.ids[n % len(self.ids)] for n in range(POLLERS)], self._stop, self._results))
        self._process.start()

    def stop(self):
        self._stop.set()
        latencies, errors = self._results.get(timeout=60)
        self._process.join()
        self.latencies += latencies
        self.errors += errors


def _poll_process(url, key, ids, stop, results):
    import asyncio

    async def client(http, task_id, offset, out):
        await asyncio.sleep(offset)  # spread the clients over the second
        while not stop.is_set():
            t0 = time.perf_counter()
            try:
                ok = (await http.get(f"{Q}/tasks/{task_id}")).status_code == 200
            except httpx.HTTPError:
                ok = False
            took = time.perf_counter() - t0
            out[0 if ok else 1].append(took)
            await asyncio.sleep(max(0.0, 1.0 - took))

    async def main():
        out = ([], [])
        limits = httpx.Limits(max_connections=len(ids), max_keepalive_connections=len(ids))
        async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits,
                                     headers={"Authorization": f"Bearer {key}"}) as http:
            await asyncio.gather(*(client(http, task_id, n / len(ids), out) for n, task_id in enumerate(ids)))
        results.put((out[0], len(out[1])))

    asyncio.run(main())


def finished_tasks(http, since):
    """Every task finished after `since` (server time), from the admin's list."""
    out, offset = [], 0
    while True:
        r = http.get(f"{Q}/tasks", params={"status": "done,failed", "all": "true", "limit": 500, "offset": offset})
        assert r.status_code == 200, r.text[:300]
        page = r.json()["data"]
        out += [t for t in page if t.get("finished_at") and seconds(t["finished_at"]) >= since]
        if len(page) < 500 or (page and seconds(page[-1]["created_at"]) < since - 3600):
            break
        offset += 500
    return out


def time_pick(store):
    """Planner.next() and store.start on the server's queue, the server stopped."""
    from webui_taskqueue.scheduling.planner import Planner
    from webui_taskqueue.scheduling.policy import Policy

    class Host:
        def loaded_checkpoint(self):
            return self.loaded

    host = Host()
    planner = Planner(store, host, Policy)
    queued = len(store.queued_light())  # warms the light records, as the server's are
    assert queued > 60, "the queue ran dry: give QUEUE_SCALE_TASKS more tasks"
    host.loaded = store.queued_light()[0].checkpoint
    nexts, starts, now = [], [], time.time()
    for n in range(60):
        t0 = time.perf_counter()
        plan = planner.next()
        nexts.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        task = store.start(plan.order[0].task_id, now + n, plan.overtaken, plan.due)
        starts.append(time.perf_counter() - t0)
        planner.started(task)  # as the worker: the planner takes the started task out of its listing
        planner.ended(task)
        host.loaded = task.checkpoint
    t0 = time.perf_counter()
    planner.current()
    current = time.perf_counter() - t0
    store.close()
    return queued, nexts, starts, current


def main():
    folder = tempfile.mkdtemp(prefix="bench-scale-")
    server = StandIn(folder, step_seconds=0.05, checkpoints=CHECKPOINTS, admin_key=ADMIN_KEY).start()
    result = {"benchmark": "queue_scale", "store": chosen()}
    try:
        admin = server.client()
        assert admin.post(f"{Q}/queue/pause").status_code == 200
        keys = []
        for n in range(USERS):
            r = admin.post(f"{Q}/users", json={"name": f"user{n}", "role": "user",
                                              "limits": {"max_queued": 0, "max_per_hour": 0}})
            assert r.status_code == 201, r.text
            keys.append(r.json()["key"])
        image = noise_png()
        print(f"init image: {len(image) / 1e6:.1f} MB of base64", flush=True)
        submitted, enqueue_s = enqueue(server.url, keys, image)
        queued = admin.get(f"{Q}/health").json()["queued"]
        print(f"{queued} queued in {enqueue_s:.1f}s", flush=True)
        result.update(queued=queued, enqueue_s=round(enqueue_s, 1), enqueue_per_s=round(len(submitted) / enqueue_s, 1))

        http = admin.http
        txt = [task_id for _, task_id, kind, _ in submitted if kind == "txt2img"]
        img = [task_id for _, task_id, kind, _ in submitted if kind == "img2img"]
        back = txt[len(txt) // 2:]  # stay queued throughout
        rng = random.Random(2)
        poll_ids = rng.sample(back, 200) + txt[:5]
        poll_samples(http, poll_ids, 50)  # warm-up
        paused = poll_samples(http, poll_ids, 2000)
        paused_img = poll_samples(http, img, 200)
        print(f"poll paused p50 {ms(pct(paused, 50))} p99 {ms(pct(paused, 99))} ms; "
              f"img2img p99 {ms(pct(paused_img, 99))} ms", flush=True)

        # throughput: ABAB windows, A = nobody polling, B = POLLERS clients
        assert http.post(f"{Q}/queue/resume").status_code == 200
        time.sleep(3)  # past the first model load
        pollers = Pollers(server.url, ADMIN_KEY, rng.sample(back, POLLERS))
        windows = []
        for w in range(WINDOWS):
            polled = w % 2 == 1
            if polled:
                pollers.start()
            start = time.time()
            time.sleep(WINDOW)
            end = time.time()
            if polled:
                pollers.stop()
            windows.append((polled, start, end))
            print(f"window {w}: {'polled' if polled else 'idle'}", flush=True)
        running = poll_samples(http, poll_ids, 500)  # the queue still running: the plan changes per task
        assert http.post(f"{Q}/queue/pause").status_code == 200
        time.sleep(1)
        done = finished_tasks(http, windows[0][1] - 5)
        counts = {True: 0, False: 0}
        for polled, start, end in windows:
            counts[polled] += sum(start <= seconds(t["finished_at"]) < end for t in done)
        ordered = sorted(done, key=lambda t: seconds(t["process_started_at"]))
        gaps = [seconds(b["process_started_at"]) - seconds(a["process_finished_at"])
                for a, b in zip(ordered, ordered[1:])
                if windows[0][1] <= seconds(a["process_finished_at"]) < windows[-1][2]]
        runs = [seconds(t["process_finished_at"]) - seconds(t["process_started_at"]) for t in ordered]
        result.update(
            poll_p50_paused_ms=ms(pct(paused, 50)), poll_p99_paused_ms=ms(pct(paused, 99)),
            poll_p99_img2img_paused_ms=ms(pct(paused_img, 99)),
            poll_p50_running_ms=ms(pct(running, 50)), poll_p99_running_ms=ms(pct(running, 99)),
            poll_p99_pollers_ms=ms(pct(pollers.latencies, 99)) if pollers.latencies else None,
            poll_samples=len(paused) + len(running) + len(pollers.latencies), poller_errors=pollers.errors,
            finished_idle=counts[False], finished_polled=counts[True],
            throughput_polled_vs_idle=round(counts[True] / max(counts[False], 1), 3),
            gap_ms_median=ms(statistics.median(gaps)) if gaps else None,
            gap_ms_p95=ms(pct(gaps, 95)) if gaps else None,
            generate_ms_median=ms(statistics.median(runs)) if runs else None,
        )
        result["poll_p99_ms"] = max(result["poll_p99_paused_ms"], result["poll_p99_running_ms"],
                                    result["poll_p99_pollers_ms"] or 0)
    finally:
        server.stop()
    if chosen() == "redis":
        from webui_taskqueue.store.redis.store import RedisStore

        store, size = RedisStore(os.environ[REDIS_URL_ENV], server.env[REDIS_PREFIX_ENV]), {}
    else:
        from webui_taskqueue.store.sqlite.store import SQLiteStore

        db = os.path.join(server.data_dir, "task-queue", "tasks.sqlite3")
        if not os.path.exists(db):
            db = next(os.path.join(d, f) for d, _, fs in os.walk(server.data_dir) for f in fs if f.endswith(".sqlite3"))
        copy = os.path.join(folder, "copy.sqlite3")
        shutil.copy(db, copy)
        for suffix in ("-wal", "-shm"):
            if os.path.exists(db + suffix):
                shutil.copy(db + suffix, copy + suffix)
        store, size = SQLiteStore(copy), {"db_mb": round(os.path.getsize(copy) / 1e6, 1)}
    queued, nexts, starts, current = time_pick(store)
    result.update(pick_queued=queued, pick_ms=ms(statistics.median(nexts)), pick_ms_max=ms(max(nexts)),
                  pick_ms_first=ms(nexts[0]),
                  start_ms_median=ms(statistics.median(starts)), plan_current_ms=ms(current), **size)
    result["goals_met"] = {
        "poll_p99<20ms": result["poll_p99_ms"] < 20,
        "pick<10ms": result["pick_ms"] < 10,
        "polled/idle>=0.95": result["throughput_polled_vs_idle"] >= 0.95,
    }
    shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    with bench_store():
        main()
