"""The scheduler (scheduler.plan) driven by a simulated worker loop: a fake clock,
random workloads, and after each pick the bookkeeping that Store.start applies
(MemoryStore here). No sleeps, no threads.

Each step is checked against an independent statement of the fair order (round-robin
between users, least recently served first, higher head priority first; within a user
priority then sort_order), so that "overtaken" means what a user would call it: a
task that stood ahead in the fair order and was passed."""

import dataclasses
import random
from typing import Dict, List, Optional

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webui_taskqueue.records.checkpoints import checkpoint_key
from webui_taskqueue.records.tasks import Queued
from webui_taskqueue.scheduling.policy import NEVER, Policy, matches, plan
from webui_taskqueue.store.memory import MemoryStore
from webui_taskqueue.records.tasks import Task, TaskStatus, TaskType

GENERATE, SWITCH = 4.0, 10.0


# ---- the reference fair order and the simulated worker ------------------------------


def fair_order(queued: List[Queued], served: Dict[str, float]) -> List[Queued]:
    """Round r takes every user's r-th own task, users ranked by their head's priority
    (higher first), then least recently served, then the head's own order."""
    own: Dict[str, List[Queued]] = {}
    for t in sorted(queued, key=lambda t: (-t.priority, t.sort_order)):
        own.setdefault(t.owner, []).append(t)
    users = sorted(own, key=lambda u: (-own[u][0].priority, served.get(u, NEVER), own[u][0].sort_order, u))
    order, depth = [], 0
    while len(order) < len(queued):
        order += [own[u][depth] for u in users if depth < len(own[u])]
        depth += 1
    return order


@dataclasses.dataclass
class Arrival:
    at: float
    owner: str
    checkpoint: str
    priority: int = 0
    work: float = 1.0
    vae: Optional[str] = None


@dataclasses.dataclass
class Pick:
    at: float
    task: Queued
    fair: List[Queued]  # the reference fair order at the pick
    plan_overtaken: List[str]
    loaded: Optional[tuple]
    queued: List[Queued]  # what was queued at the pick, with the store's bookkeeping


def simulate(arrivals: List[Arrival], policy: Policy, loaded: Optional[tuple] = None,
             duration=lambda task, loaded: GENERATE * task.work + (SWITCH if not loaded or loaded[0] != task.checkpoint else 0.0),
             exact: int = 1, tail: bool = False, on_plan=None) -> List[Pick]:
    """The worker loop: plan -> store.start(order[0]) -> run it (the clock advances by
    `duration`) -> repeat; arrivals are added as their time comes; an idle worker waits
    for the next arrival. Returns every pick in run order."""
    store = MemoryStore()
    pending = sorted(enumerate(arrivals), key=lambda p: (p[1].at, p[0]))
    now, picks, vae = 0.0, [], (loaded[1] if loaded else None)

    def arrive(until):
        while pending and pending[0][1].at <= until:
            i, a = pending.pop(0)
            store.add(Task(task_id=f"t{i:03d}", type=TaskType.TXT2IMG, owner=a.owner, checkpoint=a.checkpoint,
                           params={}, created_at=a.at, sort_order=a.at, vae=a.vae, priority=a.priority, work=a.work))

    while True:
        arrive(now)
        queued = store.queued_light()
        if not queued:
            if not pending:
                return picks
            now = pending[0][1].at
            continue
        served = store.served()
        p = plan(queued, loaded, now, policy, served, exact=exact, tail=tail)
        if on_plan is not None:
            on_plan(p, queued, loaded, now, served)
        chosen = p.order[0]
        picks.append(Pick(now, chosen, fair_order(queued, served), list(p.overtaken), loaded, queued))
        started = store.start(chosen.task_id, now, p.overtaken, p.due)
        assert started.status == TaskStatus.RUNNING
        now += duration(chosen, loaded)
        if chosen.vae is not None:
            vae = chosen.vae
        loaded = (chosen.checkpoint, vae)
        store.finish(chosen.task_id, TaskStatus.DONE, now)


def switches(picks: List[Pick]) -> int:
    return sum(p.loaded is None or p.loaded[0] != p.task.checkpoint for p in picks)


# ---- random workloads ------------------------------------------------------------------


@st.composite
def workloads(draw, max_tasks=30, priorities=True):
    users = [f"u{i}" for i in range(draw(st.integers(1, 5)))]
    checkpoints = [f"ck{i}" for i in range(draw(st.integers(1, 3)))]
    priority = st.sampled_from([0] * 8 + [1, -1, 2]) if priorities else st.just(0)
    arrivals = draw(st.lists(st.builds(
        Arrival,
        at=st.integers(0, 120).map(float),
        owner=st.sampled_from(users),
        checkpoint=st.sampled_from(checkpoints),
        priority=priority,
        work=st.sampled_from([0.5, 1.0, 2.0]),
        vae=st.sampled_from([None, None, None, "v1"]),
    ), min_size=1, max_size=max_tasks))
    policy = Policy(max_overtaken=draw(st.integers(0, 8)), max_delay=draw(st.sampled_from([0.0, 10.0, 30.0, 120.0, 1e9])))
    loaded = draw(st.one_of(st.none(), st.sampled_from(checkpoints).map(lambda c: (c, None))))
    return arrivals, policy, loaded


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---- properties ----------------------------------------------------------------------------


