"""Which queued task runs next, and the order of all of them: pure functions of the
light listing of queued tasks, the loaded model, the clock, the settings and each
user's last service time. No threads, no I/O: tests call `plan` directly.

The policy, in two layers:
1. Fair turns. Users with queued work take turns, the least recently served first
   (a user whose next task has a higher priority goes before). Within a user, their
   own order: priority, then the order they (or an admin) gave, then submission.
2. Fewer model switches. Among the next few tasks of that fair order, the first one
   on the loaded checkpoint (and VAE) may run instead of the fair head, but only if no
   task it would overtake has been overtaken `max_overtaken` times already, has waited
   `max_delay` seconds since it first became the fair head, or has a higher priority.
   So no task is ever overtaken more than `max_overtaken` times, nor held back more
   than `max_delay` beyond its fair turn."""

from __future__ import annotations

import bisect
import dataclasses
from typing import Callable, Dict, List, Optional, Sequence

from ..records.checkpoints import Model, model_key
from ..records.tasks import Queued

NEVER = float("-inf")


@dataclasses.dataclass(frozen=True)
class Policy:
    max_overtaken: int = 12
    max_delay: float = 120.0


@dataclasses.dataclass
class Plan:
    """The predicted run order. `overtaken` and `due` are what starting `order[0]` now
    changes in the scheduler's state; `starts` the expected seconds from now until each
    task starts (None without an estimator). `skip`: how many of `order` the worker has
    started since (`advanced`), so that a plan outlives the picks it foresaw."""

    order: List[Queued]
    overtaken: List[str]
    due: List[str]
    starts: Dict[str, float]
    ends: Dict[str, float] = dataclasses.field(default_factory=dict)  # expected seconds until each is done
    positions: Dict[str, int] = dataclasses.field(default_factory=dict)  # task_id -> 1-based place in order
    skip: int = 0

    def position(self, task_id: str) -> Optional[int]:
        """1-based place among the tasks not started yet; None if not among them."""
        place = self.positions.get(task_id)
        return place - self.skip if place is not None and place > self.skip else None

    def end(self, task_id: str) -> Optional[float]:
        """Expected seconds from the end of the running task until `task_id` is done."""
        if task_id not in self.ends:
            return None
        return self.ends[task_id] - (self.ends.get(self.order[self.skip - 1].task_id, 0.0) if self.skip else 0.0)

    def waiting(self, start: int = 0, stop: Optional[int] = None) -> List[Queued]:
        """The tasks not started yet, in run order (a slice of them)."""
        stop = len(self.order) - self.skip if stop is None else stop
        return self.order[self.skip + max(0, start): self.skip + max(0, stop)]

    def __len__(self) -> int:
        return len(self.order) - self.skip

    def advanced(self, task_id: str) -> Optional["Plan"]:
        """This plan after the worker started `task_id`, if that was its next task."""
        if self.skip < len(self.order) and self.order[self.skip].task_id == task_id:
            return dataclasses.replace(self, skip=self.skip + 1)
        return None


def matches(task: Queued, loaded: Optional[Model]) -> bool:
    """`loaded`: with its checkpoint as `checkpoint_key` gives it (model_key)."""
    if loaded is None or task.model != loaded[0]:
        return False
    return task.vae is None or task.vae == loaded[1]


def plan(queued: Sequence[Queued], loaded: Optional[Model], now: float, policy: Policy,
         served: Dict[str, float], estimate: Optional[Callable[[Queued, Optional[Model]], float]] = None,
         exact: int = 500, tail: bool = True) -> Plan:
    """The run order the worker will take if nothing changes. The first `exact` picks
    are simulated in full (fairness, grouping, bounds, the clock advancing by
    `estimate`); the rest follow plain round-robin, which is what grouping converges to
    far ahead, at a cost linear in the queue length."""
    window = _window_size(policy)
    loaded = model_key(loaded)
    lists = by_owner(queued)
    last = dict(served)
    rotation = sorted((_rank(owner, tasks[0], last), owner) for owner, tasks in lists.items())
    # the bookkeeping as this plan changes it; a task not in these has its stored values
    overtaken: Dict[str, int] = {}
    due: Dict[str, float] = {}
    order: List[Queued] = []
    starts: Dict[str, float] = {}
    ends: Dict[str, float] = {}
    clock, first_overtaken, first_due = now, [], []
    while rotation and len(order) < exact:
        fair = _window(rotation, lists, window)
        head = fair[0]
        if head.due_since is None and head.task_id not in due:
            due[head.task_id] = clock
            if not order:
                first_due.append(head.task_id)
        k = _grouped(fair, loaded, clock, policy, overtaken, due)
        chosen = fair[k]
        for skipped in fair[:k]:
            overtaken[skipped.task_id] = overtaken.get(skipped.task_id, skipped.overtaken) + 1
        if not order:
            first_overtaken = [t.task_id for t in fair[:k]]
        _take(chosen, rotation, lists, last, clock)
        order.append(chosen)
        starts[chosen.task_id] = clock - now
        if estimate is not None:
            clock += estimate(chosen, loaded)
            ends[chosen.task_id] = clock - now
        loaded = (chosen.model, chosen.vae if chosen.vae is not None else (loaded[1] if loaded else None))
    # the tail: round-robin rounds over what is left, in the rotation's order
    depth = 0
    while rotation and tail:
        for _, owner in rotation:
            tasks = lists[owner]
            if depth < len(tasks):
                task = tasks[depth]
                order.append(task)
                starts[task.task_id] = clock - now
                if estimate is not None:
                    clock += estimate(task, loaded)
                    ends[task.task_id] = clock - now
                loaded = (task.model, task.vae)
        depth += 1
        rotation = [(rank, owner) for rank, owner in rotation if depth < len(lists[owner])]
    return Plan(order=order, overtaken=first_overtaken, due=first_due, starts=starts if estimate else {}, ends=ends,
                positions={t.task_id: i for i, t in enumerate(order, start=1)})


