"""A request's large values (base64 images: init images, a mask, a ControlNet unit's
image in `alwayson_scripts`) kept apart from the request itself.

A status poll, a task list page and the queue view read a task's request; only the
worker and the input-image route need its images. Stored inline, every poll of an
img2img task would parse megabytes of JSON. So the stores keep the request with a
small reference in place of each large string (`split`), the strings on their own
(`Store.inputs`), and the worker puts them back (`join`)."""

from __future__ import annotations

from typing import Any, List, Tuple

LARGE = 16 * 1024  # characters: any longer string is kept apart
REF = "__task_queue_input__"


def split(params: Any) -> Tuple[Any, List[str]]:
    """(params with a reference for each large string, those strings in order)."""
    blobs: List[str] = []

    def walk(value: Any) -> Any:
        if isinstance(value, str) and len(value) > LARGE:
            blobs.append(value)
            return {REF: len(blobs) - 1, "chars": len(value)}
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return walk(params), blobs


def join(params: Any, blobs: List[str]) -> Any:
    """The request as it was sent."""
    if not blobs:
        return params
    return _map_refs(params, lambda ref: blobs[ref[REF]])


IMAGES = ("init_images", "mask")  # a request's images: shown as their size, however small


def describe(params: Any) -> Any:
    """The request for display: each large value (kept apart or not), and each of its
    images however small, as its size."""

    def text(chars: int) -> str:
        return f"<base64 image, {chars} chars>"

    def walk(value: Any, image: bool = False) -> Any:
        if isinstance(value, dict):
            return text(value["chars"]) if _is_ref(value) else {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, image) for v in value]
        if isinstance(value, str) and (image or len(value) > LARGE):
            return text(len(value))  # (a large one: a task stored before they were kept apart)
        return value

    if not isinstance(params, dict):
        return walk(params)
    return {k: walk(v, k in IMAGES) for k, v in params.items()}


def _is_ref(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {REF, "chars"} and isinstance(value[REF], int)


def _map_refs(value: Any, replace) -> Any:
    if isinstance(value, dict):
        return replace(value) if _is_ref(value) else {k: _map_refs(v, replace) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_refs(v, replace) for v in value]
    return value
