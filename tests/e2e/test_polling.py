"""Polling only what is live: ~1 s for a running task (with its preview), ~3 s for a
queued one, never for a final one, and much less while the tab is hidden. That is the
page without its event stream (test_stream.py): here the stream is refused."""

import re
import time

from .conftest import expect

HIDE = """hidden => {
  Object.defineProperty(document, 'hidden', {configurable: true, get: () => hidden});
  document.dispatchEvent(new Event('visibilitychange'));
}"""


def count_requests(page, pattern, seconds, action=None):
    """Requests whose URL matches `pattern` during `seconds` (after `action`, if any)."""
    seen = []
    listener = lambda request: seen.append(request.url) if re.search(pattern, request.url) else None  # noqa: E731
    page.on("request", listener)
    if action:
        action()
    page.wait_for_timeout(seconds * 1000)
    page.remove_listener("request", listener)
    return len(seen)


def test_only_live_tasks_are_polled(start_server, make_ui):
    server = start_server(step_seconds=0.1)
    api = server.client()
    final = api.submit({"prompt": "already done", "width": 64, "height": 64, "steps": 2})
    api.wait(final)
    ui = make_ui(server.url)
    ui.page.route("**/v1/events", lambda route: route.abort())  # no stream: the page polls
    ui.open()
    page = ui.page
    expect(ui.card(final).locator(".badge")).to_have_text("Done")

    running = ui.submit(prompt="polled every second", steps=150, width=64, height=64)["task_id"]
    expect(ui.card(running).locator(".state-text")).to_contain_text("Step", timeout=20000)
    started = time.monotonic()
    polls = count_requests(page, rf"/tasks/{running}$", 3)
    previews = count_requests(page, rf"/tasks/{running}/preview$", 2)
    assert 2 <= polls <= 5, polls
    assert previews >= 1, previews
    assert count_requests(page, rf"/tasks/{final}", 2) == 0  # never for a final task

    # hidden tab: the next polls wait at least 10 s
    page.evaluate(HIDE, True)
    page.wait_for_timeout(1200)  # a poll armed before hiding may still fire
    assert count_requests(page, rf"/tasks/{running}", 4) <= 1
    # back: polled at once
    assert count_requests(page, rf"/tasks/{running}$", 0.8, action=lambda: page.evaluate(HIDE, False)) >= 1
    assert time.monotonic() - started < 15  # the task was running throughout

    api.post(f"/queue/v1/tasks/{running}/interrupt")
    expect(ui.card(running).locator(".badge")).to_have_text("Interrupted", timeout=10000)

    # queued: every ~3 s
    api.post("/queue/v1/queue/pause")
    queued = ui.submit(prompt="polled every 3 s", steps=3, width=64, height=64)["task_id"]
    expect(ui.card(queued).locator(".badge")).to_have_text("Queued")
    assert 1 <= count_requests(page, rf"/tasks/{queued}$", 6.5) <= 3
    assert count_requests(page, rf"/tasks/{running}", 2) == 0
