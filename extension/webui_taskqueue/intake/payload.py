"""Checking a txt2img / img2img request before anything is enqueued.

The fields come from webui's own request models (intake/fields.py); they drive both
the checks and the JSON schema in the OpenAPI document. Errors use FastAPI's shape,
`{"loc": ["body", field], "msg", "type"}`, so clients handle ours and webui's the same
way. Pure Python: no webui import.

What is accepted must run: every number has a range that webui can run (a seed
beyond 64 bits would fail only when the task runs), and settings are checked by
the host that knows them."""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

from ..records.errors import PayloadError, error
from . import images as images_in
from . import json_body, script_inputs
from .fields import IGNORED, IMAGE_FIELDS, Fields, Setting
from .limits import INT64, RANGES, SIZES, Limits
from .limits import short as _short

MAX_TEXT = 65_536  # characters in one text field (a prompt of 75-token chunks needs far fewer)
TEXT_TYPES = ("string", "array:string")


# `settings(name)`: webui's setting of that name, or None (Host.setting)
Settings = Callable[[str], Optional[Setting]]
# `infotext(params)`: the request with a pasted infotext's values in the fields it
# leaves out (Host.apply_infotext); ValueError(reason) when webui cannot read it
Infotext = Callable[[Dict[str, Any]], Dict[str, Any]]
# settings an infotext may name that the queue takes as its own fields
MODEL_SETTINGS = (("sd_model_checkpoint", "checkpoint"), ("sd_vae", "vae"))


def check(kind: str, body: Any, limits: Limits, fields: Fields, settings: Optional[Settings] = None,
          infotext: Optional[Infotext] = None) -> Dict[str, Any]:
    """The request with types and bounds checked, or PayloadError listing every problem.
    `fields`: webui's request fields for this tab. A pasted `infotext` is applied first,
    so what it fills in is checked as if it had been sent. Names that need webui
    (checkpoint, sampler) are resolved by the service."""
    if not isinstance(body, dict):
        raise PayloadError([error(None, "the body must be a JSON object", "type_error")])
    unstorable = json_body.problems_of(body)  # routes refused these already; other callers too
    if unstorable:
        raise PayloadError(unstorable)
    errors = [error(k, f"unknown field {k!r}", "value_error.extra") for k in body if k not in fields]
    errors += _type_problems(body, fields)
    if errors:
        raise PayloadError(errors)

    params = {k: v for k, v in body.items() if v is not None and k not in IGNORED}
    if params.get("infotext"):
        params = _apply_infotext(params, fields, infotext)
    params.pop("infotext", None)
    errors += _scripts(params)
    errors += script_inputs.problems(params, limits.max_width, limits.max_height)
    errors += limits.problems(params)
    errors += _overrides(params.get("override_settings") or {}, settings)
    if kind == "img2img":
        errors += _images(params, limits)
    errors += _other_images(params, limits)
    if errors:
        raise PayloadError(errors)
    return params


def _type_problems(values: Dict[str, Any], fields: Fields, source: str = "") -> List[Dict[str, Any]]:
    errors = []
    for name, value in values.items():
        if name in fields and value is not None:
            kind = fields[name].type
            problem = _type_problem(name, kind, value) or _length_problem(name, kind, value)
            if problem:
                errors.append(error(name, source + problem, "type_error"))
    return errors


def _apply_infotext(params: Dict[str, Any], fields: Fields, infotext: Optional[Infotext]) -> Dict[str, Any]:
    """The request as webui's API would run it with its `infotext`: the infotext's values
    in the fields the request leaves out (webui's own parsing, through the host), its
    model and VAE as `checkpoint` and `vae`. What it filled in is checked like the rest;
    the stored request is the resolved one, without the infotext."""
    if infotext is None:
        raise PayloadError([error("infotext", "this webui cannot read an infotext")])
    try:
        resolved = infotext(params)
    except ValueError as e:
        raise PayloadError([error("infotext", str(e))]) from None
    resolved = {k: v for k, v in resolved.items() if v is not None and k not in IGNORED and k != "infotext"}
    given = params.get("override_settings") or {}
    overrides = dict(resolved.get("override_settings") or {})
    for setting, field in MODEL_SETTINGS:
        if setting in overrides and setting not in given:
            value = overrides.pop(setting)
            if field not in params:  # a field the request sets wins over the infotext, as in webui
                resolved[field] = value
    if overrides:
        resolved["override_settings"] = overrides
    else:
        resolved.pop("override_settings", None)
    filled = {k: v for k, v in resolved.items() if k not in params or params[k] != v}
    errors = [error("infotext", f"sets {k!r}, which webui's request for this tab does not have") for k in filled if k not in fields]
    errors += _type_problems(filled, fields, source="(from the infotext) ")
    if errors:
        raise PayloadError(errors)
    return resolved


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


