"""Readable at phone width, labelled controls, no layout jump while progress updates."""

from .conftest import PHONE, expect


UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter(el => el.offsetParent !== null || el.type === 'file')
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.textContent.trim())
  .map(el => el.outerHTML.slice(0, 80))"""


def test_phone_width_running_task_and_labels(start_server, make_ui):
    server = start_server(step_seconds=0.1)
    api = server.client()
    done = api.submit({"prompt": "a finished one with a rather long prompt that will not fit on a phone screen",
                       "width": 64, "height": 64, "steps": 3})
    api.wait(done)
    ui = make_ui(server.url, viewport=PHONE).open()
    page = ui.page
    assert page.evaluate(UNLABELLED) == []
    task_id = ui.submit(prompt="watched on a phone", steps=60, width=64, height=64)["task_id"]
    card = ui.card(task_id)
    expect(card.locator(".state-text")).to_contain_text("Step", timeout=20000)

    # the card keeps its size while steps, ETA and preview change
    boxes = set()
    for _ in range(6):
        box = card.bounding_box()
        boxes.add((round(box["width"]), round(box["height"])))
        page.wait_for_timeout(300)
    assert len(boxes) == 1, boxes
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    card.scroll_into_view_if_needed()
    ui.shot("layout-1-phone-running", full_page=False)
    ui.shot("layout-2-phone-page")

    page.goto(f"{server.url}/queue/#gallery")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.locator("#gallery-grid button").first.click()
    expect(page.locator("#viewer")).to_be_visible()
    assert page.evaluate(UNLABELLED) == []
    ui.shot("layout-3-phone-viewer", full_page=False)
    page.keyboard.press("Escape")

    page.goto(f"{server.url}/queue/#queue")
    expect(page.locator("li.qrow")).to_have_count(1, timeout=10000)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    ui.shot("layout-4-phone-queue", full_page=False)
