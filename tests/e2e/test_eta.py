"""Places and ETAs: a queued task's card says "N ahead of you" from the server's `ahead`,
and "about M min" once the server has measured a task; the queue view shows the run
order with each task's ETA and the whole queue's, and the owner moves a task to the
front with the keyboard: the rows and the cards follow."""

import re

from .conftest import PHONE, expect
from .test_users import go, sign_in

ADMIN_KEY = "admin-key-eta-0123456789abcdef"
ETA = r"about \d+ (s|min)"


def place(ahead):
    return "Next in line" if ahead == 0 else f"{ahead} ahead of you"


def queued_ids(client):
    """The caller's queued tasks in the server's run order."""
    return [t["task_id"] for t in client.get("/queue/v1/queue").json()["data"] if t["status"] == "queued"]


def expect_cards_follow_the_server(ui, client, eta_known):
    ids = queued_ids(client)
    for task_id in ids:
        ahead = client.task(task_id)["ahead"]
        eta = f" · {ETA}" if eta_known else ""
        expect(ui.card(task_id).locator(".state-text")).to_have_text(
            re.compile(rf"^{place(ahead)}{eta} · queue paused$"), timeout=10000)
    return ids


def test_cards_say_places_and_etas_and_the_owner_moves_a_task(start_server, make_ui):
    server = start_server(step_seconds=0.05, admin_key=ADMIN_KEY)
    admin = server.client()
    alice = admin.add_user("alice")
    admin.post("/queue/v1/queue/pause")
    ui = sign_in(make_ui(server.url), alice.key, "alice")
    page = ui.page

    # nothing has run yet: places, no ETA
    first = [ui.submit(prompt=f"first {i}", width=64, height=64, steps=5)["task_id"] for i in range(3)]
    assert [alice.task(t)["eta_seconds"] for t in first] == [None] * 3
    assert sorted(alice.task(t)["ahead"] for t in first) == [0, 1, 2]
    expect_cards_follow_the_server(ui, alice, eta_known=False)
    expect(ui.card(first[2]).locator(".state-text")).to_have_text("2 ahead of you · queue paused")

    # one task runs: the server knows the speed now
    admin.post("/queue/v1/queue/resume")
    alice.wait(first[0])
    admin.post("/queue/v1/queue/pause")
    for task_id in first[1:]:  # the next one may have started before the pause
        alice.wait(task_id, until=("queued", "done"))
    more = [ui.submit(prompt=f"more {i}", width=64, height=64, steps=5)["task_id"] for i in range(2)]
    assert all(alice.task(t)["eta_seconds"] is not None for t in more)
    ids = expect_cards_follow_the_server(ui, alice, eta_known=True)
    assert len(ids) >= 2 and ids[-1] == more[-1]

    # the queue view: run order, each one's ETA, the whole queue's
    go(ui, "queue")
    rows = page.locator("li.qrow")
    expect(rows).to_have_count(len(ids), timeout=10000)
    assert rows.evaluate_all("els => els.map(e => e.dataset.taskId)") == ids
    expect(rows.first.locator(".state-text")).to_have_text(re.compile(r"^Next in line · done in about \d+ (s|min)$"))
    expect(rows.nth(1).locator(".state-text")).to_have_text(re.compile(r"^1 ahead of you · done in about "))
    expect(page.locator("#queue-summary")).to_have_text(
        re.compile(rf"^{len(ids)} queued · all done in about \d+ (s|min) \({len(ids)} yours\)$"))
    ui.shot("eta-1-queue")

    # the last one to the front, with the keyboard; the focus stays on its button
    last = page.locator(f'li.qrow[data-task-id="{ids[-1]}"]')
    front = last.get_by_role("button", name="Move to front")
    front.focus()
    page.keyboard.press("Enter")
    expect(rows.first).to_have_attribute("data-task-id", ids[-1], timeout=10000)
    expect(front).to_be_focused()
    expect(last.locator(".msg")).to_have_text("Moved to the front.")
    moved = queued_ids(alice)
    assert moved == [ids[-1]] + ids[:-1]
    assert rows.evaluate_all("els => els.map(e => e.dataset.taskId)") == moved
    expect(rows.locator(".pos")).to_have_text([str(i + 1) for i in range(len(moved))])
    expect(last.locator(".state-text")).to_have_text(re.compile(r"^Next in line · done in about "))

    # and back: to the end again
    last.get_by_role("button", name="Move to back").click()
    expect(rows.last).to_have_attribute("data-task-id", ids[-1], timeout=10000)
    assert queued_ids(alice) == ids
    last.get_by_role("button", name="Move to front").click()
    expect(rows.first).to_have_attribute("data-task-id", ids[-1], timeout=10000)

    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    ui.shot("eta-2-phone-queue", full_page=False)
    page.set_viewport_size({"width": 1280, "height": 900})

    # the cards in "My tasks" follow the new order
    go(ui, "create")
    assert alice.task(ids[-1])["ahead"] == 0
    expect_cards_follow_the_server(ui, alice, eta_known=True)
    expect(ui.card(ids[-1]).locator(".state-text")).to_have_text(re.compile(rf"^Next in line · {ETA} · queue paused$"))
    ui.shot("eta-3-cards")


def test_the_admin_moves_anyones_task(start_server, make_ui):
    server = start_server(step_seconds=0.05, admin_key=ADMIN_KEY)
    admin = server.client()
    alice, bob = admin.add_user("alice"), admin.add_user("bob")
    admin.post("/queue/v1/queue/pause")
    for i in range(2):
        alice.submit({"prompt": f"alice {i}", "width": 64, "height": 64, "steps": 3})
    late = bob.submit({"prompt": "bob late", "width": 64, "height": 64, "steps": 3})
    bob_second = bob.submit({"prompt": "bob later", "width": 64, "height": 64, "steps": 3})
    ui = sign_in(make_ui(server.url), ADMIN_KEY, "admin", view="queue")
    page = ui.page
    rows = page.locator("li.qrow")
    expect(rows).to_have_count(4, timeout=10000)
    expect(rows.locator(".moves button")).to_have_count(8)
    row = page.locator(f'li.qrow[data-task-id="{bob_second}"]')
    row.get_by_role("button", name="Move to front").click()
    expect(rows.first).to_have_attribute("data-task-id", bob_second, timeout=10000)
    assert queued_ids(admin)[0] == bob_second
    expect(row.locator(".state-text")).to_have_text("Next in line")  # not "of you": bob's
    assert late in queued_ids(admin)
    ui.shot("eta-4-admin-queue")
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    ui.shot("eta-5-admin-phone-queue", full_page=False)
