"""The form offers webui's styles, LoRAs and embeddings to put into the prompt, and the
hires fix and refiner controls; what they set reaches the task."""

from .conftest import expect


def wait_for_extras(page):
    """The three lists and the upscalers came from the server."""
    page.wait_for_function("document.querySelector('#x-lora option')?.value"
                           " && document.querySelector('#f-hr_upscaler')?.dataset.loaded")


def test_a_style_and_a_lora_go_into_the_prompt_and_reach_the_task(ui, api):
    page = ui.open().page
    wait_for_extras(page)
    expect(page.locator("#x-lora option")).to_have_text(["paperCut", "watercolor (watercolor_v2)"])
    expect(page.locator("#x-embedding option")).to_have_text(["easynegative", "goodhands"])  # not the SDXL one

    page.fill("#f-prompt", "a lighthouse")
    page.fill("#f-negative_prompt", "")
    page.select_option("#x-style", "clean")
    page.get_by_role("button", name="Apply the style to the prompts").click()
    expect(page.locator("#f-prompt")).to_have_value("a lighthouse, sharp focus")
    expect(page.locator("#f-negative_prompt")).to_have_value("blurry, watermark")
    page.select_option("#x-style", "cinematic")  # `{prompt}` in a style: the prompt goes there
    page.get_by_role("button", name="Apply the style to the prompts").click()
    expect(page.locator("#f-prompt")).to_have_value("a lighthouse, sharp focus, cinematic")

    page.select_option("#x-lora", "watercolor")  # the alias, as webui's own Lora tab writes it
    page.get_by_role("button", name="Add the LoRA to the prompt").click()
    expect(page.locator("#f-prompt")).to_have_value("a lighthouse, sharp focus, cinematic, <lora:watercolor:1>")
    expect(page.locator("#extras-status")).to_contain_text("<lora:watercolor:1>")

    page.focus("#f-negative_prompt")  # an embedding goes to the prompt last typed in
    page.select_option("#x-embedding", "easynegative")
    page.get_by_role("button", name="Add the embedding to the prompt").click()
    expect(page.locator("#f-negative_prompt")).to_have_value("blurry, watermark, easynegative")

    accepted = ui.submit(steps=2, width=64, height=64)
    params = api.wait(accepted["task_id"])["params"]
    assert params["prompt"] == "a lighthouse, sharp focus, cinematic, <lora:watercolor:1>"
    assert params["negative_prompt"] == "blurry, watermark, easynegative"


def test_hires_and_refiner_controls_reach_the_tasks_params(ui, api):
    page = ui.open().page
    wait_for_extras(page)
    expect(page.locator("#hires-body")).to_be_hidden()
    page.check("#f-enable_hr")
    expect(page.locator("#hires-body")).to_be_visible()
    # webui's hires list: the latent modes, then the upscalers
    expect(page.locator("#f-hr_upscaler option")).to_have_text(["Latent", "Latent (nearest)", "None", "Lanczos", "Nearest"])
    page.select_option("#f-hr_upscaler", "Lanczos")
    page.fill("#f-hr_scale", "1.5")
    page.fill("#f-hr_second_pass_steps", "3")
    page.fill("#f-hires_denoising", "0.4")
    refiner = page.locator("#f-refiner_checkpoint option")
    expect(refiner).to_have_count(3)  # None and the two checkpoints
    title = refiner.nth(2).get_attribute("value")
    page.select_option("#f-refiner_checkpoint", title)
    page.fill("#f-refiner_switch_at", "0.6")
    accepted = ui.submit(prompt="a harbour", steps=2, width=64, height=64)
    params = api.task(accepted["task_id"])["params"]
    assert params["enable_hr"] is True
    assert (params["hr_upscaler"], params["hr_scale"], params["hr_second_pass_steps"]) == ("Lanczos", 1.5, 3)
    assert params["denoising_strength"] == 0.4
    assert (params["refiner_checkpoint"], params["refiner_switch_at"]) == (title, 0.6)

    # switched off: none of it is sent
    page.uncheck("#f-enable_hr")
    page.select_option("#f-refiner_checkpoint", "")
    accepted = ui.submit(prompt="a harbour")
    params = api.task(accepted["task_id"])["params"]
    assert "enable_hr" not in params and "hr_upscaler" not in params and "refiner_checkpoint" not in params


def test_an_upscaler_webui_does_not_know_is_shown_next_to_its_control(ui, api):
    page = ui.open().page
    wait_for_extras(page)
    page.check("#f-enable_hr")
    # a remembered choice webui no longer offers (as after a reload of webui's upscalers)
    page.evaluate("""() => { const s = document.querySelector('#f-hr_upscaler');
                              s.append(new Option('Gone 4x', 'Gone 4x')); s.value = 'Gone 4x'; }""")
    ui.submit(expect_status=422, prompt="a harbour")
    expect(page.locator("#f-hr_upscaler-error")).to_contain_text("unknown upscaler 'Gone 4x'")
    expect(page.locator("#f-hr_upscaler")).to_have_attribute("aria-invalid", "true")
