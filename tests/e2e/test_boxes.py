"""Boxes on the page: with several boxes sharing a queue (stand-ins on one real
redis-server), each task card names the box that runs or ran its task, and the queue
view lists every box with its loaded model and the task it runs. With one box, the
cards name none."""

import pytest
from redis_server import RedisServer, require

from .conftest import expect


@pytest.fixture
def two_boxes(start_server, tmp_path):
    require()
    redis = RedisServer(tmp_path / "redis").start()
    yield [start_server(step_seconds=0.1, redis_url=redis.url, redis_prefix="e2e-boxes:", box=name)
           for name in ("box-a", "box-b")]
    redis.stop()


def test_cards_and_the_queue_view_show_which_box_runs_what(two_boxes, make_ui):
    a = two_boxes[0]
    api = a.client()
    ui = make_ui(a.url).open("queue")
    page = ui.page
    boxes = page.locator("#box-list li.box")
    expect(boxes).to_have_count(2, timeout=20000)  # the other box's heartbeat has come
    expect(page.locator("#boxes-panel")).to_be_visible()
    expect(boxes.locator(".box-name")).to_have_text(["box-a", "box-b"])
    expect(page.locator('li.box[data-box="box-a"]')).to_contain_text("(this server)")

    sent = {api.submit({"prompt": f"long on {model}", "width": 64, "height": 64, "steps": 150, "checkpoint": model}):
            model for model in ("modelA", "modelB")}
    running = {task_id: api.wait(task_id, until={"running"}) for task_id in sent}
    assert {t["box"] for t in running.values()} == {"box-a", "box-b"}
    for task_id, task in running.items():  # each box: its model, and the task it runs
        row = page.locator(f'li.box[data-box="{task["box"]}"]')
        expect(row.locator(".badge")).to_have_text("Busy", timeout=20000)
        expect(row.locator(".box-model")).to_have_text(f"Loaded: {sent[task_id]}", timeout=20000)
        expect(row.locator(".box-task")).to_contain_text(f"Running default's task {task_id[:8]}")
        expect(row.locator(".box-task")).to_contain_text(f"long on {sent[task_id]}")
        # the queue's running row says where it runs
        expect(page.locator(f'li.qrow[data-task-id="{task_id}"] .meta')).to_contain_text(f"on {task['box']}")
    ui.shot("boxes-1-queue-view")

    page.goto(f"{a.url}/queue/#create")
    for task_id, task in running.items():
        expect(ui.card(task_id).locator(".meta")).to_contain_text(f"on {task['box']}", timeout=20000)
    ui.shot("boxes-2-cards")
    for task_id in running:  # (the page's box stops both, its own and the other box's)
        assert api.post(f"/queue/v1/tasks/{task_id}/interrupt").status_code == 200


def test_one_box_cards_name_no_box(ui, api):
    task_id = api.submit({"prompt": "alone", "width": 64, "height": 64, "steps": 2})
    assert api.wait(task_id)["status"] == "done"
    page = ui.open().page
    card = ui.card(task_id)
    expect(card.locator(".meta")).to_contain_text("txt2img")
    expect(card.locator(".meta")).not_to_contain_text(" · on ")
    page.goto(f"{ui.url}/queue/#queue")
    # the open queue's one user is an admin: the panel shows the one box, idle, with its model
    box = page.locator("#box-list li.box")
    expect(box).to_have_count(1)
    expect(box.locator(".badge")).to_have_text("Idle")
    expect(box.locator(".box-model")).to_have_text("Loaded: modelA")
    expect(box).to_contain_text("(this server)")