def by_owner(queued: Sequence[Queued]) -> Dict[str, List[Queued]]:
    """Each owner's tasks in their own order; ties keep the listing's order. (A sort,
    not a partial one: the lists come nearly sorted, and timsort takes them in C.)"""
    lists: Dict[str, List[Queued]] = {}
    for task in queued:
        lists.setdefault(task.owner, []).append(task)
    for tasks in lists.values():
        tasks.sort(key=_own_order)
    return lists


def heads(lists: Dict[str, List[Queued]], policy: Policy, exact: int = 1) -> List[Queued]:
    """All that `plan(..., exact=exact, tail=False)` reads of `by_owner` lists: each
    owner's first `exact` picks plus one window. The same plan, whatever is queued."""
    keep = exact + _window_size(policy)
    return [task for tasks in lists.values() for task in tasks[:keep]]


def after_start(lists: Dict[str, List[Queued]], started: Plan, now: float, policy: Policy) -> Dict[str, List[Queued]]:
    """`by_owner` lists once the worker started `started.order[0]` (a plan with
    exact=1) at `now`, with what the store records along with it (Store.start:
    `overtaken`, `due`). All of these lie in `heads`: a list is changed there only,
    and a list without any of them is shared, not copied."""
    first = started.order[0].task_id
    touched = {first, *started.overtaken, *started.due}
    keep = 1 + _window_size(policy)
    out = dict(lists)
    for owner, tasks in lists.items():
        head = tasks[:keep]
        if any(t.task_id in touched for t in head):
            out[owner] = [_bookkept(t, started, now) for t in head if t.task_id != first] + tasks[keep:]
            if not out[owner]:
                del out[owner]
    return out


def _bookkept(task: Queued, started: Plan, now: float) -> Queued:
    if task.task_id in started.overtaken:
        task = dataclasses.replace(task, overtaken=task.overtaken + 1)
    if task.task_id in started.due and task.due_since is None:
        task = dataclasses.replace(task, due_since=now)
    return task


def _window_size(policy: Policy) -> int:
    """How many tasks of the fair order grouping looks at."""
    return max(1, policy.max_overtaken + 1)


def _own_order(task: Queued) -> tuple:
    return (-task.priority, task.sort_order)


def _rank(owner: str, head: Queued, last: Dict[str, float]) -> tuple:
    # higher priority first, then least recently served, then who has waited longest
    return (-head.priority, last.get(owner, NEVER), head.sort_order, owner)


def _window(rotation: list, lists: Dict[str, List[Queued]], size: int) -> List[Queued]:
    """The first `size` tasks of the fair order: round r takes each user's r-th task."""
    fair: List[Queued] = []
    depth = 0
    while len(fair) < size:
        added = False
        for _, owner in rotation:
            tasks = lists[owner]
            if depth < len(tasks):
                fair.append(tasks[depth])
                added = True
                if len(fair) == size:
                    break
        if not added:
            break
        depth += 1
    return fair


def _grouped(fair: List[Queued], loaded: Optional[Model], now: float, policy: Policy,
             overtaken: Dict[str, int], due: Dict[str, float]) -> int:
    """Index in `fair` of the task to run: the first on the loaded model that may
    overtake everything before it, else 0 (the fair head)."""
    if loaded is None or matches(fair[0], loaded):
        return 0
    highest = fair[0].priority
    for k in range(1, len(fair)):
        blocker = fair[k - 1]
        highest = max(highest, blocker.priority)
        since = due.get(blocker.task_id, blocker.due_since if blocker.due_since is not None else now)
        if overtaken.get(blocker.task_id, blocker.overtaken) >= policy.max_overtaken or now - since >= policy.max_delay:
            return 0
        if matches(fair[k], loaded) and fair[k].priority >= highest:
            return k
    return 0


def _take(task: Queued, rotation: list, lists: Dict[str, List[Queued]], last: Dict[str, float], now: float) -> None:
    owner = task.owner
    tasks = lists[owner]
    tasks.remove(task)
    index = next(i for i, (_, o) in enumerate(rotation) if o == owner)
    del rotation[index]
    last[owner] = now
    if tasks:
        bisect.insort(rotation, (_rank(owner, tasks[0], last), owner))
