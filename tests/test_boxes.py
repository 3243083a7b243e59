"""boxes.py: what each box says of itself, and who sees what of the boxes; the Redis
store carrying that record between boxes; a claim sent twice by the Redis client."""


import pytest

from webui_taskqueue.boxes.view import Boxes, ThisBox
from webui_taskqueue.store.memory import MemoryStore
from webui_taskqueue.records.tasks import InvalidTransition, Task, TaskStatus, TaskType
from webui_taskqueue.records.users import Role, User

ADMIN, ANN, BOB = User("root", Role.ADMIN), User("ann"), User("bob")


class FakeWorker:
    def __init__(self, running=None, started=0):
        self.running, self.started = running, started

    def running_id(self):
        return self.running

    def holder(self):
        return self.started, self.running


class FakePlanner:
    def __init__(self, loaded=None):
        self.model = loaded

    def loaded(self):
        return self.model


def task(task_id, owner):
    return Task(task_id=task_id, type=TaskType.TXT2IMG, owner=owner, checkpoint="modelA", params={}, created_at=1.0)


def test_a_box_says_the_model_the_scheduler_counts_as_loaded_and_its_task():
    this = ThisBox("gpu1", FakeWorker("t1", started=3), FakePlanner(("modelB [abc]", None)), clock=lambda: 5.0)
    assert this.describe() == {"checkpoint": "modelB [abc]", "running": "t1", "started_at": 5.0, "tasks_started": 3}
    idle = ThisBox("gpu1", FakeWorker(), FakePlanner(None), clock=lambda: 5.0)
    assert idle.describe()["checkpoint"] is None and idle.describe()["running"] is None


def test_one_box_on_a_store_of_one_process_lists_itself_live():
    store = MemoryStore()
    store.add(task("t1", "ann"))
    store.start("t1", 2.0, box="gpu1")
    worker = FakeWorker("t1", started=1)
    boxes = Boxes(store, ThisBox("gpu1", worker, FakePlanner(("modelA", None)), clock=lambda: 9.0))
    (seen,) = boxes.listed(ADMIN)
    assert seen == {"name": "gpu1", "this": True, "checkpoint": "modelA", "busy": True, "running": "t1", "mine": False,
                    "owner": "ann", "started_at": 9.0, "tasks_started": 1, "seen_at": 9.0, "url": None}
    worker.running = None  # read live, not a heartbeat old
    assert boxes.listed(ADMIN)[0]["busy"] is False


def test_a_user_sees_names_models_and_only_their_own_task():
    store = MemoryStore()
    store.add(task("t1", "ann"))
    store.start("t1", 2.0, box="gpu1")
    boxes = Boxes(store, ThisBox("gpu1", FakeWorker("t1"), FakePlanner(("modelA", None))))
    (ann,), (bob,) = boxes.listed(ANN), boxes.listed(BOB)
    assert (ann["running"], ann["mine"], ann["busy"], ann["checkpoint"]) == ("t1", True, True, "modelA")
    assert (bob["running"], bob["mine"], bob["busy"], bob["checkpoint"]) == (None, False, True, "modelA")
    for seen in (ann, bob):  # whose task, and the box's own figures, are for admins
        assert "owner" not in seen and "tasks_started" not in seen and "url" not in seen


def test_the_heartbeat_carries_what_a_box_says_of_itself_to_the_others(boxes_of_one_queue):
    a, b = boxes_of_one_queue("a"), boxes_of_one_queue("b")
    a._describe = lambda: {"checkpoint": "modelB", "running": "t9"}  # (as attach sets it)
    a.beat(4.0)
    assert b.boxes()["a"] == {"checkpoint": "modelB", "running": "t9", "at": 4.0}
    seen = {box["name"]: box for box in Boxes(b, ThisBox("b", FakeWorker(), FakePlanner(("modelA", None)))).listed(BOB)}
    assert seen["a"]["checkpoint"] == "modelB" and seen["a"]["busy"] and seen["a"]["running"] is None
    assert seen["b"]["this"] and seen["b"]["checkpoint"] == "modelA" and not seen["b"]["busy"]


def test_a_claim_sent_again_after_a_lost_answer_is_this_boxs_own_and_no_one_elses(boxes_of_one_queue):
    """The Redis client sends a command again when the connection drops before its
    answer: the claim that ran reads as taken by this box, not as lost."""
    a, b = boxes_of_one_queue("a"), boxes_of_one_queue("b")
    a.add(task("t1", "ann"))
    first = a.start("t1", 2.0, box="a")
    again = a.start("t1", 2.0, box="a")
    assert again.status == TaskStatus.RUNNING and again.box == "a" and again.started_at == first.started_at
    with pytest.raises(InvalidTransition):  # another box, or a later claim, finds it taken
        b.start("t1", 2.0, box="b")
    with pytest.raises(InvalidTransition):
        a.start("t1", 3.0, box="a")
