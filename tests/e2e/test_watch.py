"""Submit from the form and watch the task: its place in the queue, then progress with
step/steps and ETA and the live preview, then done with its image."""

import re

from .conftest import expect

from contract.client import QueueClient


def test_submit_and_watch_until_done(start_server, make_ui):
    server = start_server(step_seconds=0.1)
    api = QueueClient(server.url, real=False)
    api.post("/queue/v1/queue/pause")
    ahead = api.submit({"prompt": "the task ahead", "steps": 8, "width": 64, "height": 64})
    ui = make_ui(server.url).open()
    page = ui.page
    expect(ui.card(ahead)).to_be_visible()

    accepted = ui.submit(prompt="a lighthouse at dusk", steps=50, width=256, height=256)
    assert accepted["status"] == "queued" and accepted["position"] == 2
    expect(page.locator("#form-status")).to_have_text("Queued at position 2.")
    card = ui.card(accepted["task_id"])
    expect(card.locator(".badge")).to_have_text("Queued")
    expect(card.locator(".state-text")).to_have_text("1 ahead of you · queue paused", timeout=15000)
    expect(card.locator(".thumb-text")).to_have_text("Waiting")
    expect(page.locator("#paused-notice")).to_be_visible()
    ui.shot("watch-1-queued")

    api.post("/queue/v1/queue/resume")
    expect(card.locator(".badge")).to_have_text("Running", timeout=20000)
    steps_seen = set()
    preview_seen = False
    state = card.locator(".state-text")
    for _ in range(60):
        text = state.text_content()
        found = re.match(r"Step (\d+)/50 · ETA ", text)
        if found:
            steps_seen.add(int(found.group(1)))
        loaded = card.locator(".thumb img").evaluate(
            "img => !img.hidden && img.src.startsWith('blob:') && img.complete && img.naturalWidth > 0")
        if loaded and not preview_seen and len(steps_seen) >= 2:
            preview_seen = True
            assert float(card.locator("progress").get_attribute("value") or card.locator("progress").evaluate("p => p.value")) > 0
            ui.shot("watch-2-running")
        if preview_seen and len(steps_seen) >= 3:
            break
        page.wait_for_timeout(250)
    assert len(steps_seen) >= 3, f"progress seen at steps {sorted(steps_seen)}"
    assert preview_seen, "no live preview shown while running"
    assert re.search(r"ETA (\d+ s|<1 s|—)", state.text_content() or "") or card.locator(".badge").text_content() == "Done"

    expect(card.locator(".badge")).to_have_text("Done", timeout=30000)
    expect(card.locator(".state-text")).to_have_text(re.compile(r"^1 image in \d+ s$"))
    expect(card.locator("progress")).to_be_hidden()
    card.locator(".thumb img").evaluate("img => img.decode()")
    assert card.locator(".thumb img").evaluate("img => img.naturalWidth") == 256
    expect(card.get_by_role("button", name="Remove this task")).to_be_visible()
    assert api.task(accepted["task_id"])["status"] == "done"
    expect(page.locator("#gallery-count")).to_have_text("2")
    ui.shot("watch-3-done")


def test_batches_show_batch_numbers(start_server, make_ui):
    server = start_server(step_seconds=0.1)
    ui = make_ui(server.url).open()
    accepted = ui.submit(prompt="two batches", steps=25, n_iter=2, width=64, height=64)
    card = ui.card(accepted["task_id"])
    expect(card.locator(".state-text")).to_contain_text("Batch 1/2", timeout=20000)
    expect(card.locator(".state-text")).to_contain_text("Batch 2/2", timeout=20000)
    expect(card.locator(".badge")).to_have_text("Done", timeout=20000)
    expect(card.locator(".state-text")).to_have_text(re.compile(r"^2 images in"))
    expect(card.locator(".thumb-count")).to_have_text("×2")


def test_img2img_with_a_picked_image(ui, api, tmp_path):
    from PIL import Image

    path = tmp_path / "init.png"
    Image.new("RGB", (64, 64), (200, 80, 40)).save(path)
    ui.open()
    ui.page.get_by_role("radio", name="img2img").check()
    expect(ui.page.locator("#submit-button")).to_have_text("Queue img2img")
    ui.page.set_input_files("#f-init_image", str(path))
    expect(ui.page.locator("#init-preview")).to_be_visible()
    expect(ui.page.locator("#drop-text")).to_contain_text("init.png")
    accepted = ui.submit(prompt="repaint it", steps=4, width=64, height=64, denoising_strength=0.5)
    card = ui.card(accepted["task_id"])
    expect(card.locator(".badge")).to_have_text("Done", timeout=30000)
    task = api.task(accepted["task_id"])
    assert task["type"] == "img2img" and task["params"]["denoising_strength"] == 0.5
    expect(card.locator(".meta")).to_contain_text("img2img")
    # its input image: a small inset on the card, and next to the result in the viewer
    inset = card.locator(".thumb-input")
    expect(inset).to_be_visible()
    assert "/inputs/0" in inset.evaluate("e => e.style.backgroundImage")
    card.locator(".thumb").click()
    expect(ui.page.locator("#viewer-input")).to_be_visible()
    source = ui.page.locator("#viewer-input-image")
    expect(source).to_have_attribute("src", re.compile(r"/inputs/0$"))
    source.evaluate("i => i.decode()")
    assert source.evaluate("i => [i.naturalWidth, i.naturalHeight]") == [64, 64]
    ui.shot("watch-4-img2img-viewer")
