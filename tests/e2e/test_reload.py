"""Reload the page (or come back tomorrow): the tasks, their states, the gallery and
the form's last values are all rebuilt from the server and localStorage."""

import re

from .conftest import expect


def test_reload_keeps_everything(ui, api):
    page = ui.open().page
    done = ui.submit(prompt="finished before the reload", width=64, height=64, steps=4, seed=1234)["task_id"]
    expect(ui.card(done).locator(".badge")).to_have_text("Done", timeout=20000)
    api.post("/queue/v1/queue/pause")
    waiting = ui.submit(prompt="still waiting", width=64, height=64, steps=4)["task_id"]
    expect(ui.card(waiting).locator(".badge")).to_have_text("Queued")
    # typed but not sent
    page.fill("#f-prompt", "a draft, not sent")
    page.fill("#f-steps", "33")
    page.select_option("#f-sampler_name", "DPM++ 2M")
    page.select_option("#f-scheduler", "Karras")
    page.select_option("#f-checkpoint", label="modelB")
    page.wait_for_timeout(500)  # the form saves 300 ms after the last keystroke

    page.reload()
    page.wait_for_function("document.querySelector('#f-checkpoint option')?.value !== ''")
    expect(page.locator("#f-prompt")).to_have_value("a draft, not sent")
    expect(page.locator("#f-steps")).to_have_value("33")
    expect(page.locator("#f-width")).to_have_value("64")
    expect(page.locator("#f-sampler_name")).to_have_value("DPM++ 2M")
    expect(page.locator("#f-scheduler")).to_have_value("Karras")
    expect(page.locator("#f-checkpoint")).to_have_value(re.compile("^modelB"))
    expect(ui.card(done).locator(".badge")).to_have_text("Done")
    expect(ui.card(done).locator(".state-text")).to_have_text(re.compile(r"^1 image in"))
    expect(ui.card(waiting).locator(".state-text")).to_have_text("Next in line · position 1 · queue paused")
    expect(page.locator("#paused-notice")).to_be_visible()
    expect(page.locator("#gallery-count")).to_have_text("1")
    # newest first
    assert page.locator("li.task").evaluate_all("els => els.map(e => e.dataset.taskId)") == [waiting, done]

    # the queued one goes on by itself once the queue runs again
    api.post("/queue/v1/queue/resume")
    expect(ui.card(waiting).locator(".badge")).to_have_text("Done", timeout=20000)
    expect(page.locator("#paused-notice")).to_be_hidden()


def test_images_load_with_a_saved_key(ui, api):
    """With a key saved, images are fetched with the Authorization header (an <img src>
    cannot send it) and shown from blob: URLs. The open-mode server ignores the key."""
    task_id = api.submit({"prompt": "behind a key", "width": 64, "height": 64, "steps": 3})
    api.wait(task_id)
    page = ui.open().page
    page.evaluate("localStorage.setItem('taskqueue.apiKey', 'any-key')")
    page.reload()
    card = ui.card(task_id)
    img = card.locator(".thumb img")
    expect(img).to_have_attribute("src", re.compile("^blob:"))
    img.evaluate("i => i.decode()")
    assert img.evaluate("i => i.naturalWidth") == 64
    expect(page.locator("#key-state")).to_have_text("API key saved")
    page.get_by_role("button", name="Forget key").click()
    expect(page.get_by_role("button", name="Forget key")).to_be_hidden()
    # everything is reloaded without the key: the same (open-mode) task, shown by URL
    expect(ui.card(task_id).locator(".thumb img")).to_have_attribute("src", re.compile(r"^http.*/images/0$"))
