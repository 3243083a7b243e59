"""`nox -s bench -- turns`: the scheduling workload, shortened, over real HTTP: first come
first served against fair turns with grouping, on the same arrivals.

One heavy user queues HEAVY tasks at once on random checkpoints; two light users each
submit a task every LIGHT_EVERY seconds. FIFO is emulated with the queue's own
settings: every task submitted by one user, grouping off (max_overtaken 0), so the run
order is the submission order. Ours: three users, the default settings. Switches are
counted from the checkpoints in start order. Runs on the stand-in, or on the webui at
TASK_QUEUE_WEBUI_URL (with TASK_QUEUE_ADMIN_KEY). Last line JSON."""

import json
import os
import random
import statistics
import sys
import threading
import time
import uuid
from datetime import datetime

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from bench.target import target  # noqa: E402

HEAVY = int(os.environ.get("TURNS_HEAVY", "12"))
LIGHT = int(os.environ.get("TURNS_LIGHT", "3"))
LIGHT_EVERY = float(os.environ.get("TURNS_LIGHT_EVERY", "1.0"))
STEPS = int(os.environ.get("TURNS_STEPS", "8"))


def ts(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def run(admin, titles, fifo, seed):
    rng = random.Random(seed)
    tag = uuid.uuid4().hex[:6]
    heavy = admin.add_user(f"heavy-{tag}")
    lights = [admin.add_user(f"light{i}-{tag}") for i in range(2)]
    one = admin.add_user(f"fifo-{tag}") if fifo else None
    admin.set_options(task_queue_max_overtaken=0 if fifo else 8)
    plan = [("heavy", rng.choice(titles)) for _ in range(HEAVY)]
    light_plan = [[(f"light{i}", rng.choice(titles)) for _ in range(LIGHT)] for i in range(2)]
    submitted = []  # (who, task_id)
    lock = threading.Lock()

    def submit(who, client, title):
        task_id = (one or client).submit({"prompt": who, "steps": STEPS, "width": 64, "height": 64, "checkpoint": title})
        with lock:
            submitted.append((who, task_id))

    for who, title in plan:
        submit(who, heavy, title)

    def light_user(i):
        for who, title in light_plan[i]:
            time.sleep(LIGHT_EVERY)
            submit(who, lights[i], title)

    threads = [threading.Thread(target=light_user, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    tasks = [(who, admin.wait(task_id, every=0.1)) for who, task_id in submitted]
    tasks.sort(key=lambda x: ts(x[1]["started_at"]))
    switches = sum(1 for (_, a), (_, b) in zip(tasks, tasks[1:]) if a["checkpoint"] != b["checkpoint"])
    waits = {}
    for who, task in tasks:
        waits.setdefault("light" if who.startswith("light") else "heavy", []).append(ts(task["started_at"]) - ts(task["created_at"]))
    return switches, waits


def p95(values):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]


def main():
    with target("turns", step_seconds=0.05, extra_args=["--load-seconds", "0.5"]) as (admin, _):
        titles = [c["title"] for c in admin.get("/queue/v1/checkpoints").json()["data"]][:3]
        before = admin.options().get("task_queue_max_overtaken", 8)
        results = {}
        for name, fifo in (("fifo", True), ("ours", False)):
            results[name] = run(admin, titles, fifo, seed=1)
        admin.set_options(task_queue_max_overtaken=before)
        (fs, fw), (os_, ow) = results["fifo"], results["ours"]
        out = {
            "tasks": HEAVY + 2 * LIGHT, "checkpoints": len(titles),
            "switches_fifo": fs, "switches_ours": os_,
            "switches_vs_fifo": round(os_ / fs, 3) if fs else None,
            "light_p95_wait_fifo_s": round(p95(fw["light"]), 2), "light_p95_wait_ours_s": round(p95(ow["light"]), 2),
            "heavy_p95_wait_fifo_s": round(p95(fw["heavy"]), 2), "heavy_p95_wait_ours_s": round(p95(ow["heavy"]), 2),
            "light_mean_wait_fifo_s": round(statistics.mean(fw["light"]), 2),
            "light_mean_wait_ours_s": round(statistics.mean(ow["light"]), 2),
        }
        out["light_p95_wait_vs_fifo"] = round(out["light_p95_wait_ours_s"] / out["light_p95_wait_fifo_s"], 3)
        print(json.dumps(out))


if __name__ == "__main__":
    main()
