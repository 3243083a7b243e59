"""What the page offers to put into a prompt (styles, LoRAs, embeddings) and the hires
fix's upscalers: the queue lists what webui's own API lists, behind the queue's key."""

import httpx
import pytest

from .client import standin_mode

Q = "/queue/v1"
ROUTES = ("/styles", "/loras", "/embeddings", "/upscalers")


def listed(target, route):
    r = target.get(Q + route)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def native(target, path):
    """webui's own list, or None where webui does not serve it (its Lora extension off)."""
    r = target.get(f"/sdapi/v1/{path}")
    if r.status_code == 404:
        return None
    assert r.status_code == 200, r.text
    return r.json()


def dividers(target):
    """The '---- NAME ----' heads webui puts in its style menu, one per styles file when it
    has several (Forge always does): no prompt at all."""
    return [s["name"] for s in native(target, "prompt-styles") if s["prompt"] is None and s["negative_prompt"] is None]


def test_styles_are_webuis_saved_styles_with_their_prompts_without_its_menus_dividers(target):
    mine = listed(target, "/styles")
    assert mine == [{"name": s["name"], "prompt": s["prompt"] or "", "negative_prompt": s["negative_prompt"] or ""}
                    for s in native(target, "prompt-styles") if s["name"] not in dividers(target)]
    if not target.real:
        assert {"name": "clean", "prompt": "sharp focus", "negative_prompt": "blurry, watermark"} in mine
        assert dividers(target)  # the stand-in has two styles files, as Forge


def test_a_styles_menu_divider_is_refused_at_submit(target):
    """Applying one would fail the task in webui (its prompt is None)."""
    found = dividers(target)
    if not found:
        pytest.skip("this webui has one styles file, so its style menu has no divider")
    r = target.post(f"{Q}/txt2img", json={"prompt": "a house", "steps": 1, "width": 64, "height": 64,
                                          "styles": [found[0]]})
    assert r.status_code == 422, r.text
    assert "styles" in r.text and found[0] in r.text


def test_loras_are_those_of_webuis_lora_extension_each_with_the_alias_a_prompt_uses(target):
    mine = listed(target, "/loras")
    theirs = native(target, "loras")
    if theirs is None:  # the built-in Lora extension is disabled: nothing to offer, not an error
        assert mine == []
        return
    assert [x["name"] for x in mine] == [x["name"] for x in theirs]
    for lora, same in zip(mine, theirs):
        assert lora["alias"] in (same["name"], same["alias"])  # the file's alias, or its name where webui says so
    if not target.real:
        assert mine == [{"name": "paperCut", "alias": "paperCut"}, {"name": "watercolor_v2", "alias": "watercolor"}]


def test_embeddings_are_those_loaded_for_the_present_model_not_the_skipped_ones(target):
    mine = [e["name"] for e in listed(target, "/embeddings")]
    theirs = native(target, "embeddings")
    assert sorted(mine) == sorted(theirs["loaded"])
    assert not set(mine) & set(theirs["skipped"])
    if not target.real and standin_mode() == "webui":
        assert mine == ["easynegative", "goodhands"] and "xl-only" in theirs["skipped"]
    elif not target.real:  # Forge lists every embedding, whatever the model
        assert mine == ["easynegative", "goodhands", "xl-only"]


def test_upscalers_are_the_hires_fixs_latent_modes_then_webuis_upscalers(target):
    mine = listed(target, "/upscalers")
    latent = [m["name"] for m in native(target, "latent-upscale-modes")]
    upscalers = [u["name"] for u in native(target, "upscalers")]
    assert mine == [{"name": n, "latent": True} for n in latent] + [{"name": n, "latent": False} for n in upscalers]


def test_a_listed_upscaler_and_style_are_taken_at_submit(target):
    """What the lists offer is what submit accepts (its names are checked there)."""
    names = [u["name"] for u in listed(target, "/upscalers")]
    upscaler = "Lanczos" if "Lanczos" in names else names[0]  # no model to download
    styles = [s["name"] for s in listed(target, "/styles")]
    body = {"prompt": "a house", "steps": 1, "width": 64, "height": 64, "enable_hr": True, "hr_upscaler": upscaler,
            "hr_scale": 1, "styles": styles, "n_iter": 1}
    r = target.post(f"{Q}/txt2img", json=body)
    assert r.status_code == 202, r.text
    target.wait(r.json()["task_id"])


@pytest.mark.parametrize("route", ROUTES)
def test_each_list_needs_a_key_once_users_exist(admin, route):
    r = httpx.get(admin.url + Q + route, headers={"Authorization": "Bearer tq_not-a-key"})
    assert r.status_code == 401, r.text


@pytest.mark.parametrize("route", ROUTES)
def test_each_list_documents_its_answer_and_401(target, route):
    operation = target.get("/openapi.json").json()["paths"][Q + route]["get"]
    assert {int(s) for s in operation["responses"]} == {200, 401, 429, 503}  # 429: over the reads per second
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("Public")
