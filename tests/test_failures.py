"""Failure isolation in-process: the streak of failures on both stores, and the worker on
the stand-in webui (run_once called directly) cleaning up after a failed task."""

import os
import sqlite3
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # makes `standin` importable

import standin  # noqa: E402
from standin import checkpoints  # noqa: E402
from modules import devices  # noqa: E402

from webui_taskqueue.running.failures import FAILURES, PAUSED, FailureStreak  # noqa: E402
from webui_taskqueue.store.images import ImageStore  # noqa: E402
from webui_taskqueue.scheduling.planner import Planner  # noqa: E402
from webui_taskqueue.scheduling.policy import Policy  # noqa: E402
from webui_taskqueue.store.sqlite.store import SQLiteStore  # noqa: E402
from webui_taskqueue.records.tasks import Task, TaskStatus, TaskType  # noqa: E402
from webui_taskqueue.host.webui import WebuiHost  # noqa: E402
from webui_taskqueue.running.worker import Worker  # noqa: E402



def ended(status, error=None):
    return Task(task_id="t", type=TaskType.TXT2IMG, owner="ann", checkpoint="a", params={}, created_at=0.0,
                status=status, error=error)


def test_the_streak_pauses_at_its_limit_and_keeps_the_reason_in_the_store(store):
    streak = FailureStreak(store, limit=lambda: 3)
    assert streak.record(ended(TaskStatus.FAILED, "one")) is None
    assert streak.record(ended(TaskStatus.INTERRUPTED)) is None  # neither a failure nor a success
    assert streak.record(ended(TaskStatus.FAILED, "two")) is None
    assert not store.get_flag(PAUSED)
    reason = streak.record(ended(TaskStatus.FAILED, "x" * 1000))
    assert reason.startswith("paused itself after 3 tasks failed in a row; the last error: xxx")
    assert store.get_flag(PAUSED)
    # another streak object over the same store (a restart) sees the same
    summary = FailureStreak(store, limit=lambda: 3).summary()
    assert summary["paused_reason"] == reason and summary["failures_in_a_row"] == 3
    assert [len(e) for e in summary["last_errors"]] == [300, 3, 3]
    streak.clear()
    assert store.get_state(FAILURES) is None


def test_a_success_clears_the_streak(store):
    streak = FailureStreak(store, limit=lambda: 2)
    streak.record(ended(TaskStatus.FAILED, "one"))
    streak.record(ended(TaskStatus.DONE))
    assert streak.record(ended(TaskStatus.FAILED, "two")) is None
    assert streak.summary() == {"failures_in_a_row": 1, "last_errors": ["two"], "paused_reason": None}


@pytest.fixture
def worker(tmp_path):
    ckpt_dir = tmp_path / "models" / "Stable-diffusion"
    checkpoints.make_checkpoint(str(ckpt_dir / "a.safetensors"), 1)
    standin.boot(str(ckpt_dir), str(tmp_path / "data"), step_seconds=0.0)
    store = SQLiteStore(str(tmp_path / "q" / "tasks.sqlite3"))
    host = WebuiHost()
    yield Worker(store, host, ImageStore(str(tmp_path / "q" / "images")), Planner(store, host, Policy),
                 pause_after=lambda: 2)
    store.close()


def add(worker, task_id, prompt):
    now = time.time()
    worker.store.add(Task(task_id=task_id, type=TaskType.TXT2IMG, owner="ann", checkpoint="a",
                          params={"prompt": prompt, "steps": 4, "width": 64, "height": 64, "seed": 1},
                          created_at=now, sort_order=now))


def test_a_failed_generation_gives_the_gpu_memory_back(worker):
    add(worker, "1", "oom")
    add(worker, "2", "a house")
    before = devices.gc_calls
    failed = worker.run_once()
    assert failed.status == TaskStatus.FAILED and "CUDA out of memory" in failed.error
    assert devices.gc_calls == before + 1
    assert worker.run_once().status == TaskStatus.DONE
    assert devices.gc_calls == before + 1  # after a success webui's own processing does it


def test_a_task_whose_end_the_store_refuses_is_tried_again_and_nothing_else_starts_until_it_is_recorded(worker):
    for n in "123":
        add(worker, n, f"a house {n}")
    store, finish = worker.store, worker.store.finish
    refusals = [sqlite3.OperationalError("database or disk is full")] * 2
    seen = []  # at each try to record task 1: the others' statuses

    def full_then_fine(task_id, *args, **kw):
        if task_id == "1":
            seen.append((store.get("2").status, store.get("3").status))
            if refusals:
                raise refusals.pop()
        return finish(task_id, *args, **kw)

    store.finish = full_then_fine
    worker.start()
    try:
        deadline = time.time() + 30
        while time.time() < deadline and any(store.get(n).status != TaskStatus.DONE for n in "123"):
            time.sleep(0.05)
    finally:
        worker.stop(timeout=10)
    assert [store.get(n).status for n in "123"] == [TaskStatus.DONE] * 3
    assert store.get("1").images == ["0.png"]
    # tried three times, a second apart; the task after it may already run, the one after that may not
    assert len(seen) == 3 and all(third == TaskStatus.QUEUED for _, third in seen)
    started = {n: store.get(n).started_at for n in "123"}
    assert started["3"] >= store.get("1").finished_at