"""Users: each signed-in user sees only their own tasks and images; others' tasks are
anonymous entries in the queue view; the admin sees everyone's, stops any, and manages
users, keys and limits in the page; sign out forgets the key."""

import re

from .conftest import PHONE, expect

ADMIN_KEY = "admin-key-0123456789abcdef"


def sign_in(ui, key, name, view=""):
    """Open the page without a key: the dialog asks for one; the top bar says who."""
    page = ui.page
    page.goto(f"{ui.url}/queue/{'#' + view if view else ''}")
    dialog = page.locator("#key-dialog")
    expect(dialog).to_be_visible()
    page.get_by_label("Your API key").fill(key)
    dialog.get_by_role("button", name="Sign in").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#who")).to_have_text(re.compile(rf"^{name} · (user|admin)$"))
    page.wait_for_function("document.querySelector('#f-checkpoint option')?.value !== ''")
    return ui


def go(ui, view):
    ui.page.click(f'nav a[data-view="{view}"]')
    expect(ui.page.locator(f"#view-{view}")).to_be_visible()


def titles(client):
    return {c["model_name"]: c["title"] for c in client.get("/queue/v1/checkpoints").json()["data"]}


def test_two_users_see_only_their_own_and_the_admin_sees_all(start_server, make_ui):
    server = start_server(step_seconds=0.1, admin_key=ADMIN_KEY)
    admin = server.client()
    alice, bob = admin.add_user("alice"), admin.add_user("bob")
    admin.post("/queue/v1/queue/pause")
    a = sign_in(make_ui(server.url), alice.key, "alice")
    b = sign_in(make_ui(server.url), bob.key, "bob")
    model_b = titles(admin)["modelB"]

    # both at the same time, each in their own browser context
    a1 = a.submit(prompt="alice fox in snow", width=64, height=64, steps=3)["task_id"]
    b.page.select_option("#f-checkpoint", value=model_b)
    b1 = b.submit(prompt="bob whale at sea", width=64, height=64, steps=3)["task_id"]
    a2 = a.submit(prompt="alice long one", width=64, height=64, steps=150)["task_id"]
    b2 = b.submit(prompt="bob long one", width=64, height=64, steps=150)["task_id"]
    for ui, mine, theirs in ((a, (a1, a2), (b1, b2)), (b, (b1, b2), (a1, a2))):
        expect(ui.page.locator("li.task")).to_have_count(2)
        for task_id in mine:
            expect(ui.card(task_id).locator(".badge")).to_have_text("Queued")
        for task_id in theirs:
            expect(ui.card(task_id)).to_have_count(0)
    expect(a.page.locator("#usage")).to_have_text("2 of 20 queued")

    # the queue view: my own in full, the other's as anonymous entries without a button
    for ui, me, other, other_words in ((a, "alice", "bob", "whale"), (b, "bob", "alice", "fox")):
        go(ui, "queue")
        rows = ui.page.locator("li.qrow")
        expect(rows).to_have_count(4, timeout=10000)
        anon = ui.page.locator("li.qrow.anon")
        expect(anon).to_have_count(2)
        expect(anon.locator("button")).to_have_count(0)
        expect(anon.locator(".owner")).to_have_text(["", ""])
        expect(ui.page.locator("li.qrow:not(.anon) .owner")).to_have_text([me, me])
        expect(ui.page.locator("li.qrow:not(.anon) button")).to_have_count(6)  # cancel, to front, to back
        expect(ui.page.locator("li.qrow:not(.anon)").get_by_role("button", name="Move to front")).to_have_count(2)
        text = ui.page.locator("#queue-list").inner_text()
        assert other not in text and other_words not in text, text
        assert "someone else's task" in text
        expect(ui.page.locator("#queue-toggle")).to_be_hidden()  # admins only
        expect(ui.page.locator("#users-panel")).to_be_hidden()
    expect(b.page.locator("li.qrow.anon .meta").first).to_have_text("someone else's task · modelA · 64×64")
    expect(a.page.locator("li.qrow.anon .meta").first).to_have_text("someone else's task · modelB · 64×64")
    expect(a.page.locator("#queue-summary")).to_have_text("4 queued (2 yours)")
    a.shot("users-1-queue-as-alice")
    b.page.set_viewport_size(PHONE)
    assert b.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    b.shot("users-1-phone-queue-as-bob", full_page=False)
    # and the API does not let one stop the other's either
    assert alice.post(f"/queue/v1/tasks/{b1}/interrupt").status_code == 404
    assert bob.post(f"/queue/v1/tasks/{a1}/interrupt").status_code == 404

    # the admin: everyone's tasks with owner names, pause/resume, stop any
    adm = sign_in(make_ui(server.url), ADMIN_KEY, "admin", view="queue")
    expect(adm.page.locator("#who")).to_have_text("admin · admin")
    rows = adm.page.locator("li.qrow")
    expect(rows).to_have_count(4, timeout=10000)
    expect(adm.page.locator("li.qrow.anon")).to_have_count(0)
    owners = rows.locator(".owner").all_inner_texts()
    assert sorted(owners) == ["alice", "alice", "bob", "bob"]
    expect(adm.page.locator("#users-panel")).to_be_visible()
    adm.shot("users-2-queue-as-admin")
    # the admin stops (or cancels: the scheduler may run them in another order) the long ones
    adm.page.get_by_role("button", name="Resume queue").click()
    for task_id in (a2, b2):
        row = adm.page.locator(f'li.qrow[data-task-id="{task_id}"]')
        owner = "alice" if task_id == a2 else "bob"
        row.get_by_role("button", name=re.compile(rf"^(Stop|Cancel) the task of {owner}$")).click()
        expect(row).to_have_count(0, timeout=15000)  # final: off the queue
    for client, task_id in ((alice, a1), (bob, b1)):
        assert client.wait(task_id)["status"] == "done"
    for client, task_id in ((alice, a2), (bob, b2)):
        assert client.wait(task_id)["status"] in ("interrupted", "cancelled")
    expect(a.card(a2).locator(".badge")).to_have_text(re.compile("Interrupted|Cancelled"), timeout=15000)
    expect(b.card(b2).locator(".badge")).to_have_text(re.compile("Interrupted|Cancelled"), timeout=15000)

    # each gallery: only their own images, as small signed thumbnails
    for ui, mine, other in ((a, "alice", "bob"), (b, "bob", "alice")):
        go(ui, "gallery")
        tiles = ui.page.locator("#gallery-grid li button")
        expect(tiles.first).to_be_visible(timeout=10000)
        labels = tiles.evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")
        assert labels and all(mine in label and other not in label for label in labels), labels
        src = tiles.first.locator("img").get_attribute("src")
        assert re.search(r"/images/0/thumb\?exp=\d+&sig=\w+$", src), src
    a.shot("users-3-gallery-as-alice")


