"""The page follows the event stream: a task's card goes from queued to running (with
its steps and preview) to done as the events come, without polling the task; and
another tab's submit appears from its event."""

import re

from .conftest import expect
from .test_polling import count_requests


def open_with_stream(ui):
    """Open the page; return once it has asked for its event stream."""
    streams = []
    ui.page.on("request", lambda r: streams.append(r.url) if r.url.endswith("/v1/events") else None)
    ui.open()
    for _ in range(100):
        if streams:
            break
        ui.page.wait_for_timeout(50)
    assert streams, "the page did not open the event stream"
    ui.page.wait_for_timeout(300)  # its answer under way
    return streams


def test_a_task_is_followed_from_the_stream_without_polling_it(start_server, make_ui):
    server = start_server(step_seconds=0.1)
    ui = make_ui(server.url)
    streams = open_with_stream(ui)
    page = ui.page
    task_id = ui.submit(prompt="followed by its events", steps=40, width=64, height=64)["task_id"]
    expect(ui.card(task_id).locator(".state-text")).to_contain_text("Step", timeout=20000)
    polls = count_requests(page, rf"/tasks/{task_id}$", 2.5)
    # steps arrive as events: no poll a second, as without the stream (at most the
    # check every 30 s may fall in the window, when a busy machine was slow to start)
    assert polls <= 1, polls
    expect(ui.card(task_id).locator(".badge")).to_have_text("Done", timeout=20000)
    assert ui.card(task_id).locator("img").count() >= 1
    assert len(streams) == 1  # one stream all along


def test_a_task_submitted_elsewhere_appears_from_its_event(start_server, make_ui):
    server = start_server(step_seconds=0.05)
    ui = make_ui(server.url)
    open_with_stream(ui)
    other = server.client().submit({"prompt": "from a script", "steps": 3, "width": 64, "height": 64})
    expect(ui.card(other).locator(".badge")).to_have_text("Done", timeout=8000)  # before the 10 s list poll
    assert re.match(r"^[0-9a-f]{32}$", other)