def overtakes_of(picks: List[Pick]):
    """Per pick: the tasks ahead of the chosen one in the reference fair order."""
    for p in picks:
        ids = [t.task_id for t in p.fair]
        yield p, p.fair[: ids.index(p.task.task_id)]


@PROPERTY
@given(workloads())
def test_every_task_runs_exactly_once(w):
    arrivals, policy, loaded = w
    picks = simulate(arrivals, policy, loaded)
    ran = [p.task.task_id for p in picks]
    assert sorted(ran) == sorted(f"t{i:03d}" for i in range(len(arrivals)))


@PROPERTY
@given(workloads())
def test_overtakes_are_real_bounded_and_recorded(w):
    """Nobody is passed more than max_overtaken times, only by a task on the loaded
    model, of no lower priority, from within the window, before its max_delay ran out;
    and what the plan asks the store to count is exactly who was passed."""
    arrivals, policy, loaded = w
    picks = simulate(arrivals, policy, loaded)
    count: Dict[str, int] = {}
    due: Dict[str, float] = {}  # when each task first stood at the head of the fair order
    for p, passed in overtakes_of(picks):
        due.setdefault(p.fair[0].task_id, p.at)
        assert [t.task_id for t in passed] == p.plan_overtaken
        assert len(passed) <= policy.max_overtaken
        if passed:
            assert matches(p.task, p.loaded), "only a task on the loaded model may overtake"
            assert not matches(p.fair[0], p.loaded), "the fair head ran on the loaded model already"
            assert all(p.task.priority >= t.priority for t in passed)
        for t in passed:
            count[t.task_id] = count.get(t.task_id, 0) + 1
            assert count[t.task_id] <= policy.max_overtaken
            if t.task_id in due:
                assert p.at - due[t.task_id] < policy.max_delay, (t, p.at, due[t.task_id])
    # the store's own count agrees with the real overtakes
    passed_before: Dict[str, int] = {}
    for p, passed in overtakes_of(picks):
        for t in p.queued:
            assert t.overtaken == passed_before.get(t.task_id, 0)
        for t in passed:
            passed_before[t.task_id] = passed_before.get(t.task_id, 0) + 1


@PROPERTY
@given(workloads())
def test_nobody_waits_more_than_a_round_plus_the_grouping_bound(w):
    """While a user has queued work, the others get at most one turn each plus
    `max_overtaken` overtakes of this user's head before this user is served (counting
    only tasks of no higher priority than this user's best queued one)."""
    arrivals, policy, loaded = w
    users = {a.owner for a in arrivals}
    bound = len(users) - 1 + policy.max_overtaken
    picks = simulate(arrivals, policy, loaded)
    waited: Dict[str, int] = {}
    for p in picks:
        waiting = {}
        for t in p.queued:
            waiting[t.owner] = max(waiting.get(t.owner, t.priority), t.priority)
        waited = {u: waited.get(u, 0) for u in waiting}  # a user with nothing queued starts over
        for user, best in waiting.items():
            if user == p.task.owner:
                waited[user] = 0
            elif p.task.priority <= best:
                waited[user] += 1
                assert waited[user] <= bound, (user, waited[user], bound)


@PROPERTY
@given(workloads())
def test_own_order_is_kept_except_within_the_grouping_bound(w):
    """A user's tasks run in their own order (priority, then sort_order) except when a
    later one ran on the loaded model while the earlier one waited, within the bound."""
    arrivals, policy, loaded = w
    picks = simulate(arrivals, policy, loaded)
    for p, passed in overtakes_of(picks):
        own = sorted((t for t in p.queued if t.owner == p.task.owner), key=lambda t: (-t.priority, t.sort_order))
        if own[0].task_id != p.task.task_id:
            assert own[0] in passed, "a user's own task was passed outside a grouping overtake"
            assert matches(p.task, p.loaded) and own[0].priority <= p.task.priority
            assert own[0].overtaken < policy.max_overtaken


@PROPERTY
@given(workloads(priorities=False))
def test_max_overtaken_zero_is_pure_round_robin(w):
    arrivals, policy, loaded = w
    picks = simulate(arrivals, dataclasses.replace(policy, max_overtaken=0), loaded)
    for p in picks:
        assert p.task == p.fair[0]
        assert p.plan_overtaken == []


@PROPERTY
@given(workloads(max_tasks=20), st.sampled_from([1, 3, 500]))
def test_the_plan_lists_every_queued_task_once(w, exact):
    arrivals, policy, loaded = w

    def check(p, queued, loaded, now, served):
        assert sorted(t.task_id for t in p.order) == sorted(t.task_id for t in queued)
        assert p.positions == {t.task_id: i for i, t in enumerate(p.order, start=1)}

    simulate(arrivals, policy, loaded, exact=exact, tail=True, on_plan=check)


