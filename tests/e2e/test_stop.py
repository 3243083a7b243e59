"""One Stop button per task: it interrupts a running task (and only that one) and
cancels a queued one; the card shows what the server confirms."""

import re

from .conftest import expect

from contract.client import QueueClient


def test_interrupt_a_running_task_leaves_the_next_one_alone(start_server, make_ui):
    server = start_server(step_seconds=0.1)
    api = QueueClient(server.url, real=False)
    ui = make_ui(server.url).open()
    long = ui.submit(prompt="a very long one", steps=150, width=64, height=64)["task_id"]
    after = ui.submit(prompt="the next one", steps=5, width=64, height=64)["task_id"]
    card = ui.card(long)
    expect(card.locator(".state-text")).to_contain_text("Step", timeout=20000)
    expect(ui.card(after).locator(".state-text")).to_have_text("1 ahead of you")

    stop = card.get_by_role("button", name="Stop this task")
    stop.click()
    # the answer says "running" while the step ends, or "interrupted" when the worker was quicker
    expect(card.locator(".msg")).to_have_text(re.compile(r"^(Stopping after the current step…|Stopped\.)$"))
    expect(card.locator('button[data-mode="running"]:not([disabled])')).to_have_count(0)  # no second Stop
    ui.shot("stop-1-stopping")
    expect(card.locator(".badge")).to_have_text("Interrupted", timeout=15000)
    expect(card.locator(".msg")).to_have_text("Stopped.")
    assert api.task(long)["status"] == "interrupted"

    # the task behind it was not touched: it runs to the end
    expect(ui.card(after).locator(".badge")).to_have_text("Done", timeout=20000)
    assert api.task(after)["status"] == "done"
    ui.shot("stop-2-interrupted")


def test_cancel_a_queued_task(ui, api):
    api.post("/queue/v1/queue/pause")
    ui.open()
    task_id = ui.submit(prompt="never mind", steps=5, width=64, height=64)["task_id"]
    card = ui.card(task_id)
    expect(card.locator(".badge")).to_have_text("Queued")
    cancel = card.get_by_role("button", name="Cancel this task")
    cancel.focus()
    ui.page.keyboard.press("Enter")  # keyboard works as well as a click
    expect(card.locator(".badge")).to_have_text("Cancelled")
    expect(card.locator(".msg")).to_have_text("Cancelled.")
    expect(card.locator(".state-text")).to_have_text("Cancelled before it started")
    assert api.task(task_id)["status"] == "cancelled"

    # a final task: its button removes it (two steps), on the server too
    card.get_by_role("button", name="Remove this task").click()
    confirm = card.get_by_role("button", name="Really remove? Press again to confirm.")
    expect(confirm).to_have_text("Really remove?")
    confirm.click()
    expect(card).to_have_count(0)
    assert api.get(f"/queue/v1/tasks/{task_id}").status_code == 404
