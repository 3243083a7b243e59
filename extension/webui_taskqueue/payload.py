"""Checking a txt2img / img2img request before anything is enqueued.

One table of fields drives both the checks and the JSON schema in the OpenAPI
document. Errors use FastAPI's shape, `{"loc": ["body", field], "msg", "type"}`,
so clients handle ours and webui's the same way. Pure Python: no webui import.

What is accepted must run: every number has a range that webui can run (a seed
beyond 64 bits would fail only when the task runs), and settings are checked by
the host that knows them."""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

from . import images_in, json_body
from .errors import PayloadError, error
from .host import Setting
from .limits import INT64, RANGES, SIZES, Limits, short as _short

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
    "script_name": ("string", "a selectable script of this tab, by title (GET /queue/v1/scripts)"),
    "script_args": ("array", "the selectable script's arguments, in its order"),
    "alwayson_scripts": ("object", 'always-on scripts by title: {"<title>": {"args": [...]}}'),
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
UNSUPPORTED = ("infotext",)
MAX_TEXT = 65_536  # characters in one text field (a prompt of 75-token chunks needs far fewer)
IMAGE_FIELDS = ("init_images", "mask", "latent_mask")  # base64
TEXT_TYPES = ("string", "array:string")
# Dropped from the accepted request: they would contradict how the queue works.
IGNORED = ("send_images", "force_task_id", "override_settings_restore_afterwards")


# `settings(name)`: webui's setting of that name, or None (Host.setting)
Settings = Callable[[str], Optional[Setting]]


def check(kind: str, body: Any, limits: Limits, settings: Optional[Settings] = None) -> Dict[str, Any]:
    """The request with types and bounds checked, or PayloadError listing every problem.
    Names that need webui (checkpoint, sampler) are resolved by the service."""
    if not isinstance(body, dict):
        raise PayloadError([error(None, "the body must be a JSON object", "type_error")])
    unstorable = json_body.problems_of(body)  # routes refused these already; other callers too
    if unstorable:
        raise PayloadError(unstorable)
    fields = FIELDS[kind]
    errors = [error(k, f"unknown field {k!r}", "value_error.extra") for k in body if k not in fields]
    for name, value in body.items():
        if name in fields and value is not None:
            problem = _type_problem(fields[name][0], value) or _length_problem(name, fields[name][0], value)
            if problem:
                errors.append(error(name, problem, "type_error"))
    if errors:
        raise PayloadError(errors)

    params = {k: v for k, v in body.items() if v is not None and k not in IGNORED}
    errors += [error(k, "not supported by the queue yet") for k in UNSUPPORTED if params.get(k)]
    errors += _scripts(params)
    for k in UNSUPPORTED:
        params.pop(k, None)
    errors += limits.problems(params)
    errors += _overrides(params.get("override_settings") or {}, settings)
    if kind == "img2img":
        errors += _images(params, limits)
    if errors:
        raise PayloadError(errors)
    return params


