"""Parity of defaults with webui v1.10.1's API. What a task runs with when a request
leaves a field out, and what the queue itself assumes for it (limits, quotas, work
estimates, progress), are webui's API defaults: its request models' (modules/api/
models.py), which take each field's default from the processing classes of
modules/processing.py, the base class winning (so txt2img's denoising_strength is None
in the API and 0.75 in the class). The stand-in's request models are built the same
way; these tests list the defaults and the differences as webui v1.10.1 has them."""

import dataclasses
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # makes `standin` importable

import standin  # noqa: E402,F401
from modules import processing  # noqa: E402
from modules.api import models  # noqa: E402

from webui_taskqueue.intake import limits, fields as request_fields
from webui_taskqueue.records import quotas
from webui_taskqueue.scheduling import speeds  # noqa: E402
from webui_taskqueue.records.users import Usage  # noqa: E402

# webui v1.10.1's API defaults of the fields the queue reads itself
API_DEFAULTS = {
    "width": 512, "height": 512, "steps": 50, "batch_size": 1, "n_iter": 1, "sampler_index": "Euler",
    "sampler_name": None, "scheduler": None, "save_images": False, "send_images": True, "override_settings": None,
    "script_args": [], "alwayson_scripts": {},
}
HIRES = {"enable_hr": False, "hr_scale": 2.0, "hr_second_pass_steps": 0, "hr_resize_x": 0, "hr_resize_y": 0}
PER_TAB = {"txt2img": {"denoising_strength": None, **HIRES},
           "img2img": {"denoising_strength": 0.75, "init_images": None, "mask": None, "mask_blur": None}}
# where webui's API default is not the processing class's own: the API's wins, as webui's
# text2imgapi / img2imgapi pass every field of the request model to the class
# (sampler_index: the queue resolves `sampler_name or sampler_index` into sampler_name,
# as webui's API does, and passes no sampler_index; mask_blur is a property in the class)
DIFFERENT_FROM_CLASS = {"txt2img": {"denoising_strength": (None, 0.75), "sampler_index": ("Euler", None)},
                        "img2img": {"sampler_index": ("Euler", None)}}
MODELS = {"txt2img": (models.StableDiffusionTxt2ImgProcessingAPI, processing.StableDiffusionProcessingTxt2Img),
          "img2img": (models.StableDiffusionImg2ImgProcessingAPI, processing.StableDiffusionProcessingImg2Img)}


@pytest.mark.parametrize("kind", ["txt2img", "img2img"])
def test_the_api_defaults_are_webui_s(kind):
    defaults = request_fields.api_defaults(MODELS[kind][0])
    expected = {**API_DEFAULTS, **PER_TAB[kind]}
    assert {k: defaults[k] for k in expected} == expected
    fields = request_fields.from_model(MODELS[kind][0])  # what the OpenAPI document shows
    assert {k: fields[k].default for k in expected} == expected


@pytest.mark.parametrize("kind", ["txt2img", "img2img"])
def test_the_fields_whose_api_default_is_not_the_processing_class_s(kind):
    model, cls = MODELS[kind]
    api = request_fields.api_defaults(model)
    own = {f.name: f.default for f in dataclasses.fields(cls)
           if f.init and f.default is not dataclasses.MISSING and not isinstance(f.default, property)}
    differ = {k: (api[k], own[k]) for k in api if k in own and api[k] != own[k]}
    assert differ == DIFFERENT_FROM_CLASS[kind]


def test_what_the_queue_assumes_for_a_left_out_field_is_webui_s_default():
    given = {k: API_DEFAULTS[k] for k in ("width", "height", "steps", "batch_size", "n_iter")}
    assert speeds.work_of({}) == speeds.work_of(given)
    hires = {"enable_hr": True, "hr_scale": HIRES["hr_scale"]}
    assert speeds.work_of({"enable_hr": True}) == speeds.work_of({**given, **hires})
    usage = Usage(queued=0, last_hour=0)
    caps = {"max_steps": 49, "max_pixels": 512 * 512 - 1, "max_images": 0, "checkpoints": None}
    refused = {e["loc"][1] for e in quotas.request_errors({}, [], caps, lambda title: True, usage)}
    assert refused == {"steps", "width"}  # 50 steps, 512 x 512 pixels
    caps.update(max_steps=50, max_pixels=512 * 512)
    assert quotas.request_errors({}, [], caps, lambda title: True, usage) == []
    assert limits.Limits().problems({"enable_hr": True}) == limits.Limits().problems({"enable_hr": True, **given, **hires})


def test_a_task_without_steps_shows_webui_s_50_before_sampling_starts(tmp_path):
    from standin import checkpoints
    from webui_taskqueue.store.images import ImageStore
    from webui_taskqueue.scheduling.planner import Planner
    from webui_taskqueue.scheduling.policy import Policy
    from webui_taskqueue.store.memory import MemoryStore
    from webui_taskqueue.records.tasks import Task, TaskType
    from webui_taskqueue.host.webui import WebuiHost
    from webui_taskqueue.running.worker import Worker

    ckpt_dir = tmp_path / "models" / "Stable-diffusion"
    title = checkpoints.make_checkpoint(str(ckpt_dir / "a.safetensors"), 1)
    standin.boot(str(ckpt_dir), str(tmp_path / "data"), step_seconds=0.0)
    store, host = MemoryStore(), WebuiHost()
    worker = Worker(store, host, ImageStore(str(tmp_path / "images")), Planner(store, host, Policy))
    store.add(Task(task_id="t", type=TaskType.TXT2IMG, owner="ann", checkpoint=host.resolve_checkpoint("a") or title,
                   params={"prompt": "x"}, created_at=1.0, sort_order=1.0))
    task = worker._begin_next()  # started, nothing sampled yet
    try:
        assert task is not None and worker.progress("t").steps == API_DEFAULTS["steps"]
    finally:
        host.end("t")
