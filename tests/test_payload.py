"""Request checks: every problem named by field and reason, nothing half-accepted."""

import base64
import io

import pytest
from PIL import Image

from webui_taskqueue.errors import PayloadError
from webui_taskqueue.payload import Limits, check, decode_image, json_schema


def png_b64(size=(16, 16)):
    out = io.BytesIO()
    Image.new("RGB", size, "red").save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


def errors_of(kind, body, limits=Limits()):
    with pytest.raises(PayloadError) as caught:
        check(kind, body, limits)
    return {tuple(e["loc"][1:]): e["msg"] for e in caught.value.errors}


def test_a_plain_request_passes_with_ignored_fields_dropped():
    params = check("txt2img", {"prompt": "a cat", "steps": 4, "send_images": True, "seed": None}, Limits())
    assert params == {"prompt": "a cat", "steps": 4}


@pytest.mark.parametrize("field, value, says", [
    ("width", 100, "multiple of 8"),
    ("height", 4096, "max_height"),
    ("width", 32, "between 64"),
    ("steps", 0, "max_steps"),
    ("steps", 151, "max_steps"),
    ("batch_size", 9, "max_batch_size"),
    ("n_iter", 0, "max_n_iter"),
    ("denoising_strength", 1.5, "between 0 and 1"),
    ("steps", "20", "must be an integer"),
    ("steps", True, "must be an integer"),
    ("prompt", 5, "must be a string"),
    ("styles", ["a", 1], "array of strings"),
    ("stepz", 20, "unknown field"),
    ("infotext", "Steps: 20", "not supported"),
])
def test_bad_field_is_named_with_its_reason(field, value, says):
    found = errors_of("txt2img", {field: value})
    assert says in found[(field,)]


def test_limits_come_from_settings():
    assert "max_steps" in errors_of("txt2img", {"steps": 11}, Limits(max_steps=10))[("steps",)]


def test_every_problem_is_reported_at_once():
    assert set(errors_of("txt2img", {"width": 65, "steps": 0})) == {("width",), ("steps",)}


def test_checkpoint_cannot_be_smuggled_through_override_settings():
    found = errors_of("txt2img", {"override_settings": {"sd_model_checkpoint": "b"}})
    assert "checkpoint" in found[("override_settings",)]


def test_body_must_be_an_object():
    with pytest.raises(PayloadError):
        check("txt2img", [1, 2], Limits())


def test_img2img_needs_decodable_init_images():
    assert "at least one" in errors_of("img2img", {"prompt": "x"})[("init_images",)]
    found = errors_of("img2img", {"init_images": [png_b64(), "not base64!", base64.b64encode(b"text").decode()],
                                   "batch_size": 3})
    assert "base64" in found[("init_images", 1)] and "decodable image" in found[("init_images", 2)]
    assert "decodable" in errors_of("img2img", {"init_images": [png_b64()], "mask": "aGVsbG8="})[("mask",)]


def test_img2img_accepts_data_urls():
    params = check("img2img", {"init_images": ["data:image/png;base64," + png_b64()]}, Limits())
    assert decode_image(params["init_images"][0]).size == (16, 16)


def test_schema_describes_every_field():
    schema = json_schema("img2img")
    assert schema["properties"]["init_images"] == {"type": "array", "items": {"type": "string"},
                                                   "description": "base64 images (a data: URL prefix is allowed)"}
    assert "checkpoint" in schema["properties"] and schema["required"] == ["init_images"]