def _scripts(params: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The shape of the script fields; which scripts exist is for webui (the service asks)."""
    errors = []
    if params.get("script_args") and not params.get("script_name"):
        errors.append(error("script_args", "given without script_name: which script are they for?"))
    for name, given in (params.get("alwayson_scripts") or {}).items():
        if not isinstance(given, dict) or not isinstance(given.get("args", []), list):
            errors.append(error(f"alwayson_scripts.{name}", 'must be an object like {"args": [...]}'))
    return errors


def _length_problem(name: str, json_type: str, value: Any) -> Optional[str]:
    """Text a task can carry: every status poll and listing sends it back, and webui
    tokenizes prompts while everyone waits. Images are bounded by the body's size."""
    if json_type not in TEXT_TYPES or name in IMAGE_FIELDS:
        return None
    texts = value if isinstance(value, list) else [value]
    if any(isinstance(t, str) and len(t) > MAX_TEXT for t in texts):
        return f"is longer than {MAX_TEXT} characters"
    return None


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


def _overrides(overrides: Dict[str, Any], settings: Optional[Settings]) -> List[Dict[str, Any]]:
    errors = []
    for key, value in overrides.items():
        if key in ("sd_model_checkpoint", "sd_vae"):
            field = "checkpoint" if key == "sd_model_checkpoint" else "vae"
            errors.append(error("override_settings", f"{key} is set with the {field!r} field"))
            continue
        problem = None if settings is None else _setting_problem(settings(key), key, value)
        if problem:
            errors.append({"loc": ["body", "override_settings", key], "msg": problem, "type": "value_error"})
    return errors


def _setting_problem(setting: Optional[Setting], key: str, value: Any) -> Optional[str]:
    """Why webui would not take `value` for this setting (it would fail, or silently
    ignore it, only when the task runs), or None."""
    if setting is None:
        return f"webui has no setting {key!r}"
    if not setting.api:
        return f"webui does not let its API change {key!r}"
    default = setting.default
    fractional = setting.step is not None and setting.step != int(setting.step)
    for kind, name, ok in (
        (bool, "true or false", lambda: isinstance(value, bool)),
        (int, "a whole number", lambda: type(value) is int or (fractional and type(value) is float)),
        (float, "a number", lambda: type(value) in (int, float)),
        (str, "a string", lambda: isinstance(value, str)),
        ((list, tuple), "an array", lambda: isinstance(value, list)),
        (dict, "an object", lambda: isinstance(value, dict)),
    ):
        if isinstance(default, kind):
            if not ok():
                return f"must be {name}, as webui's setting is (default {default!r})"
            break
    if type(value) in (int, float) and setting.minimum is not None and setting.maximum is not None:
        if not setting.minimum <= value <= setting.maximum:
            return f"must be between {setting.minimum} and {setting.maximum} (webui's range for it), got {_short(value)}"
    return None


def _images(params: Dict[str, Any], limits: Limits) -> List[Dict[str, Any]]:
    images = params.get("init_images")
    if not images:
        return [error("init_images", "img2img needs at least one init image")]
    batch = params.get("batch_size", 1)
    if len(images) > max(1, batch):
        return [error("init_images", f"webui takes one init image, or up to batch_size ({batch}); got {len(images)}")]
    errors = []
    for i, data in enumerate(images):
        problem = images_in.problem(data, limits.max_width, limits.max_height)
        if problem:
            errors.append({**error("init_images", problem), "loc": ["body", "init_images", i]})
    if params.get("mask"):
        problem = images_in.problem(params["mask"], limits.max_width, limits.max_height)
        if problem:
            errors.append(error("mask", problem))
    return errors


def json_schema(kind: str, limits: Optional[Limits] = None, openapi: str = "3.0") -> Dict[str, Any]:
    """The request body's schema for the OpenAPI document, from the same tables.
    Bounds set in Settings are those of `limits` (the defaults when None); a change
    in Settings is checked at once but documented after a restart. Every field but
    a required one may be null (webui's default); `openapi` ("3.0" or "3.1") says
    how the document spells that."""
    ranges = (limits or Limits()).ranges()
    props = {}
    for name, (json_type, description) in FIELDS[kind].items():
        base, _, item = json_type.partition(":")
        prop: Dict[str, Any] = {"type": base}
        if item:
            prop["items"] = {"type": item}
        if base in ("integer", "number"):
            low, high = ranges[name][:2] if name in ranges else RANGES.get(name, INT64)
            prop.update(minimum=low, maximum=high)
            if name in SIZES and low >= 0:  # (seed resizes are -1 when not used)
                prop["multipleOf"] = 8
        elif json_type in TEXT_TYPES and name not in IMAGE_FIELDS:
            (prop["items"] if item else prop)["maxLength"] = MAX_TEXT
        if base == "array":
            prop["maxItems"] = json_body.MAX_ITEMS
        elif base == "object":
            prop["maxProperties"] = json_body.MAX_ITEMS
        if description:
            prop["description"] = description
        if name != "init_images":
            prop.update({"type": [base, "null"]} if openapi.startswith("3.1") else {"nullable": True})
        props[name] = prop
    schema = {"title": f"{kind.capitalize()}Create", "type": "object", "properties": props, "additionalProperties": False}
    if kind == "img2img":
        schema["required"] = ["init_images"]
    return schema
