"""Checking a txt2img / img2img request before anything is enqueued.

One table of fields drives both the checks and the JSON schema in the OpenAPI
document. Errors use FastAPI's shape, `{"loc": ["body", field], "msg", "type"}`,
so clients handle ours and webui's the same way. Pure Python: no webui import."""

from __future__ import annotations

import base64
import binascii
import io
from typing import Any, Dict, List, Optional, Tuple

from PIL import Image

from .errors import PayloadError, error

# name -> (json type, description). Bounds that depend on settings live in `Limits`.
COMMON_FIELDS: Dict[str, Tuple[str, str]] = {
    "checkpoint": ("string", "Checkpoint title, name or short hash; default: webui's current default model"),
    "vae": ("string", "VAE name, 'Automatic' or 'None'; default: webui's current setting"),
    "prompt": ("string", ""),
    "negative_prompt": ("string", ""),
    "styles": ("array:string", ""),
    "seed": ("integer", "-1 for random"),
    "subseed": ("integer", ""),
    "subseed_strength": ("number", ""),
    "seed_resize_from_h": ("integer", ""),
    "seed_resize_from_w": ("integer", ""),
    "sampler_name": ("string", "webui sampler name"),
    "sampler_index": ("string", "deprecated alias of sampler_name"),
    "scheduler": ("string", "webui scheduler label"),
    "batch_size": ("integer", ""),
    "n_iter": ("integer", ""),
    "steps": ("integer", ""),
    "cfg_scale": ("number", ""),
    "width": ("integer", "multiple of 8"),
    "height": ("integer", "multiple of 8"),
    "restore_faces": ("boolean", ""),
    "tiling": ("boolean", ""),
    "do_not_save_samples": ("boolean", ""),
    "do_not_save_grid": ("boolean", ""),
    "eta": ("number", ""),
    "denoising_strength": ("number", ""),
    "s_min_uncond": ("number", ""),
    "s_churn": ("number", ""),
    "s_tmax": ("number", ""),
    "s_tmin": ("number", ""),
    "s_noise": ("number", ""),
    "override_settings": ("object", "webui settings for this task only (not the checkpoint or VAE)"),
    "override_settings_restore_afterwards": ("boolean", "ignored: settings are always restored"),
    "refiner_checkpoint": ("string", ""),
    "refiner_switch_at": ("number", ""),
    "disable_extra_networks": ("boolean", ""),
    "comments": ("object", ""),
    "send_images": ("boolean", "ignored: images are fetched from the task"),
    "save_images": ("boolean", "also save into webui's output folders"),
    "script_name": ("string", "not supported yet"),
    "script_args": ("array", "not supported yet"),
    "alwayson_scripts": ("object", "not supported yet"),
    "infotext": ("string", "not supported yet"),
    "force_task_id": ("string", "ignored: the queue assigns ids"),
}
TXT2IMG_FIELDS = {
    **COMMON_FIELDS,
    "enable_hr": ("boolean", ""),
    "firstphase_width": ("integer", ""),
    "firstphase_height": ("integer", ""),
    "hr_scale": ("number", ""),
    "hr_upscaler": ("string", ""),
    "hr_second_pass_steps": ("integer", ""),
    "hr_resize_x": ("integer", ""),
    "hr_resize_y": ("integer", ""),
    "hr_checkpoint_name": ("string", ""),
    "hr_sampler_name": ("string", ""),
    "hr_scheduler": ("string", ""),
    "hr_prompt": ("string", ""),
    "hr_negative_prompt": ("string", ""),
}
IMG2IMG_FIELDS = {
    **COMMON_FIELDS,
    "init_images": ("array:string", "base64 images (a data: URL prefix is allowed)"),
    "resize_mode": ("integer", ""),
    "image_cfg_scale": ("number", ""),
    "mask": ("string", "base64 image"),
    "mask_blur_x": ("integer", ""),
    "mask_blur_y": ("integer", ""),
    "mask_blur": ("integer", ""),
    "mask_round": ("boolean", ""),
    "inpainting_fill": ("integer", ""),
    "inpaint_full_res": ("boolean", ""),
    "inpaint_full_res_padding": ("integer", ""),
    "inpainting_mask_invert": ("integer", ""),
    "initial_noise_multiplier": ("number", ""),
    "latent_mask": ("string", ""),
    "include_init_images": ("boolean", ""),
}
FIELDS = {"txt2img": TXT2IMG_FIELDS, "img2img": IMG2IMG_FIELDS}
UNSUPPORTED = ("script_name", "script_args", "alwayson_scripts", "infotext")
# Dropped from the accepted request: they would contradict how the queue works.
IGNORED = ("send_images", "force_task_id", "override_settings_restore_afterwards")


class Limits:
    """Owner-set bounds (webui Settings > Task queue)."""

    def __init__(self, max_width=2048, max_height=2048, max_steps=150, max_batch_size=8, max_n_iter=16, max_body_mb=50):
        self.max_width, self.max_height = max_width, max_height
        self.max_steps, self.max_batch_size, self.max_n_iter = max_steps, max_batch_size, max_n_iter
        self.max_body_mb = max_body_mb


