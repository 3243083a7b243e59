"""Request checks: every problem named by field and reason, nothing half-accepted."""

import base64
import io
import os

import pytest
from PIL import Image

from webui_taskqueue.records.errors import PayloadError
from webui_taskqueue.intake.fields import Setting
from webui_taskqueue.intake.images import decode_image
from webui_taskqueue.intake.payload import Limits, check, json_schema as schema_of
from webui_taskqueue.intake.fields import from_model

from modules.api import models  # the stand-in's, built from its processing classes as webui builds its own

FIELDS = {"txt2img": from_model(models.StableDiffusionTxt2ImgProcessingAPI),
          "img2img": from_model(models.StableDiffusionImg2ImgProcessingAPI)}


def run(kind, body, limits, settings=None, infotext=None):
    return check(kind, body, limits, FIELDS[kind], settings, infotext)


def json_schema(kind, limits=None, openapi="3.0"):
    return schema_of(kind, FIELDS[kind], limits, openapi)


def png_b64(size=(16, 16)):
    out = io.BytesIO()
    Image.new("RGB", size, "red").save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


def errors_of(kind, body, limits=Limits()):
    with pytest.raises(PayloadError) as caught:
        run(kind, body, limits)
    return {tuple(e["loc"][1:]): e["msg"] for e in caught.value.errors}


def test_a_plain_request_passes_with_ignored_fields_dropped():
    params = run("txt2img", {"prompt": "a cat", "steps": 4, "send_images": True, "seed": None}, Limits())
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
        run("txt2img", [1, 2], Limits())


def test_img2img_needs_decodable_init_images():
    assert "at least one" in errors_of("img2img", {"prompt": "x"})[("init_images",)]
    found = errors_of("img2img", {"init_images": [png_b64(), "not base64!", base64.b64encode(b"text").decode()],
                                   "batch_size": 3})
    assert "base64" in found[("init_images", 1)] and "decodable image" in found[("init_images", 2)]
    assert "decodable" in errors_of("img2img", {"init_images": [png_b64()], "mask": "aGVsbG8="})[("mask",)]


def test_img2img_accepts_data_urls():
    params = run("img2img", {"init_images": ["data:image/png;base64," + png_b64()]}, Limits())
    assert decode_image(params["init_images"][0]).size == (16, 16)


def test_schema_describes_every_field():
    schema = json_schema("img2img")
    assert schema["properties"]["init_images"] == {"type": "array", "items": {"type": "string"}, "maxItems": 10_000,
                                                   "description": "base64 images (a data: URL prefix is allowed)"}
    assert schema["properties"]["prompt"] == {"type": "string", "maxLength": 65_536, "default": "", "nullable": True}
    assert schema["properties"]["steps"]["default"] == 50 and "default" not in schema["properties"]["send_images"]
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
        run("txt2img", {"override_settings": {key: value}}, Limits(), SETTINGS.get)
    [problem] = caught.value.errors
    assert problem["loc"] == ["body", "override_settings", key] and says in problem["msg"]


def test_override_settings_webui_takes_pass():
    overrides = {"CLIP_stop_at_last_layers": 2, "token_merging_ratio": 1, "samples_format": "jpg",
                 "enable_pnginfo": False, "hide_samplers": ["DDIM"], "opacity": 0.5}
    assert run("txt2img", {"override_settings": overrides}, Limits(), SETTINGS.get)["override_settings"] == overrides


def test_values_json_cannot_carry_are_refused_even_without_http():
    found = errors_of("txt2img", {"prompt": "\ud800", "cfg_scale": float("nan")})
    assert "surrogate" in found[("prompt",)] and "finite" in found[("cfg_scale",)]


def test_no_more_init_images_than_the_batch():
    image = png_b64()
    assert "batch_size" in errors_of("img2img", {"init_images": [image] * 2})[("init_images",)]
    assert run("img2img", {"init_images": [image] * 2, "batch_size": 2}, Limits())


def test_init_image_declaring_a_huge_size_is_refused_by_its_header():
    found = errors_of("img2img", {"init_images": [png_b64((300, 20))]}, Limits(max_width=64, max_height=64))
    assert found[("init_images", 0)].startswith("declares 300x20 pixels")


