"""On webui's own page, what a person picks in the quick settings row or applies in the
Settings tab is theirs alone: their Generate runs with it, their page shows it after a
reload, nobody else's changes, and the box's default (webui's options, config.json)
moves only for an admin of the queue."""

import json
import os

import httpx

from .conftest import LOGINS, expect, model_in


def box_default(admin):
    return admin.options()["sd_model_checkpoint"]


def test_two_people_pick_their_own_model_and_clip_skip(webui, login):
    server, admin = webui
    alice, bob = login("alice"), login("bob")
    assert "modelA" in alice.shown("sd_model_checkpoint") and "modelA" in bob.shown("sd_model_checkpoint")

    alice.pick("sd_model_checkpoint", "modelB")
    alice.slide("CLIP_stop_at_last_layers", 2)
    assert "modelA" in bob.reload().shown("sd_model_checkpoint")  # bob's page: the box's, as before
    bobs = bob.generate("bob's lighthouse")
    alices = alice.generate("alice's lighthouse")
    assert model_in(bobs) == "modelA" and "Clip skip" not in bobs, bobs
    assert model_in(alices) == "modelB" and "Clip skip: 2" in alices, alices

    assert "modelB" in alice.reload().shown("sd_model_checkpoint")  # hers, on every load
    assert alice.page.locator("#setting_CLIP_stop_at_last_layers input[type=number]").input_value() == "2"
    assert "modelA" in box_default(admin)
    with open(os.path.join(server.data_dir, "config.json")) as f:
        assert "modelB" not in json.load(f).get("sd_model_checkpoint", "")
    fresh = login("bob")  # a fresh page for bob: the box's default
    assert "modelA" in fresh.shown("sd_model_checkpoint")
    assert model_in(fresh.generate("bob again")) == "modelA"


def test_the_settings_tab_keeps_a_person_s_own_and_refuses_the_box_s_with_a_message(webui, login):
    _, admin = webui
    alice = login("alice")
    alice.tab("Settings")
    box = alice.page.locator("#setting_samples_format input, #setting_samples_format textarea").first
    box.fill("jpg")
    alice.page.locator("#settings_submit").click()
    result = alice.page.locator("#settings_result").first
    expect(result).to_contain_text("Not applied: samples_format", timeout=20000)
    expect(result).to_contain_text("only an admin")
    assert admin.options().get("samples_format", "png") == "png"
    box.fill("png")  # back as it was: nothing to apply, nothing refused
    alice.page.locator("#settings_submit").click()
    expect(result).to_contain_text("0 settings changed", timeout=20000)


def test_an_admin_on_the_page_changes_the_box_s_default_as_in_stock_webui(webui, login):
    _, admin = webui
    owner, alice = login("owner"), login("alice")
    owner.pick("sd_model_checkpoint", "modelB")
    assert "modelB" in box_default(admin)
    assert "modelB" in alice.reload().shown("sd_model_checkpoint")  # she has no pick: she follows the box
    assert model_in(alice.generate("follows the box")) == "modelB"


def test_the_login_is_the_person_on_the_queue_s_page_and_api(webui, login):
    server, admin = webui
    alice = login("alice")
    alice.pick("sd_model_checkpoint", "modelB")
    me = alice.page.request.get(server.url + "/queue/v1/me").json()  # the session cookie, no key
    assert me["name"] == "alice" and me["role"] == "user", me
    assert "modelB" in me["settings"]["sd_model_checkpoint"]
    alice.page.goto(server.url + "/queue/")
    expect(alice.page.locator("body")).to_contain_text("alice", timeout=20000)
    # the same cookie from another site's page does not act for her
    r = httpx.post(server.url + "/queue/v1/txt2img", json={"prompt": "x", "steps": 2, "width": 64, "height": 64},
                   cookies={c["name"]: c["value"] for c in alice.page.context.cookies()},
                   headers={"Origin": "http://elsewhere.example"})
    assert r.status_code == 403, r.text
    assert httpx.get(server.url + "/queue/v1/me").status_code == 401  # no cookie, no key: nobody
    assert LOGINS  # the logins are webui's, not the queue's: no key was made for alice
    assert admin.get("/queue/v1/users/alice").json()["keys"] == []


def test_a_pick_whose_checkpoint_went_gives_way_to_the_box_s_with_a_note_on_the_page(webui, login):
    server, admin = webui
    alice = login("alice")
    alice.pick("sd_model_checkpoint", "modelB")
    os.remove(os.path.join(server.ckpt_dir, "modelB.safetensors"))
    assert admin.post("/sdapi/v1/refresh-checkpoints").status_code == 200
    alice.reload()
    assert "modelA" in alice.shown("sd_model_checkpoint")
    expect(alice.page.locator("#setting_sd_model_checkpoint")).to_contain_text("modelB", timeout=10000)
    expect(alice.page.locator("#setting_sd_model_checkpoint")).to_contain_text("the box's default is used")
    assert model_in(alice.generate("after it went")) == "modelA"