def check(kind: str, body: Any, limits: Limits) -> Dict[str, Any]:
    """The request with types and bounds checked, or PayloadError listing every problem.
    Names that need webui (checkpoint, sampler) are resolved by the service."""
    if not isinstance(body, dict):
        raise PayloadError([error(None, "the body must be a JSON object", "type_error")])
    fields = FIELDS[kind]
    errors = [error(k, f"unknown field {k!r}", "value_error.extra") for k in body if k not in fields]
    for name, value in body.items():
        if name in fields and value is not None:
            problem = _type_problem(fields[name][0], value)
            if problem:
                errors.append(error(name, problem, "type_error"))
    if errors:
        raise PayloadError(errors)

    params = {k: v for k, v in body.items() if v is not None and k not in IGNORED}
    errors += [error(k, "scripts are not supported by the queue yet") for k in UNSUPPORTED if params.get(k)]
    for k in UNSUPPORTED:
        params.pop(k, None)
    errors += _bounds(params, limits)
    overrides = params.get("override_settings") or {}
    for key in ("sd_model_checkpoint", "sd_vae"):
        if key in overrides:
            field = "checkpoint" if key == "sd_model_checkpoint" else "vae"
            errors.append(error("override_settings", f"{key} is set with the {field!r} field"))
    if kind == "img2img":
        errors += _images(params)
    if errors:
        raise PayloadError(errors)
    return params


def _type_problem(kind: str, value: Any) -> Optional[str]:
    base, _, item = kind.partition(":")
    ok = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
    }
    if not ok[base](value):
        return f"must be {'an' if base[0] in 'aeiou' else 'a'} {base}"
    if item and not all(ok[item](v) for v in value):
        return f"must be an array of {item}s"
    return None


def _bounds(params: Dict[str, Any], limits: Limits) -> List[Dict[str, Any]]:
    errors = []
    for name, limit, setting in (
        ("width", limits.max_width, "max_width"),
        ("height", limits.max_height, "max_height"),
    ):
        if name in params:
            value = params[name]
            if value % 8:
                errors.append(error(name, f"must be a multiple of 8, got {value}"))
            elif not 64 <= value <= limit:
                errors.append(error(name, f"must be between 64 and {limit} (limit {setting}), got {value}"))
    for name, limit, setting in (
        ("steps", limits.max_steps, "max_steps"),
        ("batch_size", limits.max_batch_size, "max_batch_size"),
        ("n_iter", limits.max_n_iter, "max_n_iter"),
    ):
        if name in params and not 1 <= params[name] <= limit:
            errors.append(error(name, f"must be between 1 and {limit} (limit {setting}), got {params[name]}"))
    if "denoising_strength" in params and not 0 <= params["denoising_strength"] <= 1:
        errors.append(error("denoising_strength", "must be between 0 and 1"))
    if "cfg_scale" in params and not 0 <= params["cfg_scale"] <= 100:
        errors.append(error("cfg_scale", "must be between 0 and 100"))
    return errors


def _images(params: Dict[str, Any]) -> List[Dict[str, Any]]:
    images = params.get("init_images")
    if not images:
        return [error("init_images", "img2img needs at least one init image")]
    errors = []
    for i, data in enumerate(images):
        problem = _image_problem(data)
        if problem:
            errors.append({**error("init_images", problem), "loc": ["body", "init_images", i]})
    if params.get("mask"):
        problem = _image_problem(params["mask"])
        if problem:
            errors.append(error("mask", problem))
    return errors


def _image_problem(data: str) -> Optional[str]:
    try:
        decode_image(data)
    except ValueError as e:
        return str(e)
    return None


def decode_input(data: str) -> Tuple[bytes, str]:
    """An accepted base64 image -> (its bytes, its media type), without decoding pixels."""
    if data.startswith("data:"):
        data = data.split(",", 1)[-1]
    raw = base64.b64decode(data)
    with Image.open(io.BytesIO(raw)) as image:
        kind = (image.format or "png").lower()
    return raw, Image.MIME.get(kind.upper(), f"image/{kind}")


def decode_image(data: str) -> Image.Image:
    """Base64 (optionally a data: URL) -> a loaded PIL image; ValueError saying why not."""
    if data.startswith("data:"):
        data = data.split(",", 1)[-1]
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("is not valid base64") from None
    try:
        image = Image.open(io.BytesIO(raw))
        image.load()
    except Exception:
        raise ValueError("is not a decodable image") from None
    return image


def json_schema(kind: str) -> Dict[str, Any]:
    """The request body's schema for the OpenAPI document, from the same table."""
    props = {}
    for name, (json_type, description) in FIELDS[kind].items():
        base, _, item = json_type.partition(":")
        prop: Dict[str, Any] = {"type": base}
        if item:
            prop["items"] = {"type": item}
        if description:
            prop["description"] = description
        props[name] = prop
    required = ["init_images"] if kind == "img2img" else []
    return {"title": f"{kind.capitalize()}Create", "type": "object", "properties": props, "required": required}