def test_admin_manages_users_keys_and_limits(start_server, make_ui):
    server = start_server(admin_key=ADMIN_KEY)
    admin = server.client()
    adm = sign_in(make_ui(server.url), ADMIN_KEY, "admin", view="queue")
    page = adm.page
    panel = page.locator("#users-panel")
    expect(panel).to_be_visible()
    expect(panel.locator('li.user[data-user="admin"] .role')).to_have_text("admin")

    # create: the key is shown once, with a copy button
    page.fill("#u-name", "carol")
    page.select_option("#u-role", "user")
    page.get_by_role("button", name="Create user").click()
    box = page.locator("#new-key")
    expect(box).to_be_visible()
    expect(page.locator("#new-key-text")).to_have_text("carol (user) was created. Their key:")
    key = page.locator("#new-key-value").inner_text()
    assert len(key) >= 16
    page.get_by_role("button", name="Copy key").click()
    expect(page.locator("#new-key-copy")).to_have_text(re.compile(r"^(Copied|Selected: press Ctrl\+C)$"))
    carol_row = panel.locator('li.user[data-user="carol"]')
    expect(carol_row.locator(".role")).to_have_text("user")
    expect(carol_row.locator(".keys li")).to_have_count(1)
    adm.shot("users-4-admin-created")
    page.get_by_role("button", name="Done").click()
    expect(box).to_be_hidden()
    assert key not in page.content()  # shown only that once

    # that key signs in elsewhere; no admin controls there
    carol = sign_in(make_ui(server.url), key, "carol")
    expect(carol.page.locator("#who")).to_have_text("carol · user")
    expect(carol.page.locator("#usage")).to_have_text("0 of 20 queued")

    # edit a limit: max_queued = 1
    carol_row.get_by_text("Edit role and limits").click()
    carol_row.get_by_label("Queued at once").fill("1")
    carol_row.get_by_label("Steps").fill("40")
    carol_row.get_by_role("button", name="Save limits").click()
    expect(carol_row.locator(".user-limits")).to_have_text("Limits: queued at once: 1 · steps: 40")
    expect(carol_row.locator(".msg")).to_have_text("Saved.")
    assert admin.get("/queue/v1/users/carol").json()["limits"]["max_queued"] == 1

    # carol: one task fits, the second is refused at the form (the queue is paused)
    admin.post("/queue/v1/queue/pause")
    first = carol.submit(prompt="carol one", width=64, height=64, steps=3)["task_id"]
    expect(carol.page.locator("#usage")).to_have_text("1 of 1 queued")
    expect(carol.page.locator("#usage")).to_have_class(re.compile(r"\bfull\b"))
    expect(carol.page.locator("#limits-note")).to_have_text("Each task: up to 40 steps.")
    answer = carol.submit(expect_status=429, prompt="carol two", width=64, height=64, steps=3)
    assert answer["detail"][0]["type"] == "limit.max_queued"
    expect(carol.page.locator("#form-error")).to_have_text(
        "Over your limit: you have 1 task queued at once; your limit max_queued is 1")
    # over a per-task limit: told at the field
    carol.submit(expect_status=422, prompt="carol three", steps=41)
    expect(carol.page.locator("#f-steps-error")).to_have_text("41 steps is over your limit max_steps=40")
    carol.shot("users-5-carol-limits")
    expect(carol.card(first).locator(".badge")).to_have_text("Queued")

    # a new key, then the old one revoked: carol's page asks for a key; the new one works
    carol_row.get_by_role("button", name="New key for carol").click()
    expect(page.locator("#new-key-text")).to_have_text("New key for carol:")
    key2 = page.locator("#new-key-value").inner_text()
    assert key2 != key
    expect(carol_row.locator(".keys li")).to_have_count(2)
    old_prefix = next(k["prefix"] for k in admin.get("/queue/v1/users/carol").json()["keys"] if key.startswith(k["prefix"]))
    carol_row.get_by_role("button", name=f"Revoke key {old_prefix} of carol").click()
    expect(carol_row.locator(".keys li")).to_have_count(1)
    expect(carol_row.locator(".msg")).to_have_text(f"Key {old_prefix}… revoked.")
    dialog = carol.page.locator("#key-dialog")
    expect(dialog).to_be_visible(timeout=15000)
    expect(carol.page.locator("#key-reason")).to_have_text("The server refused the saved API key. Enter a valid one.")
    carol.page.get_by_label("Your API key").fill(key2)
    dialog.get_by_role("button", name="Sign in").click()
    expect(dialog).to_be_hidden()
    expect(carol.card(first).locator(".badge")).to_have_text("Queued")

    # revoke the user: two steps; carol's page asks for a key again
    revoke = carol_row.get_by_role("button", name="Revoke user carol")
    revoke.click()
    expect(revoke).to_have_text("Revoke carol? Their keys stop working.")
    revoke.click()
    expect(carol_row).to_have_count(0)
    assert admin.get("/queue/v1/users/carol").status_code == 404
    expect(dialog).to_be_visible(timeout=15000)
    expect(carol.page.locator("#key-reason")).to_have_text("The server refused the saved API key. Enter a valid one.")