@PROPERTY
@given(workloads(max_tasks=20))
def test_the_plan_predicts_the_run_order_when_nothing_arrives(w):
    """With everything queued at once and an estimate equal to the real durations, the
    first plan's order (and start times) is the order the worker then takes."""
    arrivals, policy, loaded = w
    arrivals = [dataclasses.replace(a, at=0.0) for a in arrivals]
    duration = lambda task, loaded: GENERATE * task.work + (SWITCH if not loaded or loaded[0] != task.checkpoint else 0.0)  # noqa: E731
    predicted = []

    def first(p, queued, loaded, now, served):
        if not predicted:
            full = plan(queued, loaded, now, policy, served, estimate=duration)
            predicted.append(full)

    picks = simulate(arrivals, policy, loaded, duration=duration, on_plan=first)
    assert [t.task_id for t in predicted[0].order] == [p.task.task_id for p in picks]
    assert predicted[0].starts == pytest.approx({p.task.task_id: p.at for p in picks})


# ---- examples ----------------------------------------------------------------------------


def test_users_take_turns_least_recently_served_first():
    arrivals = [Arrival(0, "ann", "A") for _ in range(3)] + [Arrival(1, "bob", "A") for _ in range(2)]
    picks = simulate(arrivals, Policy())
    assert [p.task.owner for p in picks] == ["ann", "bob", "ann", "bob", "ann"]


def test_a_task_on_the_loaded_model_goes_first_within_the_window():
    # ann's B task would be next; bob's task on the loaded A runs first, then ann's
    arrivals = [Arrival(0, "ann", "B"), Arrival(0, "bob", "A")]
    picks = simulate(arrivals, Policy(max_overtaken=8), loaded=("A", None))
    assert [p.task.task_id for p in picks] == ["t001", "t000"]
    assert switches(picks) == 1


def test_a_task_is_overtaken_at_most_max_overtaken_times():
    # ann wants B; bob has a long row of tasks on the loaded A
    arrivals = [Arrival(0, "ann", "B")] + [Arrival(0, "bob", "A") for i in range(10)]
    picks = simulate(arrivals, Policy(max_overtaken=3, max_delay=1e9), loaded=("A", None))
    assert [p.task.owner for p in picks].index("ann") == 3


def test_max_delay_ends_the_grouping_even_below_max_overtaken():
    arrivals = [Arrival(0, "ann", "B")] + [Arrival(0, "bob", "A") for i in range(10)]
    # each of bob's tasks takes 4 s: after 12 s at the head, ann's task may not wait longer
    picks = simulate(arrivals, Policy(max_overtaken=8, max_delay=12.0), loaded=("A", None))
    assert [p.task.owner for p in picks].index("ann") == 3


def test_a_higher_priority_task_is_never_overtaken():
    arrivals = [Arrival(0, "ann", "B", priority=1), Arrival(0, "bob", "A")]
    picks = simulate(arrivals, Policy(), loaded=("A", None))
    assert [p.task.owner for p in picks] == ["ann", "bob"]


def test_max_overtaken_zero_never_groups():
    arrivals = [Arrival(0, "ann", "B"), Arrival(0, "bob", "A"), Arrival(0, "ann", "A")]
    picks = simulate(arrivals, Policy(max_overtaken=0), loaded=("A", None))
    assert [p.task.task_id for p in picks] == ["t000", "t001", "t002"]


def test_a_checkpoint_is_the_loaded_model_with_or_without_the_hash_webui_adds_at_its_first_load():
    # ann's task was queued before A's hash was known; webui's title has it once A is loaded
    arrivals = [Arrival(0, "ann", "B"), Arrival(0, "bob", "A.safetensors")]
    picks = simulate(arrivals, Policy(max_overtaken=8), loaded=("A.safetensors [0123456789]", None))
    assert [p.task.owner for p in picks] == ["bob", "ann"]
    assert matches(Queued("t", "ann", "A.safetensors [0123456789]", None, 0.0), ("A.safetensors", None))
    assert not matches(Queued("t", "ann", "A [v2].safetensors", None, 0.0), ("A.safetensors", None))
    assert checkpoint_key("A [v2].safetensors [abcdef0123]") == "A [v2].safetensors"  # only the hash goes


def test_a_vae_mismatch_is_not_the_loaded_model():
    arrivals = [Arrival(0, "ann", "B"), Arrival(0, "bob", "A", vae="other")]
    picks = simulate(arrivals, Policy(), loaded=("A", "mine"))
    assert [p.task.owner for p in picks] == ["ann", "bob"]


def test_grouping_cuts_switches_on_a_mixed_workload():
    rng = random.Random(7)
    arrivals = [Arrival(rng.randrange(60), f"u{rng.randrange(3)}", f"ck{rng.randrange(3)}") for _ in range(40)]
    fifo = simulate(arrivals, Policy(max_overtaken=0))
    grouped = simulate(arrivals, Policy())
    assert switches(grouped) < switches(fifo)
