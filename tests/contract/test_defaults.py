"""A field a request leaves out runs with webui's API default, not the processing
class's: webui's API passes every field of its request model, and for txt2img that
model says `denoising_strength: None` where the class says 0.75. A request without it
gives the same generation info through the queue as through webui's own API."""

import base64
import io
import json

import pytest
from PIL import Image

from .test_native import native, set_door

Q = "/queue/v1"


def minimal(kind):
    """Every field the queue could default left out, but what keeps the test quick."""
    payload = {"prompt": "defaults", "width": 64, "height": 64, "steps": 3, "seed": 11, "subseed": 5}
    if kind == "img2img":
        init = io.BytesIO()
        Image.new("RGB", (64, 64), (20, 160, 90)).save(init, format="PNG")
        payload["init_images"] = [base64.b64encode(init.getvalue()).decode()]
    return payload


def same(info):
    return {k: v for k, v in json.loads(info).items() if k != "job_timestamp"}


@pytest.mark.parametrize("kind", ["txt2img", "img2img"])
def test_left_out_fields_run_with_webui_s_api_defaults(admin, people, kind):
    ann, _ = people
    with native(ann) as http:
        plain = http.post(f"/sdapi/v1/{kind}", json=minimal(kind))
        assert plain.status_code == 200, plain.text
        set_door(admin, True)
        try:
            queued = http.post(f"/sdapi/v1/{kind}", json=minimal(kind))
        finally:
            set_door(admin, False)
    assert queued.status_code == 200, queued.text
    webui, ours = same(plain.json()["info"]), same(queued.json()["info"])
    assert ours == webui, {k: (webui.get(k), ours.get(k)) for k in set(webui) | set(ours) if webui.get(k) != ours.get(k)}
    task = ann.wait(ann.submit(minimal(kind), kind=kind))  # the queue's own route: the same run
    assert task["infotexts"] == webui["infotexts"]
