"""webui's modules.api.models: the request models of its txt2img and img2img routes,
built from the processing classes as webui's PydanticModelGenerator builds them (every
init argument, with its annotation made Optional and an image taken as its base64 text,
but those the API leaves out; then the API's own fields). Unknown keys are ignored and
values are coerced to the field's type, as pydantic does."""

import dataclasses
from typing import Optional

from pydantic import create_model

from modules import processing

API_NOT_ALLOWED = {
    "sd_model", "outpath_samples", "outpath_grids", "sampler_index", "extra_generation_params", "overlay_images",
    "do_not_reload_embeddings", "seed_enable_extras", "prompt_for_display", "sampler_noise_scheduler_override",
    "ddim_discretize",
}
# the API's own fields: name -> (type, default)
_COMMON_EXTRA = {"sampler_index": (str, "Euler"), "script_name": (str, None), "script_args": (list, []),
                 "send_images": (bool, True), "save_images": (bool, False), "alwayson_scripts": (dict, {}),
                 "force_task_id": (str, None), "infotext": (str, None)}
_IMG2IMG_EXTRA = {**_COMMON_EXTRA, "init_images": (list, None), "denoising_strength": (float, 0.75), "mask": (str, None),
                  "include_init_images": (bool, False)}


def _type(annotation):
    """As webui's field_type_generator: the annotation (a string under `from __future__
    import annotations`), an image as the base64 text the API sends, made Optional."""
    if isinstance(annotation, str):
        annotation = eval("str" if annotation in ("Image", "Image.Image") else annotation, vars(processing))
    return Optional[annotation]


def _model(name, cls, extra):
    # As webui merges the __init__ parameters of every class in the MRO: the fields in the
    # class's order, each with its base class's default where a base has the field
    # (Txt2Img's denoising_strength: 0.75 in the class, None in the API).
    fields = {}
    for klass in cls.__mro__:
        for f in dataclasses.fields(klass) if dataclasses.is_dataclass(klass) else ():
            if f.init and f.name not in API_NOT_ALLOWED:
                default = None if isinstance(f.default, property) or f.default is dataclasses.MISSING else f.default
                fields[f.name] = (_type(f.type), default)
    fields.update({key: (Optional[kind], default) for key, (kind, default) in extra.items()})
    return create_model(name, **fields)


StableDiffusionTxt2ImgProcessingAPI = _model("StableDiffusionProcessingTxt2Img", processing.StableDiffusionProcessingTxt2Img,
                                             _COMMON_EXTRA)
StableDiffusionImg2ImgProcessingAPI = _model("StableDiffusionProcessingImg2Img", processing.StableDiffusionProcessingImg2Img,
                                             _IMG2IMG_EXTRA)
