"""Bad input: a 4xx naming the field and the reason, and nothing enqueued."""

import base64

import pytest


def count_tasks(target):
    return target.get("/queue/v1/tasks", params={"limit": 1}).json()["count"]


def ok(**kw):
    return {"prompt": "x", "steps": 2, "width": 64, "height": 64, **kw}


CASES = [
    ("txt2img", ok(checkpoint="no-such-model"), "checkpoint", "unknown checkpoint"),
    ("txt2img", ok(vae="no-such-vae.pt"), "vae", "unknown VAE"),
    ("txt2img", ok(sampler_name="Eulr"), "sampler_name", "unknown sampler"),
    ("txt2img", ok(scheduler="Karass"), "scheduler", "unknown scheduler"),
    ("txt2img", ok(width=100), "width", "multiple of 8"),
    ("txt2img", ok(height=8192), "height", "max_height"),
    ("txt2img", ok(steps=0), "steps", "max_steps"),
    ("txt2img", ok(steps=10000), "steps", "max_steps"),
    ("txt2img", ok(batch_size=99), "batch_size", "max_batch_size"),
    ("txt2img", ok(n_iter=0), "n_iter", "max_n_iter"),
    ("txt2img", ok(steps="many"), "steps", "integer"),
    ("txt2img", ok(stepz=3), "stepz", "unknown field"),
    ("img2img", ok(), "init_images", "at least one"),
    ("img2img", ok(init_images=["%%%"]), "init_images", "base64"),
    ("img2img", ok(init_images=[base64.b64encode(b"not an image").decode()]), "init_images", "decodable"),
]


@pytest.mark.parametrize("kind, body, field, reason", CASES, ids=[f"{c[2]}-{c[3]}" for c in CASES])
def test_bad_request_is_refused_naming_field_and_reason(target, kind, body, field, reason):
    before = count_tasks(target)
    r = target.post(f"/queue/v1/{kind}", json=body)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert any(e["loc"][1] == field and reason in e["msg"] for e in detail), detail
    assert count_tasks(target) == before


def test_body_over_the_limit_is_refused_with_413(target):
    before = count_tasks(target)
    big = "A" * (51 * 1024 * 1024)
    r = target.post("/queue/v1/img2img", content=b'{"init_images": ["' + big.encode() + b'"]}',
                    headers={"content-type": "application/json"})
    assert r.status_code == 413 and "max_body_mb" in r.json()["detail"][0]["msg"]
    assert count_tasks(target) == before


def test_malformed_json_is_refused(target):
    r = target.post("/queue/v1/txt2img", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "JSON" in r.json()["detail"][0]["msg"]
