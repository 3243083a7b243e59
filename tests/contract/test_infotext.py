"""`infotext`: a pasted infotext (a PNG's parameters) fills the fields a request leaves
out, as webui's own API does (its Api.apply_infotext, at submit), so the task stores the
request it resolves to and every check applies to what the infotext filled in."""

import httpx
import pytest
from PIL import ImageChops, ImageStat

from .client import model_hash
from .test_scripts import small


TEXT = "a cat\nSteps: 2, Sampler: Euler, Seed: 1, Size: 64x64"


@pytest.fixture(scope="module")
def applies(target):
    """Whether the host's own API applies a pasted infotext: Forge's (dfdcbab6) fails every
    one (a TypeError in its Api.apply_infotext, on its list fields)."""
    # a connection of its own: Forge drops the connection of a request its API failed
    with httpx.Client(base_url=target.url, headers=target.http.headers, timeout=300) as http:
        try:
            r = http.post("/sdapi/v1/txt2img", json={"infotext": TEXT, "steps": 1, "width": 64, "height": 64})
        except httpx.HTTPError:
            return False
    return r.status_code == 200


def refused_where_the_host_cannot(target, applies):
    """Where the host's own API cannot apply an infotext, the queue says so at submit."""
    if applies:
        return
    target.refuses({"infotext": TEXT}, "infotext")
    pytest.skip("this host's own API fails every pasted infotext (Forge: its Api.apply_infotext); "
                "the queue refuses one with a 422 on infotext, checked")


def pasted(target, task):
    """A request made of nothing but the task's first infotext, on the same checkpoint."""
    return {"infotext": task["infotexts"][0], "checkpoint": task["checkpoint"]}


def test_a_pasted_infotext_makes_the_image_it_describes(target, applies, models):
    refused_where_the_host_cannot(target, applies)
    first = target.wait(target.submit(small(prompt="a red kite", negative_prompt="fog", seed=7, cfg_scale=5,
                                            width=64, height=96, checkpoint=models[0][0])))
    assert first["status"] == "done", first
    again = target.wait(target.submit(pasted(target, first)))
    assert again["status"] == "done", again
    params = again["params"]
    assert "infotext" not in params  # the resolved request is stored, not the text
    assert (params["prompt"], params["negative_prompt"], params["seed"], params["steps"]) == ("a red kite", "fog", 7, 2)
    assert (params["width"], params["height"], params["cfg_scale"]) == (64, 96, 5)
    assert ImageChops.difference(target.image(first).convert("RGB"), target.image(again).convert("RGB")).getbbox() is None


def test_fields_the_request_sets_win_over_the_infotext(target, applies, models):
    refused_where_the_host_cannot(target, applies)
    first = target.wait(target.submit(small(seed=3, checkpoint=models[0][0])))
    again = target.wait(target.submit({**pasted(target, first), "seed": 4, "prompt": "a barn"}))
    assert again["status"] == "done", again
    assert (again["params"]["seed"], again["params"]["prompt"], again["params"]["steps"]) == (4, "a barn", 2)


def test_an_always_on_scripts_arguments_come_back_from_its_infotext(target, models):
    if target.real:
        pytest.skip("the stand-in's Tint script writes its arguments into the infotext; webui's built-in ones do not")
    tinted = target.wait(target.submit(small(checkpoint=models[0][0], alwayson_scripts={"Tint": {"args": [True, 0.8]}})))
    again = target.wait(target.submit(pasted(target, tinted)))
    assert again["status"] == "done", again
    assert again["params"]["alwayson_scripts"] == {"Tint": {"args": [True, 0.8]}}
    assert ImageStat.Stat(target.image(again).convert("RGB")).mean[0] > 200  # red, as the original


def test_what_an_infotext_fills_in_is_checked_as_if_it_had_been_sent(target, applies):
    refused_where_the_host_cannot(target, applies)
    target.refuses({"infotext": "a cat\nSteps: 100000, Sampler: Euler, Seed: 1, Size: 64x64"}, "steps")
    target.refuses({"infotext": "a cat\nSteps: 2, Sampler: Euler, Seed: 1, Size: 60x64"}, "width")
    target.refuses({"infotext": "a cat\nSteps: 2, Sampler: Euler, Seed: 1, Size: 64x64, Hires upscaler: nope, "
                                "Hires upscale: 2, Denoising strength: 0.5"}, "hr_upscaler")


def test_an_infotexts_model_is_taken_only_when_webui_is_set_to_take_it(target, applies, models):
    refused_where_the_host_cannot(target, applies)
    a = models[0][0]
    on_b = target.wait(target.submit(small(checkpoint=models[1][0])))  # (its hash is known once it was loaded)
    b, b_hash = on_b["checkpoint"].split(" [")[0], model_hash(on_b["infotexts"][0])  # (a title gains its hash)
    text = f"a cat\nSteps: 2, Sampler: Euler, Seed: 1, Size: 64x64, Model hash: {b_hash}"
    base = lambda title: title.split(" [")[0]  # noqa: E731 (A's title gains its hash once A loads: on Forge, later)
    assert base(target.task(target.submit({"infotext": text, "checkpoint": a}))["checkpoint"]) == base(a)
    # webui's default, "Do not change selected model when reading generation parameters": the default model
    default = target.task(target.submit(small()))["checkpoint"]
    assert target.task(target.submit({"infotext": text}))["checkpoint"] == default
    before = target.options().get("disable_weights_auto_swap", True)
    target.set_options(disable_weights_auto_swap=False)
    try:
        assert target.task(target.submit({"infotext": text}))["checkpoint"].startswith(b)
        assert base(target.task(target.submit({"infotext": text, "checkpoint": a}))["checkpoint"]) == base(a)  # the request wins
        target.refuses({"infotext": text.replace(b_hash, "0123456789")}, "checkpoint")  # webui would load another
    finally:
        target.set_options(disable_weights_auto_swap=before)


def test_without_its_ui_webui_cannot_apply_an_infotext_and_the_queue_says_so(standin_factory):
    server = standin_factory(extra_args=["--nowebui"])
    server.start()
    client = server.client()
    r = client.post("/queue/v1/txt2img", json={"infotext": "a cat\nSteps: 2, Sampler: Euler, Seed: 1, Size: 64x64"})
    assert r.status_code == 422, r.text
    [problem] = r.json()["detail"]
    assert problem["loc"] == ["body", "infotext"] and "--nowebui" in problem["msg"]
