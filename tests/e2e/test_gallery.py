"""The gallery: full-size view with infotext, download, "use these settings again",
delete; and keyboard use of it."""

import re

from .conftest import expect


def test_gallery_view_download_reuse_delete(ui, api):
    one = api.submit({"prompt": "red fox in snow", "negative_prompt": "blurry", "width": 128, "height": 64,
                      "steps": 5, "seed": 77, "cfg_scale": 5.5, "sampler_name": "DPM++ 2M",
                      "scheduler": "Exponential", "checkpoint": "modelB", "batch_size": 2})
    two = api.submit({"prompt": "blue whale", "width": 64, "height": 64, "steps": 3})
    api.wait(one)
    api.wait(two)
    page = ui.open("gallery").page
    tiles = page.locator("#gallery-grid li")
    expect(tiles).to_have_count(3)
    expect(page.locator("#gallery-summary")).to_have_text("3 images")
    for i in range(3):
        tiles.nth(i).locator("img").evaluate("i => i.decode()")
    ui.shot("gallery-1-grid")

    # keyboard: Tab to the first fox image, Enter opens it
    fox = page.get_by_role("button", name=re.compile(r"^Open: red fox in snow \(image 1 of 2"))
    fox.focus()
    page.keyboard.press("Enter")
    viewer = page.locator("#viewer")
    expect(viewer).to_be_visible()
    expect(page.locator("#viewer-title")).to_have_text("modelB · image 1 of 2")
    info = page.locator("#viewer-infotext")
    expect(info).to_contain_text("red fox in snow")
    expect(info).to_contain_text("Negative prompt: blurry")
    expect(info).to_contain_text("Seed: 77")
    expect(info).to_contain_text("Size: 128x64")
    page.locator("#viewer-image").evaluate("i => i.decode()")
    assert page.locator("#viewer-image").evaluate("i => [i.naturalWidth, i.naturalHeight]") == [128, 64]
    ui.shot("gallery-2-viewer")

    # download: a same-origin PNG link with a file name
    link = page.locator("#viewer-download")
    expect(link).to_have_attribute("download", re.compile(r"^task-[0-9a-f]{8}-1\.png$"))
    href = link.get_attribute("href")
    assert page.evaluate("u => fetch(u).then(r => r.headers.get('content-type'))", href) == "image/png"

    page.keyboard.press("ArrowRight")
    expect(page.locator("#viewer-title")).to_have_text("modelB · image 2 of 2")
    expect(info).to_contain_text("Seed: 78")

    # use these settings again: the form as the task was accepted
    page.get_by_role("button", name="Use these settings again").click()
    expect(viewer).to_be_hidden()
    expect(page.locator("#view-create")).to_be_visible()
    expect(page.locator("#f-prompt")).to_have_value("red fox in snow")
    expect(page.locator("#f-negative_prompt")).to_have_value("blurry")
    expect(page.locator("#f-seed")).to_have_value("77")
    expect(page.locator("#f-width")).to_have_value("128")
    expect(page.locator("#f-cfg_scale")).to_have_value("5.5")
    expect(page.locator("#f-batch_size")).to_have_value("2")
    expect(page.locator("#f-sampler_name")).to_have_value("DPM++ 2M")
    expect(page.locator("#f-scheduler")).to_have_value("Exponential")
    expect(page.locator("#f-checkpoint")).to_have_value(re.compile(r"^modelB"))
    expect(page.locator("#f-prompt")).to_be_focused()

    # delete: two steps, then gone here and on the server
    page.goto(page.url.split("#")[0] + "#gallery")
    page.get_by_role("button", name=re.compile(r"^Open: blue whale")).click()
    delete = page.locator("#viewer-delete")
    expect(delete).to_have_text("Delete task")
    delete.click()
    expect(delete).to_have_text("Delete the task and its image?")
    delete.click()
    expect(tiles).to_have_count(2)
    assert api.get(f"/queue/v1/tasks/{two}").status_code == 404
    # the viewer moved on to what is left; Escape closes it
    expect(page.locator("#viewer-title")).to_contain_text("modelB")
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    expect(ui.card(two)).to_have_count(0)
