"""The scheduler against first come, first served, on a simulated GPU with a fake clock.
The simulated worker's store is in memory; with TASK_QUEUE_BENCH_STORE=redis, a queue on
Redis (a redis-server started here): the decisions, and so the figures, must not change.

Workload, per seed: 3 users, 3 checkpoints. "heavy" submits 30 tasks at t=0, each on a
random checkpoint; "light1" and "light2" each submit LIGHT_TASKS tasks, one every
LIGHT_EVERY seconds (uniform), each light user always on the same checkpoint of their own
(light1 on ck1, light2 on ck2: a person iterating on one model); with --light-random,
a random checkpoint per task instead. Generation takes
GENERATE seconds, loading another checkpoint SWITCH seconds more. The simulated worker
knows the loaded checkpoint and charges the switch when it changes; the first task of a
run pays a load too, in both schedulers.

"ours" is the real worker loop in miniature: scheduler.plan -> MemoryStore.start(order[0],
overtaken, due) -> run -> repeat. "fifo" runs the same arrivals in submission order.
ETAs come from the real Speeds, primed with one measured run per checkpoint and learning
online as the worker does; the ETA predicted at submit is what the service answers:
the running task's time left + plan.starts[task] + the task's own estimate.

Usage: `python tests/bench/scheduling.py [--max-overtaken N] [--max-delay S] [--seeds N]`.
The last line printed is a JSON object (ratios are ours over FIFO, waits are start -
submit, p95 pooled over all seeds per user):
  switches_vs_fifo, light_user_p95_wait_vs_fifo, worst_user_p95_wait_vs_fifo,
  max_overtaken (most times any task was passed), eta_error_p50 (|predicted - actual|
  / actual time from submit to finish), and the raw numbers."""

import argparse
import dataclasses
import json
import os
import random
import statistics
import sys
import uuid
from typing import Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "extension"))
sys.path.insert(0, os.path.dirname(HERE))

from bench.store_choice import bench_store, chosen as chosen_store  # noqa: E402
from contract.client import REDIS_URL_ENV  # noqa: E402
from webui_taskqueue.scheduling.policy import Policy, plan  # noqa: E402
from webui_taskqueue.scheduling.speeds import Speeds  # noqa: E402
from webui_taskqueue.store.memory import MemoryStore  # noqa: E402
from webui_taskqueue.records.tasks import Task, TaskStatus, TaskType  # noqa: E402

GENERATE, SWITCH = 4.0, 10.0
CHECKPOINTS = ["ck0", "ck1", "ck2"]
HEAVY_TASKS = 30
LIGHT_TASKS, LIGHT_EVERY = 20, (5.0, 12.0)
LIGHT = {"light1": "ck1", "light2": "ck2"}


@dataclasses.dataclass
class Arrival:
    index: int
    at: float
    owner: str
    checkpoint: str


@dataclasses.dataclass
class Ran:
    arrival: Arrival
    started: float
    finished: float
    switched: bool
    overtaken: int = 0
    eta: Optional[float] = None  # predicted seconds from submit to finish
    eta_service: Optional[float] = None  # the same, with the service's own-estimate rule


def workload(seed: int, light_random: bool = False) -> List[Arrival]:
    rng = random.Random(seed)
    arrivals = [(0.0, "heavy", rng.choice(CHECKPOINTS)) for _ in range(HEAVY_TASKS)]
    for owner, checkpoint in LIGHT.items():
        at = rng.uniform(0.0, LIGHT_EVERY[0])
        for _ in range(LIGHT_TASKS):
            arrivals.append((round(at, 3), owner, rng.choice(CHECKPOINTS) if light_random else checkpoint))
            at += rng.uniform(*LIGHT_EVERY)
    arrivals.sort(key=lambda a: a[0])  # stable: the heavy batch first at t=0
    return [Arrival(i, at, owner, ck) for i, (at, owner, ck) in enumerate(arrivals)]


def duration(checkpoint: str, loaded: Optional[str]) -> float:
    return GENERATE + (SWITCH if loaded != checkpoint else 0.0)


def primed_speeds() -> Speeds:
    speeds = Speeds()
    for ck in CHECKPOINTS:
        speeds.learn(ck, 1.0, GENERATE, switched=False)
        speeds.learn(ck, 1.0, GENERATE + SWITCH, switched=True)
    return speeds


def new_store():
    """The simulated worker's store: in memory, or with TASK_QUEUE_BENCH_STORE=redis a
    queue of its own on Redis, the store a shared queue uses (the decisions must match)."""
    if chosen_store() != "redis":
        return MemoryStore()
    from webui_taskqueue.store.redis.store import RedisStore

    return RedisStore(os.environ[REDIS_URL_ENV], prefix=f"sched-{uuid.uuid4().hex[:12]}:")


