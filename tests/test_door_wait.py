"""A request through the door waits for its task's final event from the event hub,
not by reading the task over and over: while the task runs, the store is not read."""

import asyncio
import types

from webui_taskqueue.push.events import EventHub
from webui_taskqueue.api.routes.native import _wait
from webui_taskqueue.store.memory import MemoryStore
from webui_taskqueue.records.tasks import Task, TaskStatus, TaskType
from webui_taskqueue.records.users import Role, User


class CountingStore(MemoryStore):
    def __init__(self):
        super().__init__()
        self.reads = 0

    def get(self, task_id):
        self.reads += 1
        return super().get(task_id)


class Worker:
    """The worker's side the hub uses: nothing runs; tells the hub of a finish."""

    def __init__(self):
        self.listeners = []

    def running_id(self):
        return None

    def progress(self, task_id):
        return None

    def on_finished(self, listener):
        self.listeners.append(listener)


class Plan:
    def waiting(self, start, count):
        return []


def setup():
    store, worker = CountingStore(), Worker()
    planner = types.SimpleNamespace(current=lambda plan=Plan(): plan)
    hub = EventHub(store, worker, planner, tick=3600)  # it hands out events only when woken
    store.add(Task(task_id="t1", type=TaskType.TXT2IMG, owner="ann", checkpoint="c", params={}, created_at=1.0))
    store.start("t1", 2.0)
    store.reads = 0
    cancelled = []
    queue = types.SimpleNamespace(interrupt=lambda user, task_id: cancelled.append(task_id))
    native = types.SimpleNamespace(services=types.SimpleNamespace(events=hub), store=store, queue=queue)
    return store, worker, hub, native, cancelled


def client_leaves_when():
    """(event, receive): the ASGI receive of a client that disconnects once the event is set."""
    gone = asyncio.Event()

    async def receive():
        await gone.wait()
        return {"type": "http.disconnect"}

    return gone, receive


async def until(condition):
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("never")


def test_the_door_waits_without_reading_the_task_and_answers_when_it_ends():
    store, worker, hub, native, _ = setup()
    gone, receive = client_leaves_when()

    async def scenario():
        waiting = asyncio.ensure_future(_wait(native, User("ann", Role.USER), "t1", receive))
        await until(lambda: hub.streams() == 1 and store.reads == 1)  # subscribed, then read once
        reads = store.reads
        for _ in range(200):  # the event loop turns; a poll would read the task meanwhile
            await asyncio.sleep(0.001)
        assert store.reads == reads
        finished = store.finish("t1", TaskStatus.DONE, 3.0, images=[], infotexts=[])
        for listener in worker.listeners:  # as the worker does once it recorded the task
            listener(finished)
        task = await asyncio.wait_for(waiting, 30)
        gone.set()
        return task

    try:
        task = asyncio.run(scenario())
    finally:
        hub.close()
    assert task.status == TaskStatus.DONE
    assert hub.streams() == 0  # the door's subscription ended with it


def test_a_client_that_leaves_stops_the_wait():
    store, worker, hub, native, cancelled = setup()
    gone, receive = client_leaves_when()

    async def scenario():
        waiting = asyncio.ensure_future(_wait(native, User("ann", Role.USER), "t1", receive))
        await until(lambda: hub.streams() == 1)
        gone.set()
        return await asyncio.wait_for(waiting, 30)

    try:
        assert asyncio.run(scenario()) is None
    finally:
        hub.close()
    assert cancelled == []  # it runs: left to finish