def test_schema_gives_the_bounds_from_the_limits():
    props = json_schema("txt2img", Limits(max_width=1024))["properties"]
    assert (props["width"]["minimum"], props["width"]["maximum"], props["width"]["multipleOf"]) == (64, 1024, 8)
    assert props["seed_resize_from_w"]["minimum"] == -1 and "multipleOf" not in props["seed_resize_from_w"]
    assert json_schema("txt2img")["additionalProperties"] is False


def test_text_past_its_length_is_refused_but_images_are_not_text():
    from webui_taskqueue.intake.payload import MAX_TEXT
    assert "longer than" in errors_of("txt2img", {"prompt": "a" * (MAX_TEXT + 1)})[("prompt",)]
    assert "longer than" in errors_of("txt2img", {"styles": ["s", "b" * (MAX_TEXT + 1)]})[("styles",)]
    assert run("txt2img", {"prompt": "a" * MAX_TEXT}, Limits())
    out = io.BytesIO()
    Image.frombytes("RGB", (160, 160), os.urandom(160 * 160 * 3)).save(out, format="PNG")
    big = base64.b64encode(out.getvalue()).decode()
    assert len(big) > MAX_TEXT and run("img2img", {"init_images": [big]}, Limits())


def test_the_fields_are_webuis_whatever_its_version_has():
    # firstpass_image (webui 1.8+) was missing from the queue's old hand-kept table
    params = run("txt2img", {"firstpass_image": png_b64(), "enable_hr": True}, Limits())
    assert decode_image(params["firstpass_image"]).size == (16, 16)
    assert "decodable" in errors_of("txt2img", {"firstpass_image": "aGVsbG8="})[("firstpass_image",)]
    fewer = {k: v for k, v in FIELDS["txt2img"].items() if k != "hr_prompt"}  # an older webui
    with pytest.raises(PayloadError) as caught:
        check("txt2img", {"hr_prompt": "x"}, Limits(), fewer)
    assert "unknown field" in caught.value.errors[0]["msg"]


def resolves(filled):
    """An infotext reader that fills in `filled` where the request leaves a field out."""
    return lambda given: {**{k: v for k, v in filled.items() if k not in given}, **given}


def test_an_infotext_fills_what_the_request_leaves_out_and_is_not_stored():
    params = run("txt2img", {"infotext": "a cat\nSteps: 7, Seed: 3", "seed": 5}, Limits(),
                 infotext=resolves({"prompt": "a cat", "steps": 7, "seed": 3}))
    assert params == {"prompt": "a cat", "steps": 7, "seed": 5}


def test_an_infotexts_model_and_vae_become_the_task_s_unless_the_request_names_them():
    filled = resolves({"override_settings": {"sd_model_checkpoint": "abc123", "sd_vae": "x.pt", "CLIP_stop_at_last_layers": 2}})
    params = run("txt2img", {"infotext": "x"}, Limits(), infotext=filled)
    assert params == {"checkpoint": "abc123", "vae": "x.pt", "override_settings": {"CLIP_stop_at_last_layers": 2}}
    params = run("txt2img", {"infotext": "x", "checkpoint": "modelB"}, Limits(), infotext=filled)
    assert params["checkpoint"] == "modelB" and params["vae"] == "x.pt"


def test_what_an_infotext_fills_in_is_checked_like_the_rest():
    found = errors_of_infotext({"steps": 500})
    assert "max_steps" in found[("steps",)]
    found = errors_of_infotext({"styles": "['a']"})  # webui's reader turned a list into its repr
    assert found[("styles",)] == "(from the infotext) must be an array"
    assert "does not have" in errors_of_infotext({"no_such": 1})[("infotext",)]


def errors_of_infotext(filled):
    with pytest.raises(PayloadError) as caught:
        run("txt2img", {"infotext": "x"}, Limits(), infotext=resolves(filled))
    return {tuple(e["loc"][1:]): e["msg"] for e in caught.value.errors}


def test_an_infotext_webui_cannot_read_is_refused_naming_it():
    def unreadable(given):
        raise ValueError("webui runs without its UI")

    with pytest.raises(PayloadError) as caught:
        run("txt2img", {"infotext": "x"}, Limits(), infotext=unreadable)
    assert caught.value.errors == [{"loc": ["body", "infotext"], "msg": "webui runs without its UI", "type": "value_error"}]
    with pytest.raises(PayloadError):
        run("txt2img", {"infotext": "x"}, Limits())  # a host that cannot read one at all