def test_users_panel_on_a_phone(start_server, make_ui):
    server = start_server(admin_key=ADMIN_KEY)
    admin = server.client()
    admin.add_user("dave", limits={"max_queued": 3, "max_per_hour": 10})
    admin.add_user("erin-with-a-rather-long-name", role="admin")
    adm = sign_in(make_ui(server.url, viewport=PHONE), ADMIN_KEY, "admin", view="queue")
    page = adm.page
    expect(page.locator("li.user")).to_have_count(3)
    row = page.locator('li.user[data-user="dave"]')
    expect(row.locator(".user-limits")).to_have_text("Limits: queued at once: 3 · tasks per hour: 10")
    row.get_by_text("Edit role and limits").click()
    expect(row.get_by_label("Queued at once")).to_have_value("3")
    expect(row.get_by_label("Steps")).to_have_attribute("placeholder", "default: none")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.locator("#users-panel").scroll_into_view_if_needed()
    adm.shot("users-6-phone-admin")


def test_sign_out_forgets_the_key(start_server, make_ui):
    server = start_server(admin_key=ADMIN_KEY)
    alice = server.client().add_user("alice")
    task_id = alice.submit({"prompt": "alice's", "width": 64, "height": 64, "steps": 3})
    ui = sign_in(make_ui(server.url), alice.key, "alice")
    page = ui.page
    expect(ui.card(task_id)).to_have_count(1)
    page.get_by_role("button", name="Sign out").click()
    assert page.evaluate("localStorage.getItem('taskqueue.apiKey')") is None
    expect(page.locator("#key-dialog")).to_be_visible(timeout=10000)
    expect(page.locator("#key-reason")).to_have_text("This server needs an API key.")
    # nothing of alice's stays on the page
    expect(ui.card(task_id)).to_have_count(0)
    expect(page.locator("#who")).to_have_text("")
    page.reload()
    expect(page.locator("#key-dialog")).to_be_visible()
