"""Any box answers for any task: stand-in boxes sharing one queue in a real
redis-server, over real HTTP. A task runs on whichever box claims it; the tests ask
the other box about it: its progress, its live preview, its images and inputs, its
interrupt, its events."""

import base64
import io
import json
import os
import threading
import time

import httpx
import pytest
from PIL import Image

ADMIN_KEY = "tq_box-answers-admin-key-0123456"
PREFIX = "answers:"
LONG = {"prompt": "a slow lighthouse", "steps": 80, "width": 64, "height": 64}  # 8 s at 0.1 s a step


def start_boxes(standin_factory, redis, names=("box-a", "box-b"), **env):
    boxes = []
    for name in names:
        box = standin_factory(step_seconds=0.1, admin_key=ADMIN_KEY, redis_url=redis.url, redis_prefix=PREFIX, box=name)
        box.env.update(env)
        boxes.append(box.start())
    return boxes


@pytest.fixture
def boxes(standin_factory, redis):
    return start_boxes(standin_factory, redis)


def running_on(boxes, payload, client=None):
    """Submit `payload`; once it runs: (task, the box running it, another box)."""
    client = client or boxes[0].client()
    task_id = client.submit(payload)
    task = client.wait(task_id, until={"running"}, timeout=60)
    here = next(b for b in boxes if b.env["TASK_QUEUE_BOX"] == task["box"])
    return task, here, next(b for b in boxes if b is not here)


def test_another_box_shows_the_running_tasks_progress(boxes):
    task, a, b = running_on(boxes, LONG)
    seen = []
    deadline = time.monotonic() + 30
    while len({p["step"] for p in seen}) < 3 and time.monotonic() < deadline:
        on_b = b.client().task(task["task_id"])  # B first: what B shows was published by A before A is read
        on_a = a.client().task(task["task_id"])
        assert on_b["status"] == "running" and on_b["box"] == a.env["TASK_QUEUE_BOX"]
        if on_b["progress"] is not None:
            assert set(on_b["progress"]) == set(on_a["progress"])
            assert on_b["progress"]["steps"] == on_a["progress"]["steps"] == 80
            assert 0 <= on_a["progress"]["step"] - on_b["progress"]["step"] <= 20  # a tick (5 steps) behind, on a busy machine more
            seen.append(on_b["progress"])
        time.sleep(0.2)
    steps = [p["step"] for p in seen]
    assert len(set(steps)) >= 3 and steps == sorted(steps), steps  # it moves, never backwards
    assert any(p["eta_seconds"] is not None for p in seen)
    b.client().post(f"/queue/v1/tasks/{task['task_id']}/interrupt")


def test_another_box_shows_the_live_preview_and_only_while_it_runs(boxes):
    task, a, b = running_on(boxes, LONG)
    url = f"/queue/v1/tasks/{task['task_id']}/preview"
    deadline = time.monotonic() + 20
    while True:
        r = b.client().get(url)
        if r.status_code == 200 or time.monotonic() > deadline:
            break
        assert r.status_code == 204  # asked for: the running box publishes it within a tick
        time.sleep(0.2)
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg", r.text
    assert Image.open(io.BytesIO(r.content)).format == "JPEG"
    tag = r.headers["etag"]
    same = b.client().get(url, headers={"If-None-Match": tag})
    assert same.status_code in (200, 304)
    if same.status_code == 200:  # a newer one came meanwhile
        assert same.headers["etag"] != tag
    b.client().post(f"/queue/v1/tasks/{task['task_id']}/interrupt")
    b.client().wait(task["task_id"])
    assert b.client().get(url).status_code == 204


def test_interrupt_on_another_box_stops_that_task_and_only_its_owner_may(boxes):
    admin = boxes[0].client()
    ann, bob = admin.add_user("ann"), admin.add_user("bob")
    task, a, b = running_on(boxes, LONG, client=ann)
    ann_b, bob_b = b.client().as_user(ann.key), b.client().as_user(bob.key)
    assert bob_b.post(f"/queue/v1/tasks/{task['task_id']}/interrupt").status_code == 404  # not bob's
    asked = time.monotonic()
    r = ann_b.post(f"/queue/v1/tasks/{task['task_id']}/interrupt")
    assert r.status_code == 200, r.text
    ended = ann_b.wait(task["task_id"], timeout=30)
    assert time.monotonic() - asked < 3  # within a tick of the running box, and a step
    assert ended["status"] == "interrupted" and ended["error"] is None and ended["box"] == a.env["TASK_QUEUE_BOX"]
    assert ann_b.post(f"/queue/v1/tasks/{task['task_id']}/interrupt").status_code == 409  # final
    after = ann.submit({"prompt": "the next one", "steps": 3, "width": 64, "height": 64})
    assert ann.wait(after, timeout=60)["status"] == "done"  # the interrupt did not touch it


