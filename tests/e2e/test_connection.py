"""The server goes away and comes back: a banner says so, polling parks, and the page
recovers by itself. A task that was running when the process died is shown failed
with the server's message."""

from .conftest import expect


def test_server_unreachable_banner_and_recovery(start_server, make_ui):
    server = start_server(step_seconds=0.1)
    ui = make_ui(server.url).open()
    page = ui.page
    task_id = ui.submit(prompt="cut short by a crash", steps=150, width=64, height=64)["task_id"]
    card = ui.card(task_id)
    expect(card.locator(".state-text")).to_contain_text("Step", timeout=20000)

    server.kill()
    banner = page.locator("#banner")
    expect(banner).to_be_visible(timeout=10000)
    expect(banner).to_contain_text("The server is not answering")
    ui.shot("connection-1-unreachable")

    server.start()
    expect(banner).to_be_hidden(timeout=30000)
    expect(card.locator(".badge")).to_have_text("Failed", timeout=10000)
    expect(card.locator(".state-text")).not_to_be_empty()
    expect(card.locator(".state-text")).to_have_class("state-text error")
    ui.shot("connection-2-recovered")

    # and it works as before
    again = ui.submit(prompt="after the restart", steps=3, width=64, height=64)["task_id"]
    expect(ui.card(again).locator(".badge")).to_have_text("Done", timeout=20000)
