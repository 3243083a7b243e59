"""What a script's arguments (`script_args`, `alwayson_scripts`) may carry: image data,
never something that makes the box read its own files or fetch a URL for the caller.

webui passes script arguments to extensions as they came. Extensions decode a string
image themselves, and not only from base64: sd-webui-controlnet opens the string as a
file when a file of that name exists (`ControlNetUnit.parse_image`: `os.path.exists`,
then `Image.open`), and otherwise calls webui's `api.decode_base64_to_image`, which
downloads any string starting with `http://` or `https://` (webui's option
`api_enable_requests`, on by default). A queue user could so make the box read another
user's images from its outputs folder, or call into its own network.

Which arguments are images: webui's API names no argument types (its script info has
labels and defaults, not components), so
- in an object argument (a ControlNet unit, and extensions that copy its API), a key
  named `image` or `mask`, or ending in `_image`, `_images` or `_mask` (`input_image`,
  `mask_image`, `batch_images`, `effective_region_mask`) is an image slot: each string
  in it must be base64 image data, checked as init images are;
- keys naming a folder or file (`output_dir`, `*_dir`, `*_path`) may not be set at all:
  ControlNet writes its maps to `output_dir`; `ipadapter_input` is refused too (older
  ControlNet unpickles it with `torch.load`);
- anywhere else, where no name says what a value is, a string starting with `http://`
  or `https://` is refused: webui's decoder fetches exactly those, and any image slot
  of any extension goes through it. A path there cannot be told from text and is left
  to the extension."""

from __future__ import annotations

from typing import Any, Dict, List

from . import images as images_in

URL_PREFIXES = ("http://", "https://")
IMAGE_SUFFIXES = ("_image", "_images", "_mask")
PATH_SUFFIXES = ("_dir", "_path")
REFUSED_KEYS = ("ipadapter_input",)


def is_url(value: Any) -> bool:
    """True for a string webui's `decode_base64_to_image` would download."""
    return isinstance(value, str) and value.strip().lower().startswith(URL_PREFIXES)


def problems(params: Dict[str, Any], max_width: int, max_height: int) -> List[Dict[str, Any]]:
    """FastAPI errors, each naming the argument's full path, for every script argument
    that is not plain data the extension can only decode."""
    found: List[Dict[str, Any]] = []

    def refuse(loc: List[Any], msg: str) -> None:
        found.append({"loc": ["body", *loc], "msg": msg, "type": "value_error"})

    def image(value: Any, loc: List[Any]) -> None:
        if isinstance(value, str):
            if is_url(value):
                refuse(loc, "is a URL: an image in a script's arguments must be base64 image data "
                            "(the queue fetches nothing for its users)")
            elif value:
                problem = images_in.problem(value, max_width, max_height)
                if problem:
                    refuse(loc, f"is an image slot and must be base64 image data, not a file name or URL: it {problem}")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                image(item, loc + [i])
        elif isinstance(value, dict):
            for key, item in value.items():
                image(item, loc + [key])

    def walk(value: Any, loc: List[Any]) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                name = str(key).lower()
                if item is None or item == "" or item == []:
                    continue
                if name in REFUSED_KEYS:
                    refuse(loc + [key], "is not taken through the queue (the extension would load it as a pickle)")
                elif name.endswith(PATH_SUFFIXES) or name in ("dir", "path"):
                    refuse(loc + [key], "names a folder or file on the server: not taken through the queue")
                elif name in ("image", "mask") or name.endswith(IMAGE_SUFFIXES):
                    image(item, loc + [key])
                else:
                    walk(item, loc + [key])
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, loc + [i])
        elif is_url(value):
            refuse(loc, "is a URL, which webui would download if this argument is an image: "
                        "send images as base64 (the queue fetches nothing for its users)")

    walk(params.get("script_args") or [], ["script_args"])
    for name, given in (params.get("alwayson_scripts") or {}).items():
        if isinstance(given, dict):
            walk(given.get("args") or [], ["alwayson_scripts", name, "args"])
    return found
