"""The planner's cache: what makes a status poll cost a lookup at any queue length.
A fake clock and an in-memory store; the scheduler is counted, not timed."""

import os
import random
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "extension"))

from webui_taskqueue.scheduling import planner as planner_module  # noqa: E402
from webui_taskqueue.scheduling import policy as scheduler  # noqa: E402
from webui_taskqueue.scheduling.planner import REPLAN_SECONDS, Planner  # noqa: E402
from webui_taskqueue.scheduling.policy import Policy  # noqa: E402
from webui_taskqueue.scheduling.speeds import Speeds  # noqa: E402
from webui_taskqueue.store.memory import MemoryStore  # noqa: E402
from webui_taskqueue.records.tasks import Queued, Task, TaskStatus, TaskType  # noqa: E402


class Host:
    loaded = "a"

    def loaded_checkpoint(self):
        return self.loaded


class Clock:
    now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def setup(monkeypatch):
    store, host, clock = MemoryStore(), Host(), Clock()
    calls = []
    real = scheduler.plan

    def counted(*args, **kwargs):
        calls.append(kwargs.get("exact", 500))
        return real(*args, **kwargs)

    monkeypatch.setattr(planner_module.scheduler, "plan", counted)
    planner = Planner(store, host, Policy, clock)
    for n in range(6):
        store.add(Task(task_id=f"t{n}", type=TaskType.TXT2IMG, owner=f"user{n % 2}", checkpoint="ab"[n % 2],
                       vae=None, params={}, created_at=clock.now + n, sort_order=clock.now + n))
    return store, host, clock, planner, lambda: [c for c in calls if c != 1]  # full plans only


def eventually(condition, seconds=5.0):
    """True once `condition()` is (a background plan landed), False after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def start_next(store, planner, clock):
    """What the worker does per task: pick, start, tell the planner."""
    pick = planner.next()
    task = store.start(pick.order[0].task_id, clock(), pick.overtaken, pick.due)
    planner.started(task)
    return task


def test_a_poll_reuses_the_plan_while_nothing_changes(setup):
    store, host, clock, planner, full_plans = setup
    first = planner.current()
    for _ in range(20):
        assert planner.current() is first
    assert len(full_plans()) == 1


def test_when_the_worker_starts_the_foreseen_task_positions_move_up_without_planning_again(setup):
    store, host, clock, planner, full_plans = setup
    plan = planner.current()
    order = [t.task_id for t in plan.waiting()]
    task = start_next(store, planner, clock)
    assert task.task_id == order[0]
    moved = planner.current()
    assert [t.task_id for t in moved.waiting()] == order[1:]
    assert moved.position(order[1]) == 1 and moved.position(order[0]) is None
    store.finish(task.task_id, TaskStatus.DONE, clock())  # a task's end leaves the queue as it was
    planner.ended(task)
    assert planner.current() is moved
    assert len(full_plans()) == 1



def test_the_loaded_title_gaining_its_hash_is_the_same_model_and_no_reason_to_plan_again(setup):
    """webui appends a checkpoint's short hash to its title once it loaded the file: the
    task's title (resolved before) and the loaded one differ by it alone."""
    store, host, clock, planner, full_plans = setup
    first = planner.current()
    host.loaded = "a [0123456789]"
    assert planner.current() is first
    assert len(full_plans()) == 1


def test_speeds_learned_under_either_title_are_one_checkpoint_s():
    speeds = Speeds({"rate": {"a [0123456789]": 2.0}})
    speeds.learn("a", 1.0, 4.0, switched=False)  # the same file, its title before the hash was known
    assert list(speeds.rate) == ["a"] and speeds.rate["a"] > 2.0
    task = Queued("t", "ann", "a [0123456789]", None, 0.0, work=1.0)
    assert speeds.estimate(task, ("a", None)) == speeds.rate["a"]  # no switch