_IS = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}


def _type_problem(name: str, kind: str, value: Any) -> Optional[str]:
    if kind == "any":  # a type webui names that JSON has no word for: webui checks it
        return None
    base, _, item = kind.partition(":")
    if base == "array" and name in IMAGE_FIELDS:
        item = "string"  # base64 images, whatever webui's annotation says
    if not _IS[base](value):
        return f"must be {'an' if base[0] in 'aeiou' else 'a'} {base}"
    if item and not all(_IS[item](v) for v in value):
        return f"must be an array of {item}s"
    return None


def _overrides(overrides: Dict[str, Any], settings: Optional[Settings]) -> List[Dict[str, Any]]:
    errors = []
    for key, value in overrides.items():
        if key in ("sd_model_checkpoint", "sd_vae"):
            field = "checkpoint" if key == "sd_model_checkpoint" else "vae"
            errors.append(error("override_settings", f"{key} is set with the {field!r} field"))
            continue
        problem = None if settings is None else setting_problem(settings(key), key, value)
        if problem:
            errors.append({"loc": ["body", "override_settings", key], "msg": problem, "type": "value_error"})
    return errors


def setting_problem(setting: Optional[Setting], key: str, value: Any) -> Optional[str]:
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


def _other_images(params: Dict[str, Any], limits: Limits) -> List[Dict[str, Any]]:
    """Images besides init images and the mask: webui decodes them when the task runs."""
    errors = []
    for name in IMAGE_FIELDS:
        if name not in ("init_images", "mask") and isinstance(params.get(name), str):
            problem = images_in.problem(params[name], limits.max_width, limits.max_height)
            if problem:
                errors.append(error(name, problem))
    return errors


def json_schema(kind: str, fields: Fields, limits: Optional[Limits] = None, openapi: str = "3.0") -> Dict[str, Any]:
    """The request body's schema for the OpenAPI document, from webui's request fields
    and the queue's bounds. Bounds set in Settings are those of `limits` (the defaults
    when None); a change in Settings is checked at once but documented after a
    restart. Every field but a required one may be null (webui's default, given as
    `default`); `openapi` ("3.0" or "3.1") says how the document spells that."""
    ranges = (limits or Limits()).ranges()
    props = {}
    for name, field in fields.items():
        base, _, item = field.type.partition(":")
        if base == "array" and name in IMAGE_FIELDS:
            item = "string"
        prop: Dict[str, Any] = {} if base == "any" else {"type": base}
        if item and item != "any":
            prop["items"] = {"type": item}
        if base in ("integer", "number"):
            low, high = ranges[name][:2] if name in ranges else RANGES.get(name, INT64)
            prop.update(minimum=low, maximum=high)
            if name in SIZES and low >= 0:  # (seed resizes are -1 when not used)
                prop["multipleOf"] = 8
        elif field.type in TEXT_TYPES and name not in IMAGE_FIELDS:
            (prop["items"] if item else prop)["maxLength"] = MAX_TEXT
        if base == "array":
            prop["maxItems"] = json_body.MAX_ITEMS
        elif base == "object":
            prop["maxProperties"] = json_body.MAX_ITEMS
        if field.description:
            prop["description"] = field.description
        if field.default is not None and name not in IGNORED:
            prop["default"] = field.default
        if name != "init_images" and base != "any":
            prop.update({"type": [base, "null"]} if openapi.startswith("3.1") else {"nullable": True})
        props[name] = prop
    schema = {"title": f"{kind.capitalize()}Create", "type": "object", "properties": props, "additionalProperties": False}
    if kind == "img2img":
        schema["required"] = ["init_images"]
    return schema
