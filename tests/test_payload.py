"""Request checks: every problem named by field and reason, nothing half-accepted."""

import base64
import io
import os

import pytest
from PIL import Image

from webui_taskqueue.errors import PayloadError
from webui_taskqueue.host import Setting
from webui_taskqueue.images_in import decode_image
from webui_taskqueue.payload import Limits, check, json_schema


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
    assert schema["properties"]["init_images"] == {"type": "array", "items": {"type": "string"}, "maxItems": 10_000,
                                                   "description": "base64 images (a data: URL prefix is allowed)"}
    assert schema["properties"]["prompt"] == {"type": "string", "maxLength": 65_536, "nullable": True}
    assert json_schema("txt2img", openapi="3.1.0")["properties"]["steps"]["type"] == ["integer", "null"]
    assert "checkpoint" in schema["properties"] and schema["required"] == ["init_images"]


SETTINGS = {
    "CLIP_stop_at_last_layers": Setting(1, minimum=1, maximum=12, step=1),
    "token_merging_ratio": Setting(0.0),
    "samples_format": Setting("png"),
    "enable_pnginfo": Setting(True),
    "hide_samplers": Setting([]),
    "opacity": Setting(1, minimum=0.0, maximum=1, step=0.01),
    "api_only_not": Setting("x", api=False),
}


@pytest.mark.parametrize("key, value, says", [
    ("no_such_setting", 1, "webui has no setting"),
    ("CLIP_stop_at_last_layers", "2", "whole number"),
    ("CLIP_stop_at_last_layers", 2.0, "whole number"),
    ("CLIP_stop_at_last_layers", True, "whole number"),
    ("CLIP_stop_at_last_layers", 13, "between 1 and 12"),
    ("token_merging_ratio", "0.5", "a number"),
    ("samples_format", 5, "a string"),
    ("enable_pnginfo", 1, "true or false"),
    ("hide_samplers", "Euler", "an array"),
    ("api_only_not", "y", "does not let its API"),
    ("samples_format", None, "a string"),
])
def test_override_settings_are_checked_against_webuis_settings(key, value, says):
    with pytest.raises(PayloadError) as caught:
        check("txt2img", {"override_settings": {key: value}}, Limits(), SETTINGS.get)
    [problem] = caught.value.errors
    assert problem["loc"] == ["body", "override_settings", key] and says in problem["msg"]


def test_override_settings_webui_takes_pass():
    overrides = {"CLIP_stop_at_last_layers": 2, "token_merging_ratio": 1, "samples_format": "jpg",
                 "enable_pnginfo": False, "hide_samplers": ["DDIM"], "opacity": 0.5}
    assert check("txt2img", {"override_settings": overrides}, Limits(), SETTINGS.get)["override_settings"] == overrides


def test_values_json_cannot_carry_are_refused_even_without_http():
    found = errors_of("txt2img", {"prompt": "\ud800", "cfg_scale": float("nan")})
    assert "surrogate" in found[("prompt",)] and "finite" in found[("cfg_scale",)]


def test_no_more_init_images_than_the_batch():
    image = png_b64()
    assert "batch_size" in errors_of("img2img", {"init_images": [image] * 2})[("init_images",)]
    assert check("img2img", {"init_images": [image] * 2, "batch_size": 2}, Limits())


def test_init_image_declaring_a_huge_size_is_refused_by_its_header():
    found = errors_of("img2img", {"init_images": [png_b64((300, 20))]}, Limits(max_width=64, max_height=64))
    assert found[("init_images", 0)].startswith("declares 300x20 pixels")


def test_schema_gives_the_bounds_from_the_limits():
    props = json_schema("txt2img", Limits(max_width=1024))["properties"]
    assert (props["width"]["minimum"], props["width"]["maximum"], props["width"]["multipleOf"]) == (64, 1024, 8)
    assert props["seed_resize_from_w"]["minimum"] == -1 and "multipleOf" not in props["seed_resize_from_w"]
    assert json_schema("txt2img")["additionalProperties"] is False


def test_text_past_its_length_is_refused_but_images_are_not_text():
    from webui_taskqueue.payload import MAX_TEXT
    assert "longer than" in errors_of("txt2img", {"prompt": "a" * (MAX_TEXT + 1)})[("prompt",)]
    assert "longer than" in errors_of("txt2img", {"styles": ["s", "b" * (MAX_TEXT + 1)]})[("styles",)]
    assert check("txt2img", {"prompt": "a" * MAX_TEXT}, Limits())
    out = io.BytesIO()
    Image.frombytes("RGB", (160, 160), os.urandom(160 * 160 * 3)).save(out, format="PNG")
    big = base64.b64encode(out.getvalue()).decode()
    assert len(big) > MAX_TEXT and check("img2img", {"init_images": [big]}, Limits())