def test_a_plan_that_lands_after_the_worker_started_the_task_it_foresaw_moves_on_by_one(setup, monkeypatch):
    store, host, clock, planner, full_plans = setup
    planner.current()
    clock.now += REPLAN_SECONDS + 1  # stale by time: the next poll plans in the background
    counted, started = planner_module.scheduler.plan, []

    def plan_while_the_worker_starts(*args, **kwargs):
        made = counted(*args, **kwargs)
        if kwargs.get("exact", 500) != 1 and not started:
            started.append(start_next(store, planner, clock))  # while the plan is being made
        return made

    monkeypatch.setattr(planner_module.scheduler, "plan", plan_while_the_worker_starts)
    before = planner.current()
    assert eventually(lambda: planner.current() is not before)
    landed = planner.current()
    assert landed.position(started[0].task_id) is None and len(landed) == 5
    assert planner.current() is landed and len(full_plans()) == 2  # not stale: no third plan

def test_a_stale_plan_answers_at_once_while_one_background_thread_plans_again(setup):
    store, host, clock, planner, full_plans = setup
    before = planner.current()
    clock.now += REPLAN_SECONDS + 1
    assert planner.current() is before  # answered from the plan before
    assert eventually(lambda: planner.current() is not before)
    assert len(full_plans()) == 2


def test_a_native_job_loading_another_model_replans_in_the_background(setup):
    store, host, clock, planner, full_plans = setup
    before = planner.current()
    host.loaded = "b"
    planner.current()
    assert eventually(lambda: planner.current() is not before)
    assert len(full_plans()) == 2


def test_a_submitter_and_a_mover_see_their_change_at_once_and_other_polls_after_one_background_plan(setup):
    store, host, clock, planner, full_plans = setup
    before = planner.current()
    store.add(Task(task_id="new", type=TaskType.TXT2IMG, owner="user9", checkpoint="a", vae=None, params={},
                   created_at=clock.now + 10, sort_order=clock.now + 10))
    planner.invalidate()
    assert planner.current(needs="new").position("new") == 2  # a new user's first task: right after the fair head
    store.reorder("t5", priority=5)
    planner.invalidate()
    assert planner.current(needs="t5", fresh=True).position("t5") == 1
    store.reorder("t3", priority=9)
    planner.invalidate()
    planner.current(needs="t1")  # someone else's poll: answered at once, planned behind it
    assert eventually(lambda: planner.current().position("t3") == 1) and before.position("new") is None


def test_concurrent_submits_share_one_plan(setup):
    store, host, clock, planner, full_plans = setup
    planner.current()
    for n in range(5):
        store.add(Task(task_id=f"n{n}", type=TaskType.TXT2IMG, owner="user0", checkpoint="a", vae=None, params={},
                       created_at=clock.now + 10 + n, sort_order=clock.now + 10 + n))
        planner.invalidate()
    plans = len(full_plans())
    for n in range(5):  # as the five submitters, each asking for its own task's place
        assert planner.current(needs=f"n{n}").position(f"n{n}") is not None
    assert len(full_plans()) == plans + 1


def test_a_task_submitted_by_another_process_is_planned_before_its_poll_answers(setup):
    store, host, clock, planner, full_plans = setup
    planner.current()
    store.add(Task(task_id="elsewhere", type=TaskType.TXT2IMG, owner="user0", checkpoint="a", vae=None, params={},
                   created_at=clock.now + 10, sort_order=clock.now + 10))  # nobody called invalidate
    assert planner.current(needs="elsewhere").position("elsewhere") is not None


def test_eta_counts_from_the_end_of_the_running_task(setup):
    store, host, clock, planner, full_plans = setup
    planner.learn("a", 1.0, 2.0, switched=False)
    planner.learn("b", 1.0, 2.0, switched=False)
    plan = planner.current()
    second, third = (t.task_id for t in plan.waiting(1, 3))
    start_next(store, planner, clock)
    moved = planner.current()
    assert moved.end(second) == pytest.approx(plan.end(second) - plan.end(plan.order[0].task_id))
    assert moved.end(third) > moved.end(second) > 0


def test_learned_speeds_are_each_boxs_own_on_a_shared_queue(redis_server):
    from webui_taskqueue.store.redis.store import RedisStore

    prefix = f"speeds-{os.getpid()}-{time.monotonic_ns()}:"
    a, b = (RedisStore(redis_server.url, prefix=prefix, box=name) for name in ("gpu-a", "gpu-b"))
    try:
        Planner(a, Host(), Policy).learn("a", work=10.0, seconds=5.0, switched=False)
        assert Planner(a, Host(), Policy).speeds.rate == {"a": 0.5}  # kept for box gpu-a
        assert not Planner(b, Host(), Policy).speeds.known  # gpu-b's GPU is not gpu-a's
    finally:
        a.close()
        b.close()


