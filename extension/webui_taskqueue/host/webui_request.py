"""Part of the boundary with webui (with host/webui.py): its API's request, as its own code
builds and reads it. The request models of /sdapi/v1/txt2img and img2img (webui builds
them from its processing classes at start), and a pasted `infotext` applied by webui's
`Api.apply_infotext`, so that the queue stores the request the infotext resolves to."""

from __future__ import annotations

from typing import Any, Callable, Dict, List

from modules import infotext_utils


def model(kind: str) -> Any:
    from modules.api import models  # imported on use: it pulls in webui's whole API

    return models.StableDiffusionImg2ImgProcessingAPI if kind == "img2img" else models.StableDiffusionTxt2ImgProcessingAPI


def apply_infotext(kind: str, params: Dict[str, Any], api: Any, runner: Any,
                   default_args: Callable[[], List[Any]], host: str = "webui") -> Dict[str, Any]:
    """As text2imgapi/img2imgapi call `api.apply_infotext`: on a request model that holds
    only what was sent (so those fields count as set, and win over the infotext). The
    infotext's script arguments, which webui places by their index in the runner's
    inputs, become the `args` of their always-on scripts, so they are stored by the
    script's title as the request's own would be."""
    if kind not in infotext_utils.paste_fields:
        # webui learns which infotext label goes to which field while it builds its UI
        raise ValueError("webui runs without its UI (--nowebui), and only its UI tells which infotext "
                         "label goes to which field: webui's own API cannot apply an infotext either")
    try:
        request = model(kind)(**params)
        mentioned: Dict[int, Any] = {}
        api.apply_infotext(request, kind, script_runner=runner, mentioned_script_args=mentioned)
    except Exception as e:  # a value webui cannot convert to its field's type, say
        raise ValueError(f"{host} could not apply it (nor would its own API): {e}") from None
    resolved = dict(params)
    set_fields = request.model_fields_set if hasattr(request, "model_fields_set") else request.__fields_set__
    for name in set_fields:
        if name not in params or name == "override_settings":  # the infotext adds settings to the request's
            resolved[name] = getattr(request, name)
    if mentioned:
        resolved["alwayson_scripts"] = _with_script_args(runner, mentioned, params.get("alwayson_scripts") or {},
                                                         default_args())
    return resolved


def _with_script_args(runner: Any, mentioned: Dict[int, Any], given: Dict[str, Any],
                      defaults: List[Any]) -> Dict[str, Any]:
    """`alwayson_scripts` that give each always-on script the arguments the infotext
    names (its defaults between them), the request's own `args` over them, as webui's
    init_script_args lays the request's arguments over the infotext's. Arguments of a
    selectable script are left out: webui replaces them with the request's script_args."""
    alwayson = dict(given)
    for script in runner.alwayson_scripts:
        named = [i for i in mentioned if script.args_from <= i < script.args_to]
        if not named:
            continue
        key = next((k for k in given if k.lower() == script.title().lower()), script.title())
        own = list((given.get(key) or {}).get("args") or [])
        args = [mentioned.get(i, defaults[i]) for i in range(script.args_from, max(named) + 1)]
        args[:len(own)] = own
        alwayson[key] = {**(given.get(key) or {}), "args": args}
    return alwayson