def run_ours(arrivals: List[Arrival], policy: Policy) -> List[Ran]:
    store, speeds = new_store(), primed_speeds()
    pending = list(arrivals)
    ran: Dict[str, Ran] = {}
    etas: Dict[str, tuple] = {}
    now, loaded = 0.0, None
    running = None  # (checkpoint, finishes at)

    def submit(a: Arrival) -> None:
        task_id = f"t{a.index:04d}"
        store.add(Task(task_id=task_id, type=TaskType.TXT2IMG, owner=a.owner, checkpoint=a.checkpoint,
                       params={}, created_at=a.at, sort_order=a.at, work=1.0))
        # the ETA the service would answer right after the submit
        model = (running[0], None) if running else ((loaded, None) if loaded else None)
        left = max(0.0, running[1] - a.at) if running else 0.0
        p = plan(store.queued_light(), model, a.at, policy, store.served(), speeds.estimate)
        position = p.positions[task_id]
        light = p.order[position - 1]
        before = p.order[position - 2] if position > 1 else None
        before_model = (before.checkpoint, None) if before else model
        eta = left + p.starts[task_id] + speeds.estimate(light, before_model)
        eta_service = left + p.starts[task_id] + speeds.estimate(light, None if position > 1 else model)
        etas[task_id] = (eta, eta_service)

    while pending or store.count(TaskStatus.QUEUED):
        while pending and pending[0].at <= now:
            submit(pending.pop(0))
        queued = store.queued_light()
        if not queued:
            now = pending[0].at
            continue
        p = plan(queued, (loaded, None) if loaded else None, now, policy, store.served(), exact=1, tail=False)
        chosen = p.order[0]
        overtaken_before = chosen.overtaken
        store.start(chosen.task_id, now, p.overtaken, p.due)
        took = duration(chosen.checkpoint, loaded)
        running = (chosen.checkpoint, now + took)
        # arrivals while it runs see it running
        while pending and pending[0].at < now + took:
            submit(pending.pop(0))
        arrival = arrivals[int(chosen.task_id[1:])]
        ran[chosen.task_id] = Ran(arrival, now, now + took, loaded != chosen.checkpoint, overtaken_before)
        speeds.learn(chosen.checkpoint, 1.0, took, switched=loaded != chosen.checkpoint)
        now += took
        loaded, running = chosen.checkpoint, None
        store.finish(chosen.task_id, TaskStatus.DONE, now)
    # what each task had been overtaken in the end: the store's count when it started
    for task_id, r in ran.items():
        r.overtaken = store.get(task_id).overtaken
        r.eta, r.eta_service = etas[task_id]
    store.close()
    return [ran[f"t{a.index:04d}"] for a in arrivals]


def run_fifo(arrivals: List[Arrival]) -> List[Ran]:
    now, loaded, out = 0.0, None, []
    for a in arrivals:  # submission order
        now = max(now, a.at)
        took = duration(a.checkpoint, loaded)
        out.append(Ran(a, now, now + took, loaded != a.checkpoint))
        now += took
        loaded = a.checkpoint
    return out


def p95(values: List[float]) -> float:
    values = sorted(values)
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[94]


def summarize(runs: List[List[Ran]]) -> dict:
    waits: Dict[str, List[float]] = {}
    for run in runs:
        for r in run:
            waits.setdefault(r.arrival.owner, []).append(r.started - r.arrival.at)
    return {
        "switches": sum(r.switched for run in runs for r in run),
        "p95_wait": {u: round(p95(w), 1) for u, w in sorted(waits.items())},
        "mean_wait": {u: round(statistics.mean(w), 1) for u, w in sorted(waits.items())},
        "makespan": round(statistics.mean(max(r.finished for r in run) for run in runs), 1),
    }


def eta_errors(runs: List[List[Ran]], attr: str) -> List[float]:
    errors = []
    for run in runs:
        for r in run:
            actual = r.finished - r.arrival.at
            errors.append(abs(getattr(r, attr) - actual) / actual)
    return errors


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-overtaken", type=int, default=Policy().max_overtaken)
    parser.add_argument("--max-delay", type=float, default=Policy().max_delay)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--light-random", action="store_true", help="light users pick a random checkpoint per task")
    args = parser.parse_args(argv)
    policy = Policy(max_overtaken=args.max_overtaken, max_delay=args.max_delay)
    seeds = list(range(1, args.seeds + 1))
    ours, fifo = [], []
    for seed in seeds:
        arrivals = workload(seed, args.light_random)
        ours.append(run_ours(arrivals, policy))
        fifo.append(run_fifo(arrivals))
        a, b = summarize([ours[-1]]), summarize([fifo[-1]])
        print(f"seed {seed}: switches ours {a['switches']} fifo {b['switches']}; "
              f"p95 wait ours {a['p95_wait']} fifo {b['p95_wait']}", flush=True)
    a, b = summarize(ours), summarize(fifo)
    ratio = {u: round(a["p95_wait"][u] / max(b["p95_wait"][u], 1e-9), 3) for u in a["p95_wait"]}
    light = [ratio[u] for u in LIGHT]
    errors, errors_service = eta_errors(ours, "eta"), eta_errors(ours, "eta_service")
    result = {
        "benchmark": "scheduling",
        "store": "redis" if chosen_store() == "redis" else "memory",
        "policy": dataclasses.asdict(policy),
        "seeds": len(seeds),
        "workload": {"heavy_tasks": HEAVY_TASKS, "light_users": len(LIGHT), "light_tasks_each": LIGHT_TASKS,
                     "light_every_s": list(LIGHT_EVERY), "light_checkpoint": "random per task" if args.light_random else "fixed per user",
                     "generate_s": GENERATE, "switch_s": SWITCH},
        "switches_vs_fifo": round(a["switches"] / b["switches"], 3),
        "light_user_p95_wait_vs_fifo": max(light),
        "worst_user_p95_wait_vs_fifo": max(ratio.values()),
        "max_overtaken": max(r.overtaken for run in ours for r in run),
        "eta_error_p50": round(statistics.median(errors), 3),
        "eta_error_p90": round(statistics.quantiles(errors, n=10)[8], 3),
        "eta_error_p50_service_rule": round(statistics.median(errors_service), 3),
        "p95_wait_vs_fifo": ratio,
        "ours": a,
        "fifo": b,
    }
    result["goals_met"] = {
        "switches<=0.4": result["switches_vs_fifo"] <= 0.4,
        "light_p95<=0.5": result["light_user_p95_wait_vs_fifo"] <= 0.5,
        "worst_p95<=1.25": result["worst_user_p95_wait_vs_fifo"] <= 1.25,
        "overtaken<=bound": result["max_overtaken"] <= policy.max_overtaken,
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    with bench_store():
        main()
