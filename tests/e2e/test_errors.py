"""Every error answer becomes a readable message next to what caused it: 422 next to
the field it names, 413/429 at the form, 409/404 on the task card, 401 opens the key
dialog. Real server answers where the stand-in gives them; the others are answered by
Playwright's request interception (keys and per-user limits do not exist yet)."""

import json

from .conftest import expect


def test_422_is_shown_next_to_its_field_and_nothing_is_queued(ui, api):
    page = ui.open().page
    answer = ui.submit(expect_status=422, prompt="bad sizes", width=100, steps=0)
    fields = {e["loc"][1] for e in answer["detail"]}
    assert fields == {"width", "steps"}
    expect(page.locator("#f-width-error")).to_have_text("must be a multiple of 8, got 100")
    expect(page.locator("#f-steps-error")).to_contain_text("must be between 1 and")
    expect(page.locator("#f-width")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-width")).to_be_focused()  # the first field named
    expect(page.locator("#f-height-error")).to_be_hidden()
    expect(page.locator("#form-error")).to_be_hidden()
    assert api.get("/queue/v1/tasks").json()["count"] == 0
    ui.shot("errors-1-422")

    # fixing a field clears its message; the fixed form is accepted
    page.fill("#f-width", "64")
    expect(page.locator("#f-width-error")).to_be_hidden()
    expect(page.locator("#f-width")).not_to_have_attribute("aria-invalid", "true")
    ui.submit(width=64, height=64, steps=3)
    expect(page.locator("#f-steps-error")).to_be_hidden()
    assert api.get("/queue/v1/tasks").json()["count"] == 1


def test_img2img_without_an_image_is_told_at_the_image(ui):
    page = ui.open().page
    page.get_by_role("radio", name="img2img").check()
    ui.submit(expect_status=422, prompt="no image", width=64, height=64)
    expect(page.locator("#f-init_images-error")).to_have_text("img2img needs at least one init image")
    expect(page.locator("#drop-zone")).to_be_visible()


def test_413_429_409_and_404_are_readable(ui, api):
    page = ui.open().page

    # 429: the server's per-user queue limit (answered here: no limits server-side yet)
    page.route("**/queue/v1/txt2img", lambda route: route.fulfill(
        status=429, content_type="application/json", headers={"Retry-After": "30"},
        body=json.dumps({"detail": "you have 5 queued tasks (limit max_queued_per_user)"})))
    ui.submit(expect_status=429, prompt="one too many")
    expect(page.locator("#form-error")).to_have_text(
        "Too many tasks queued: you have 5 queued tasks (limit max_queued_per_user) Try again in 30 s.")
    page.unroute("**/queue/v1/txt2img")

    # 413 on img2img belongs to the image
    page.route("**/queue/v1/img2img", lambda route: route.fulfill(
        status=413, content_type="application/json",
        body=json.dumps({"detail": [{"loc": ["body"], "msg": "the body is over the limit of 50 MB (max_body_mb)", "type": "value_error"}]})))
    page.get_by_role("radio", name="img2img").check()
    ui.submit(expect_status=413, prompt="huge")
    expect(page.locator("#f-init_images-error")).to_have_text("Too large: the body is over the limit of 50 MB (max_body_mb)")
    page.get_by_role("radio", name="txt2img").check()

    # 409: the task ended just before Stop arrived
    api.post("/queue/v1/queue/pause")
    task_id = ui.submit(prompt="ends first", width=64, height=64, steps=3)["task_id"]
    card = ui.card(task_id)
    expect(card.locator(".badge")).to_have_text("Queued")
    page.route(f"**/queue/v1/tasks/{task_id}/interrupt", lambda route: route.fulfill(
        status=409, content_type="application/json", body=json.dumps({"detail": f"task {task_id} is done"})))
    card.get_by_role("button", name="Cancel this task").click()
    expect(card.locator(".msg")).to_have_text("Not possible now: task is done")
    expect(card.locator(".msg")).to_have_class("msg error")
    page.unroute(f"**/queue/v1/tasks/{task_id}/interrupt")

    # 404: removed meanwhile (another tab): the message, and the card goes
    api.post(f"/queue/v1/tasks/{task_id}/interrupt")
    expect(card.locator(".badge")).to_have_text("Cancelled", timeout=10000)
    assert api.delete(f"/queue/v1/tasks/{task_id}").status_code == 204
    remove = card.locator(".actions button")
    expect(remove).to_have_text("Remove")
    remove.click()
    expect(remove).to_have_text("Really remove?")
    remove.click()
    expect(card).to_have_count(0)
    expect(page.locator("#tasks-error")).to_have_text(
        '"ends first": Not found: it may have been deleted, or it is not yours. It was taken off the list.')


def test_401_asks_for_the_key_and_retries_with_it(ui):
    page = ui.open().page
    seen = []

    def guarded(route):
        auth = route.request.headers.get("authorization")
        seen.append(auth)
        if auth != "Bearer sesame":
            route.fulfill(status=401, content_type="application/json", body=json.dumps({"detail": "missing or bad API key"}))
        else:
            route.continue_()

    page.route("**/queue/v1/tasks?*", guarded)
    page.reload()
    dialog = page.locator("#key-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#key-reason")).to_have_text("This server needs an API key.")
    expect(page.get_by_label("Your API key")).to_be_focused()
    ui.shot("errors-2-key-dialog")
    page.get_by_label("Your API key").fill("sesame")
    page.get_by_role("button", name="Save key").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#key-state")).to_have_text("API key saved")
    expect(page.locator("#tasks-empty")).to_be_visible()
    assert "Bearer sesame" in seen
    assert page.evaluate("localStorage.getItem('taskqueue.apiKey')") == "sesame"

    page.get_by_role("button", name="Forget key").click()
    assert page.evaluate("localStorage.getItem('taskqueue.apiKey')") is None
    # the next call is refused again: the dialog is back; cancelling it says so
    expect(dialog).to_be_visible(timeout=10000)
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("#key-state")).to_have_text("No API key")
    expect(page.get_by_role("button", name="Enter API key")).to_be_visible()
    expect(page.locator("#tasks-error")).to_contain_text("An API key is needed")
