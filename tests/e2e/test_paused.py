"""The queue pauses itself after failures in a row (here: one, a task out of GPU memory,
the stand-in's prompt word "oom"); the page says why, on the task list and in the queue
view, and the admin's Resume clears it."""

from .conftest import expect


def test_the_page_says_why_the_queue_paused_itself_and_resume_clears_it(start_server, make_ui):
    server = start_server(step_seconds=0.01)
    api = server.client()
    api.set_options(task_queue_pause_after_failures=1)
    ui = make_ui(server.url).open()
    page = ui.page

    failing = ui.submit(prompt="oom on purpose", steps=4, width=64, height=64)["task_id"]
    card = ui.card(failing)
    expect(card.locator(".badge")).to_have_text("Failed", timeout=20000)
    expect(card.locator(".state-text")).to_contain_text("the GPU ran out of memory")
    waiting = ui.submit(prompt="a lighthouse", steps=4, width=64, height=64)["task_id"]

    notice = page.locator("#paused-notice")
    expect(notice).to_be_visible(timeout=15000)
    expect(notice).to_contain_text("The queue is paused")
    reason = page.locator("#paused-reason")
    expect(reason).to_contain_text("Reason: paused itself after a task failed; the last error: the GPU ran out of memory")
    expect(reason).to_contain_text("CUDA out of memory")
    expect(ui.card(waiting).locator(".state-text")).to_contain_text("paused")
    ui.shot("paused-1-reason")
    assert api.task(waiting)["status"] == "queued"

    page.click('a[data-view="queue"]')
    why = page.locator("#queue-paused-reason")
    expect(why).to_contain_text("Reason: paused itself after a task failed", timeout=10000)
    expect(page.locator("#queue-state")).to_have_text("Paused")
    ui.shot("paused-2-queue-view")

    page.get_by_role("button", name="Resume queue").click()
    expect(page.locator("#queue-state")).to_have_text("Running")
    expect(why).to_be_hidden()
    assert api.wait(waiting)["status"] == "done"
    page.click('a[data-view="create"]')
    expect(ui.card(waiting).locator(".badge")).to_have_text("Done", timeout=20000)
    expect(notice).to_be_hidden()
    health = api.get("/queue/v1/health").json()
    assert (health["paused"], health["paused_reason"], health["failures_in_a_row"]) == (False, None, 0)
