"""The fields a txt2img / img2img request may have, taken from webui's own API request
models (`modules.api.models`, which webui builds from its processing classes) when the
queue starts: whatever the running webui accepts, the queue accepts, with webui's
defaults, and no copy of webui's field list drifts away from it.

The queue adds its own fields (`checkpoint`, `vae`) and what it knows of some of
webui's (a description, which ones carry images, which it ignores); its ranges live in
intake/limits.py. A setting `override_settings` may name is checked against its `Setting`,
as the host describes it. Pure: reads a pydantic model class, version 1 or 2, without webui."""

from __future__ import annotations

import copy
import dataclasses
import typing
from typing import Any, Dict, Optional

# JSON types a field's value may have; "array:string" is an array of strings, "any"
# is left to webui (a type the queue cannot name).
JSON_TYPES = ("string", "integer", "number", "boolean", "object", "array", "array:string", "any")


@dataclasses.dataclass(frozen=True)
class Field:
    name: str
    type: str  # one of JSON_TYPES
    default: Any = None  # webui's default: what a task gets without the field
    description: str = ""


Fields = Dict[str, Field]


@dataclasses.dataclass(frozen=True)
class Setting:
    """One of webui's settings, as far as a task may override it."""

    default: Any
    api: bool = True  # webui's API may change it (not restrict_api, not do_not_save)
    minimum: Optional[float] = None  # its slider's range and step, when it has one
    maximum: Optional[float] = None
    step: Optional[float] = None
    value: Any = None  # the box's value now (its default until changed)


# The queue's own fields, on top of webui's.
QUEUE_FIELDS = (
    Field("checkpoint", "string", None, "Checkpoint title, name or short hash; default: webui's current default model"),
    Field("vae", "string", None, "VAE name, 'Automatic' or 'None'; default: webui's current setting"),
)
# base64 images: checked as images at submit, decoded by the worker, exempt from the text length.
IMAGE_FIELDS = ("init_images", "mask", "latent_mask", "firstpass_image")
# Dropped from the accepted request: they would contradict how the queue works.
IGNORED = ("send_images", "force_task_id", "override_settings_restore_afterwards")
DESCRIPTIONS = {
    "seed": "-1 for random",
    "sampler_name": "webui sampler name",
    "sampler_index": "deprecated alias of sampler_name",
    "scheduler": "webui scheduler label",
    "width": "multiple of 8",
    "height": "multiple of 8",
    "override_settings": "webui settings for this task only (not the checkpoint or VAE)",
    "override_settings_restore_afterwards": "ignored: settings are always restored",
    "send_images": "ignored: images are fetched from the task",
    "save_images": "also save into webui's output folders",
    "force_task_id": "ignored: the queue assigns ids",
    "script_name": "a selectable script of this tab, by title (GET /queue/v1/scripts)",
    "script_args": "the selectable script's arguments, in its order",
    "alwayson_scripts": 'always-on scripts by title: {"<title>": {"args": [...]}}',
    "infotext": "a pasted infotext (a PNG's parameters): its values fill the fields this request leaves out",
    "init_images": "base64 images (a data: URL prefix is allowed)",
    "mask": "base64 image",
    "latent_mask": "base64 image",
    "firstpass_image": "base64 image: the first pass of a hires fix, instead of generating it",
}


def from_model(model: Any) -> Fields:
    """The fields of a pydantic request model (v1 `__fields__`, v2 `model_fields`), by the
    name a JSON body uses (its alias), with the queue's own fields added."""
    found: Fields = {}
    if hasattr(model, "model_fields"):  # pydantic 2
        for name, info in model.model_fields.items():
            key = info.alias or name
            found[key] = Field(key, json_type(info.annotation), _default(info), DESCRIPTIONS.get(key, ""))
    else:
        for name, info in model.__fields__.items():
            key = info.alias or name
            found[key] = Field(key, json_type(info.outer_type_), _default(info), DESCRIPTIONS.get(key, ""))
    for field in QUEUE_FIELDS:
        found[field.name] = field
    return found


def api_defaults(model: Any) -> Dict[str, Any]:
    """What webui's API hands its processing class for each field a request leaves out.
    webui's text2imgapi/img2imgapi pass every field of the request model, so a field
    left out takes the model's default, which is not always the class's own: webui
    builds the model from every class of the processing class's MRO, the base class
    winning, so txt2img's `denoising_strength` is None there and 0.75 in the class.
    Plain defaults only: another one (a default factory) is left to the class."""
    found: Dict[str, Any] = {}
    infos = model.model_fields.items() if hasattr(model, "model_fields") else model.__fields__.items()
    for name, info in infos:
        default = getattr(info, "default", None)
        if default is None or isinstance(default, (bool, int, float, str, list, dict)):
            found[info.alias or name] = copy.deepcopy(default)
    return found


def json_type(annotation: Any) -> str:
    """The JSON type of a Python annotation (Optional[...] unwrapped), "any" when none fits."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Union:
        left = [a for a in args if a is not type(None)]
        return json_type(left[0]) if len(left) == 1 else "any"
    if origin in (list, tuple, set) or annotation in (list, tuple, set):
        item = json_type(args[0]) if args else "any"
        return "array:string" if item == "string" else "array"
    if origin is dict or annotation is dict:
        return "object"
    for python, name in ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string")):
        if annotation is python:
            return name
    return "any"


def _default(info: Any) -> Any:
    """The field's default as JSON can carry it: None for a required field or a value
    that is not plain data (a default factory, a property)."""
    default = getattr(info, "default", None)
    if default is None or isinstance(default, (bool, int, float, str)):
        return default
    if isinstance(default, (list, dict)):
        return copy.deepcopy(default)
    return None
