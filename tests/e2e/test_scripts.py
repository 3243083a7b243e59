"""The form's script selector: X/Y/Z plot over checkpoints and Prompt matrix, sent with
the arguments webui's API takes; a task's grid shows on its card and in the gallery."""

import re

from .conftest import expect


def wait_for_scripts(page):
    page.wait_for_function("document.querySelector('#f-script_name').options.length > 1"
                           " && document.querySelectorAll('#xyz-checkpoints input').length > 0")


def test_xyz_plot_over_both_checkpoints_from_the_page_shows_its_grid_and_images(ui, api):
    page = ui.open().page
    wait_for_scripts(page)
    expect(page.locator("#f-script_name option")).to_have_text(["None", "X/Y/Z plot", "Prompt matrix"])
    page.select_option("#f-script_name", "X/Y/Z plot")
    expect(page.locator("#xyz-fields")).to_be_visible()
    boxes = page.locator("#xyz-checkpoints input")
    expect(boxes).to_have_count(2)
    titles = [boxes.nth(i).get_attribute("value") for i in range(2)]
    page.get_by_label("modelA").check()
    page.get_by_label("modelB").check()
    accepted = ui.submit(prompt="a windmill", steps=2, width=64, height=64, seed=5)

    task = api.wait(accepted["task_id"])
    assert task["status"] == "done", task
    args = task["params"]["script_args"]
    assert task["params"]["script_name"] == "X/Y/Z plot" and len(args) == 18
    xyz = {s["name"]: s for s in api.get("/queue/v1/scripts").json()["txt2img"]}["X/Y/Z plot"]
    assert args[0] == xyz["args"][0]["choices"].index("Checkpoint name")
    assert args[2] == titles and args[3] == 0 and args[6] == 0 and args[10] is True
    assert len(task["images"]) == 2 and len(task["grids"]) == 1

    card = ui.card(accepted["task_id"])
    expect(card.locator(".state-text")).to_contain_text("2 images and a grid")
    expect(card.locator(".thumb img")).to_have_attribute("alt", "Grid")
    card.locator(".thumb").click()  # the card opens its grid
    expect(page.locator("#viewer-title")).to_have_text(re.compile(r"· grid$"))
    page.locator("#viewer-image").evaluate("i => i.decode()")
    width, height = page.locator("#viewer-image").evaluate("i => [i.naturalWidth, i.naturalHeight]")
    assert width >= 128 and height >= 64  # two 64x64 cells side by side
    page.keyboard.press("ArrowRight")
    expect(page.locator("#viewer-title")).to_have_text(re.compile(r"· image 1 of 2$"))
    expect(page.locator("#viewer-infotext")).to_contain_text("Model: modelA")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#viewer-infotext")).to_contain_text("Model: modelB")
    page.locator("#viewer-close").click()

    page.goto(f"{ui.url}/queue/#gallery")
    tiles = page.locator("#gallery-grid li")
    expect(tiles).to_have_count(3)
    expect(tiles.nth(0)).to_have_class(re.compile(r"\bis-grid\b"))
    expect(page.get_by_role("button", name=re.compile(r"^Open: a windmill \(grid"))).to_be_visible()
    ui.shot("scripts-xyz-gallery")


def test_xyz_plot_without_a_checkpoint_picked_is_refused_on_the_page(ui, api):
    page = ui.open().page
    wait_for_scripts(page)
    page.select_option("#f-script_name", "X/Y/Z plot")
    before = api.get("/queue/v1/tasks").json()["count"]
    page.fill("#f-prompt", "a windmill")
    page.click("#submit-button")
    expect(page.locator("#f-script_args-error")).to_have_text("Pick at least one checkpoint for the X axis.")
    assert api.get("/queue/v1/tasks").json()["count"] == before


def test_prompt_matrix_from_the_page_makes_every_combination_and_a_grid(ui, api):
    page = ui.open().page
    wait_for_scripts(page)
    page.select_option("#f-script_name", "Prompt matrix")
    expect(page.locator("#matrix-hint")).to_be_visible()
    accepted = ui.submit(prompt="a house|red roof|snow", steps=2, width=64, height=64)
    task = api.wait(accepted["task_id"])
    assert task["status"] == "done" and len(task["images"]) == 4 and len(task["grids"]) == 1
    defaults = {s["name"]: s for s in api.get("/queue/v1/scripts").json()["txt2img"]}["Prompt matrix"]["args"]
    assert task["params"]["script_args"] == [a["value"] for a in defaults]
    expect(ui.card(accepted["task_id"]).locator(".thumb-count")).to_have_text("grid + 4")


def test_reusing_an_xyz_task_sets_the_script_and_its_checkpoints_again(ui, api):
    titles = [c["title"] for c in api.get("/queue/v1/checkpoints").json()["data"]]
    xyz = {s["name"]: s for s in api.get("/queue/v1/scripts").json()["txt2img"]}["X/Y/Z plot"]
    args = [a["value"] for a in xyz["args"]]
    args[0], args[1], args[2], args[10] = xyz["args"][0]["choices"].index("Checkpoint name"), "", [titles[1]], True
    api.wait(api.submit({"prompt": "a mill", "steps": 2, "width": 64, "height": 64,
                         "script_name": "X/Y/Z plot", "script_args": args}))
    page = ui.open("gallery").page
    wait_for_scripts(page)
    page.locator("#gallery-grid li").first.locator("button").click()
    page.get_by_role("button", name="Use these settings again").click()
    expect(page.locator("#f-script_name")).to_have_value("X/Y/Z plot")
    expect(page.locator("#xyz-fields")).to_be_visible()
    # (a title gains its hash once webui has computed it: the same checkpoint either way)
    checked = page.locator("#xyz-checkpoints input:checked").evaluate_all("bs => bs.map(b => b.value)")
    assert [t.split(" [")[0] for t in checked] == [titles[1].split(" [")[0]]
