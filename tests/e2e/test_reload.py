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
    expect(ui.card(waiting).locator(".state-text")).to_have_text(re.compile(r"^Next in line · about \d+ (s|min) · queue paused$"))
    expect(page.locator("#paused-notice")).to_be_visible()
    expect(page.locator("#gallery-count")).to_have_text("1")
    # newest first
    assert page.locator("li.task").evaluate_all("els => els.map(e => e.dataset.taskId)") == [waiting, done]

    # the queued one goes on by itself once the queue runs again
    api.post("/queue/v1/queue/resume")
    expect(ui.card(waiting).locator(".badge")).to_have_text("Done", timeout=20000)
    expect(page.locator("#paused-notice")).to_be_hidden()


def test_images_load_with_a_saved_key(start_server, make_ui):
    """With users, the page sends the saved key with every API call, and the server's
    image URLs carry a signature instead: <img src> opens them with no header at all."""
    server = start_server(admin_key="admin-key-0123456789abcdef")
    alice = server.client().add_user("alice")
    task_id = alice.submit({"prompt": "behind a key", "width": 64, "height": 64, "steps": 3})
    alice.wait(task_id)
    ui = make_ui(server.url)
    page = ui.page
    page.goto(f"{server.url}/queue/#create")
    page.evaluate("k => localStorage.setItem('taskqueue.apiKey', k)", alice.key)
    ui.open()
    expect(page.locator("#key-dialog")).to_be_hidden()
    expect(page.locator("#who")).to_have_text("alice · user")
    card = ui.card(task_id)
    img = card.locator(".thumb img")
    # the card loads the small thumbnail, signed
    expect(img).to_have_attribute("src", re.compile(r"^http.*/images/0/thumb\?exp=\d+&sig=\w+$"))
    img.evaluate("i => i.decode()")
    assert img.evaluate("i => i.naturalWidth") == 64
    src = img.get_attribute("src")
    assert page.evaluate("u => fetch(u).then(r => r.status)", src) == 200  # no header
    assert page.evaluate("u => fetch(u.split('?')[0]).then(r => r.status)", src) == 401  # unsigned: refused
