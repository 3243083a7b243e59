"""Every error answer becomes a readable message next to what caused it: 422 next to
the field it names, 413/429 at the form, 409/404 on the task card, 401 opens the key
dialog. Real server answers where the stand-in gives them easily; the others are
answered by Playwright's request interception (a real 429 is in test_users.py)."""

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
    expect(page.locator(f"#f-{answer['detail'][0]['loc'][1]}")).to_be_focused()  # the first field named
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

    # 429: the hourly limit, with Retry-After
    page.route("**/queue/v1/txt2img", lambda route: route.fulfill(
        status=429, content_type="application/json", headers={"Retry-After": "30"},
        body=json.dumps({"detail": [{"loc": ["body"], "type": "limit.max_per_hour",
                                     "msg": "you have 20 tasks submitted in the last hour; your limit max_per_hour is 20"}]})))
    ui.submit(expect_status=429, prompt="one too many")
    expect(page.locator("#form-error")).to_have_text(
        "Over your limit: you have 20 tasks submitted in the last hour; your limit max_per_hour is 20 Try again in 30 s.")
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


def test_401_asks_for_the_key_and_retries_with_it(start_server, make_ui):
    server = start_server(admin_key="admin-key-0123456789abcdef")
    alice = server.client().add_user("alice")
    ui = make_ui(server.url)
    page = ui.page
    page.goto(f"{server.url}/queue/")
    dialog = page.locator("#key-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#key-reason")).to_have_text("This server needs an API key.")
    expect(page.get_by_label("Your API key")).to_be_focused()
    ui.shot("errors-2-key-dialog")

    # a wrong key: refused, asked again
    page.get_by_label("Your API key").fill("not-a-key-at-all-0000")
    dialog.get_by_role("button", name="Sign in").click()
    expect(page.locator("#key-reason")).to_have_text("The server refused the saved API key. Enter a valid one.")
    page.get_by_label("Your API key").fill(alice.key)
    dialog.get_by_role("button", name="Sign in").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#who")).to_have_text("alice · user")
    expect(page.locator("#tasks-empty")).to_be_visible()
    assert page.evaluate("localStorage.getItem('taskqueue.apiKey')") == alice.key

    page.get_by_role("button", name="Sign out").click()
    assert page.evaluate("localStorage.getItem('taskqueue.apiKey')") is None
    # the next call is refused again: the dialog is back; cancelling it says so
    expect(dialog).to_be_visible(timeout=10000)
    expect(page.locator("#who")).to_have_text("")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.locator("#key-state")).to_have_text("Not signed in")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.locator("#tasks-error")).to_contain_text("An API key is needed")