def test_a_box_alone_keeps_the_speeds_it_learned_before_boxes_had_names(tmp_path):
    from webui_taskqueue.store.sqlite.store import SQLiteStore

    store = SQLiteStore(str(tmp_path / "tasks.sqlite3"))
    try:
        store.set_state("speeds", {"rate": {"a": 0.25}, "switch": {"a": 3.0}})  # as an earlier version wrote it
        planner = Planner(store, Host(), Policy)
        assert planner.speeds.rate == {"a": 0.25} and planner.speeds.switch == {"a": 3.0}
    finally:
        store.close()


def scheduling(tasks):
    """What the scheduler reads of queued tasks, comparable across stores."""
    return sorted((t.task_id, t.owner, t.checkpoint, t.priority, t.sort_order, t.overtaken, t.due_since) for t in tasks)


def test_the_workers_pick_sorts_the_queue_once_per_change_not_once_per_task_and_picks_as_a_fresh_plan(store, monkeypatch):
    host, clock, policy = Host(), Clock(), Policy(max_overtaken=3, max_delay=30.0)
    planner = Planner(store, host, lambda: policy, clock)
    rng = random.Random(3)

    def submit(n):
        store.add(Task(task_id=f"t{n}", type=TaskType.TXT2IMG, owner=f"user{n % 3}", checkpoint=rng.choice("ab"),
                       vae=None, params={}, created_at=clock.now + n, sort_order=clock.now + n, priority=(n % 7 == 0)))

    for n in range(40):
        submit(n)
    real, listings = store.queued_light, []
    monkeypatch.setattr(store, "queued_light", lambda: listings.append(1) or real())
    for step in range(30):
        fresh = scheduler.plan(real(), planner.loaded(), clock(), policy, store.served(), exact=1, tail=False)
        pick = planner.next()
        assert (pick.order[0], pick.overtaken, pick.due) == (fresh.order[0], fresh.overtaken, fresh.due)
        task = store.start(pick.order[0].task_id, clock(), pick.overtaken, pick.due)
        planner.started(task)
        kept = planner._listing.lists
        assert scheduling(t for tasks in kept.values() for t in tasks) == scheduling(real())
        assert all([t.task_id for t in tasks] == [t.task_id for t in scheduler.by_owner(tasks)[owner]]
                   for owner, tasks in kept.items())
        store.finish(task.task_id, TaskStatus.DONE, clock())
        planner.ended(task)
        host.loaded = task.checkpoint
        clock.now += 7
        if step == 10:
            submit(100)  # someone's submit: the next pick reads the queue again
    assert len(listings) == 2


def test_a_pick_from_each_owners_first_tasks_is_the_pick_from_the_whole_queue():
    rng = random.Random(5)
    for _ in range(200):
        policy = Policy(max_overtaken=rng.randint(0, 4), max_delay=rng.choice([5.0, 1e9]))
        queued = [Queued(task_id=f"t{n}", owner=f"u{rng.randint(0, 3)}", checkpoint=rng.choice("abc"),
                                   vae=None, created_at=n, sort_order=rng.choice([n, rng.random() * 50]),
                                   priority=rng.choice([0, 0, 0, 1]), overtaken=rng.randint(0, 4),
                                   due_since=rng.choice([None, 990.0, 1000.0 - rng.random() * 10]))
                  for n in range(rng.randint(1, 60))]
        loaded = (rng.choice("abc"), None)
        served = {f"u{k}": rng.random() for k in range(4) if rng.random() < 0.5}
        whole = scheduler.plan(queued, loaded, 1000.0, policy, served, exact=1, tail=False)
        heads = scheduler.plan(scheduler.heads(scheduler.by_owner(queued), policy), loaded, 1000.0, policy, served,
                               exact=1, tail=False)
        assert (heads.order, heads.overtaken, heads.due) == (whole.order, whole.overtaken, whole.due)
