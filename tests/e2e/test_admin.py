"""The queue view: the run order with owners, pause/resume, stop any task. In open
single-user mode the one user is the admin."""

import re

from .conftest import expect


def test_admin_pause_resume_and_stop_any(ui, api):
    page = ui.open("queue").page
    state = page.locator("#queue-state")
    expect(state).to_have_text("Running")
    expect(page.locator("#queue-summary")).to_have_text("The queue is empty.")

    page.get_by_role("button", name="Pause queue").click()
    expect(state).to_have_text("Paused")
    expect(page.get_by_role("button", name="Resume queue")).to_have_attribute("aria-pressed", "true")
    assert api.get("/queue/v1/health").json()["paused"] is True

    ids = [api.submit({"prompt": f"task {i}", "width": 64, "height": 64, "steps": 3,
                       "checkpoint": "modelB" if i == 1 else "modelA"}) for i in range(3)]
    rows = page.locator("li.qrow")
    expect(rows).to_have_count(3, timeout=10000)
    order = rows.evaluate_all("els => els.map(e => e.dataset.taskId)")
    assert order == [t["task_id"] for t in api.get("/queue/v1/queue").json()["data"]]
    assert sorted(order) == sorted(ids)
    expect(rows.locator(".pos")).to_have_text(["1", "2", "3"])
    expect(rows.locator(".owner")).to_have_text(["default"] * 3)
    expect(page.locator("#queue-summary")).to_have_text("3 queued")
    ui.shot("admin-1-paused")

    second = rows.nth(1)
    stopped = second.get_attribute("data-task-id")
    second.get_by_role("button", name="Cancel the task of default").click()
    expect(page.locator(f'li.qrow[data-task-id="{stopped}"]')).to_have_count(0, timeout=10000)
    assert api.task(stopped)["status"] == "cancelled"
    expect(rows.locator(".pos")).to_have_text(["1", "2"])

    page.get_by_role("button", name="Resume queue").click()
    expect(state).to_have_text("Running")
    assert api.get("/queue/v1/health").json()["paused"] is False
    expect(page.locator("#queue-summary")).to_have_text("The queue is empty.", timeout=20000)
    for task_id in ids:
        if task_id != stopped:
            assert api.wait(task_id)["status"] == "done"


def test_admin_stops_a_running_task(start_server, make_ui):
    server = start_server(step_seconds=0.1)
    ui = make_ui(server.url).open("queue")
    api = server.client()
    running = api.submit({"prompt": "long", "width": 64, "height": 64, "steps": 150})
    queued = api.submit({"prompt": "short", "width": 64, "height": 64, "steps": 3})
    page = ui.page
    row = page.locator(f'li.qrow[data-task-id="{running}"]')
    expect(row.locator(".pos")).to_have_text("▶", timeout=10000)
    expect(row.locator(".state-text")).to_contain_text("Step", timeout=10000)
    expect(page.locator(f'li.qrow[data-task-id="{queued}"] .state-text')).to_have_text("1 ahead of you")
    ui.shot("admin-2-running")
    row.get_by_role("button", name="Stop the task of default").click()
    said = re.compile(r"^(Stopping after the current step…|Stopped\.)$")  # "Stopped.": the worker was quicker
    expect(row.locator(".msg")).to_have_text(said, timeout=15000)
    assert api.wait(running)["status"] == "interrupted"
    assert api.wait(queued)["status"] == "done"