def test_ahead_counts_the_tasks_running_on_every_box(boxes):
    """Both boxes run a long task: a task queued behind them has both ahead of it,
    asked on either box."""
    client = boxes[0].client()
    long = [client.submit(LONG) for _ in range(2)]
    running = [client.wait(task_id, until={"running"}, timeout=60) for task_id in long]
    assert {t["box"] for t in running} == {"box-a", "box-b"}
    waiting = client.submit({**LONG, "steps": 2})
    deadline = time.monotonic() + 10
    while True:
        seen = [box.client().task(waiting) for box in boxes]
        if all(t["status"] == "queued" and t["ahead"] == 2 for t in seen) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert [(t["position"], t["ahead"]) for t in seen] == [(1, 2), (1, 2)], seen
    for task_id in long + [waiting]:
        client.post(f"/queue/v1/tasks/{task_id}/interrupt")


def test_a_queued_task_is_cancelled_from_another_box(boxes):
    a, b = (box.client() for box in boxes)
    assert a.post("/queue/v1/queue/pause").status_code == 200
    try:
        task_id = a.submit({"prompt": "waiting", "steps": 3, "width": 64, "height": 64})
        r = b.post(f"/queue/v1/tasks/{task_id}/interrupt")
        assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
        assert a.task(task_id)["status"] == "cancelled"
    finally:
        a.post("/queue/v1/queue/resume")


def init_image():
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 90)).save(out, format="PNG")
    return out.getvalue()


def made_on_each_box(boxes, count=4):
    """Tasks until each box has made one: {box name: done task}."""
    client, made = boxes[0].client(), {}
    for i in range(count * 4):
        ids = [client.submit({"prompt": f"a house {i}-{j}", "seed": j, "steps": 4, "width": 64, "height": 64})
               for j in range(count)]
        for task_id in ids:
            task = client.wait(task_id, timeout=120)
            assert task["status"] == "done"
            made.setdefault(task["box"], task)
        if len(made) == len(boxes):
            return made
    raise AssertionError(f"only {sorted(made)} ran tasks")


def test_images_and_thumbnails_made_on_one_box_come_through_another(boxes):
    made = made_on_each_box(boxes)
    for name, task in made.items():
        a = next(box for box in boxes if box.env["TASK_QUEUE_BOX"] == name)
        b = next(box for box in boxes if box is not a)
        on_a, on_b = a.client().get(task["images"][0]), b.client().get(task["images"][0])
        assert on_b.status_code == 200, on_b.text
        assert on_b.headers["content-type"] == "image/png" and on_b.content == on_a.content
        assert on_b.headers["cache-control"] == on_a.headers["cache-control"]
        thumb = b.client().get(task["thumbnails"][0])
        assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
        assert Image.open(io.BytesIO(thumb.content)).size == (64, 64)
        signed = httpx.get(b.url + task["images"][0])  # the signed link, without a key, through b
        assert signed.status_code == 200 and signed.content == on_a.content
    # deleted through the other box: the box that made its images deletes them
    name, task = sorted(made.items())[1]
    maker = next(box for box in boxes if box.env["TASK_QUEUE_BOX"] == name)
    folder = os.path.join(maker.data_dir, "task-queue", "images", task["task_id"])
    assert os.path.isdir(folder)
    other = next(box for box in boxes if box is not maker)
    assert other.client().delete(f"/queue/v1/tasks/{task['task_id']}").status_code == 204
    deadline = time.monotonic() + 30
    while os.path.isdir(folder) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not os.path.isdir(folder)
    # the box that made them stops: the other says so, and where they are
    name, task = sorted(made.items())[0]
    a = next(box for box in boxes if box.env["TASK_QUEUE_BOX"] == name)
    b = next(box for box in boxes if box is not a)
    a.stop()
    r = b.client().get(task["images"][0])
    assert r.status_code == 404 and f"box {name}, which is not running now" in r.json()["detail"], r.text


def test_webui_s_own_txt2img_through_the_door_answers_with_a_task_run_on_another_box(boxes):
    """The door is open on the box that runs a long task: a native call there queues a
    task that the other box runs, and the answer still carries its images and webui's
    info, as the box that ran it made them."""
    long, here, _ = running_on(boxes, LONG)
    http = httpx.Client(base_url=here.url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=120)
    assert http.post("/sdapi/v1/options", json={"task_queue_native_door": True}).status_code == 200
    r = http.post("/sdapi/v1/txt2img", json={"prompt": "through the door", "steps": 3, "width": 64, "height": 64,
                                             "seed": 11})
    assert r.status_code == 200, r.text
    answer = r.json()
    (task,) = [t for t in here.client().get("/queue/v1/tasks").json()["data"] if t["task_id"] != long["task_id"]]
    assert task["status"] == "done" and task["box"] != here.env["TASK_QUEUE_BOX"]  # run on the other box
    info = json.loads(answer["info"])
    assert info["prompt"] == "through the door" and info["seed"] == 11, info
    made = here.client().get(task["images"][0]).content  # fetched from the box that made it
    assert len(answer["images"]) == 1 and base64.b64decode(answer["images"][0]) == made
    here.client().post(f"/queue/v1/tasks/{long['task_id']}/interrupt")


def test_an_img2img_input_comes_through_any_box(boxes):
    data = init_image()
    a, b = (box.client() for box in boxes)
    task_id = a.submit({"init_images": [base64.b64encode(data).decode()], "steps": 3, "width": 64, "height": 64,
                        "denoising_strength": 0.5}, kind="img2img")
    task = a.wait(task_id, timeout=60)
    r = b.get(task["inputs"][0])
    assert r.status_code == 200 and r.content == data


def test_with_a_shared_images_folder_every_box_serves_from_it_even_when_the_maker_stopped(standin_factory, redis,
                                                                                         tmp_path):
    shared = tmp_path / "shared-images"
    boxes = start_boxes(standin_factory, redis, TASK_QUEUE_IMAGES_DIR=str(shared))
    made = made_on_each_box(boxes)
    for task in made.values():
        assert (shared / task["task_id"] / "0.png").is_file()
    name, task = sorted(made.items())[0]
    maker = next(box for box in boxes if box.env["TASK_QUEUE_BOX"] == name)
    other = next(box for box in boxes if box is not maker)
    maker.stop()
    r = other.client().get(task["images"][0])
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert not any(p.name == ".partial" for p in shared.iterdir())  # each box stages its writes apart


class Stream:
    """An event stream read on a thread of its own, as an admin sees everyone's."""

    def __init__(self, box):
        self.events, self.box = [], box
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
        with httpx.stream("GET", self.box.url + "/queue/v1/events?all=true", headers=headers, timeout=60) as r:
            kind = None
            for line in r.iter_lines():
                if self._done.is_set():
                    return
                if line.startswith("event: "):
                    kind = line[len("event: "):]
                elif line.startswith("data: ") and kind:
                    self.events.append((kind, json.loads(line[len("data: "):])))

    def of(self, task_id, kind):
        return [data for k, data in list(self.events) if k == kind and data.get("task_id") == task_id]

    def close(self):
        self._done.set()


def finished(client, stream, task_id):
    client.wait(task_id, timeout=60)
    deadline = time.monotonic() + 10
    while not stream.of(task_id, "final") and time.monotonic() < deadline:
        time.sleep(0.1)


def test_the_event_stream_of_any_box_tells_of_tasks_running_on_another(boxes):
    task, a, b = running_on(boxes, {**LONG, "steps": 40})
    on_b = Stream(b)  # the only stream: nobody follows the task on the box running it
    try:
        finished(a.client(), on_b, task["task_id"])
        for kind in ("started", "progress", "preview", "final"):  # started: in the stream's opening snapshot
            assert on_b.of(task["task_id"], kind), f"no {kind} event on the other box"
        marks = [(p["job_no"], p["step"]) for p in on_b.of(task["task_id"], "progress")]
        assert len(marks) >= 3 and marks == sorted(marks) and len(set(marks)) == len(marks)
    finally:
        on_b.close()


def test_streams_on_two_boxes_following_one_task_see_each_live_event_once(boxes):
    streams = [Stream(box) for box in boxes]
    try:
        time.sleep(1.0)  # both streams are open
        task, a, b = running_on(boxes, {**LONG, "steps": 40})
        finished(a.client(), streams[1], task["task_id"])
        finished(a.client(), streams[0], task["task_id"])
        for stream in streams:  # from the shared log, whichever box wrote them
            for kind in ("submitted", "started", "final"):
                assert len(stream.of(task["task_id"], kind)) == 1, (stream.box.env["TASK_QUEUE_BOX"], kind)
        seen = [[(p["job_no"], p["step"]) for p in stream.of(task["task_id"], "progress")] for stream in streams]
        assert seen[0] == seen[1]  # one log, each event logged by one box
        marks = seen[0]
        assert len(marks) >= 3 and marks == sorted(marks) and len(set(marks)) == len(marks)  # each step once
        assert len(marks) <= 40 / 5 + 3  # 4 s of steps, at most twice a second
    finally:
        for stream in streams:
            stream.close()
