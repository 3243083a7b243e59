"""Images that come in with a request (img2img's `init_images` and `mask`), checked
before anything is queued.

A small file can declare a huge image: a 140 KB PNG says 12000x12000, and decoding
it takes 576 MB. So the size an image declares in its header is checked against the
limits first, and only an image within them is decoded (to prove that it can be)."""

from __future__ import annotations

import base64
import binascii
import io
from typing import Optional, Tuple

from PIL import Image

# what browsers and webui's users send; other formats bring decoders nobody needs here
FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP")
# An init image may be larger than the task's output: webui resizes it. This many
# times the largest output (max_width x max_height) is still a sane input.
AREA_FACTOR = 4


def max_pixels(max_width: int, max_height: int) -> int:
    """The most pixels an input image may declare."""
    return min(AREA_FACTOR * max_width * max_height, Image.MAX_IMAGE_PIXELS or 2**63)


def problem(data: str, max_width: int, max_height: int) -> Optional[str]:
    """Why this base64 image is refused, or None: by its declared size first, then by
    decoding it."""
    try:
        raw = _bytes(data)
    except ValueError as e:
        return str(e)
    try:
        image = Image.open(io.BytesIO(raw), formats=FORMATS)  # reads the header only
    except Image.DecompressionBombError as e:
        return f"declares more pixels than Pillow will decode: {e}"
    except Exception:
        return f"is not a decodable image in a format taken here ({', '.join(FORMATS)})"
    width, height = image.size
    most = max_pixels(max_width, max_height)
    if width < 1 or height < 1 or width * height > most or width > AREA_FACTOR * max_width or height > AREA_FACTOR * max_height:
        return (f"declares {width}x{height} pixels; an input image may have at most {AREA_FACTOR * max_width} x "
                f"{AREA_FACTOR * max_height} and {most / 1e6:.1f} megapixels ({AREA_FACTOR} x max_width x max_height)")
    try:
        image.load()
    except Exception:
        return f"is not a decodable image (a {image.format} header, then data that does not decode)"
    return None


def decode_image(data: str) -> Image.Image:
    """Base64 (optionally a data: URL) -> a loaded PIL image; ValueError saying why not."""
    raw = _bytes(data)
    try:
        image = Image.open(io.BytesIO(raw), formats=FORMATS)
        image.load()
    except Exception:
        raise ValueError("is not a decodable image") from None
    return image


def decode_input(data: str) -> Tuple[bytes, str]:
    """An accepted base64 image -> (its bytes, its media type), without decoding pixels."""
    raw = _bytes(data)
    with Image.open(io.BytesIO(raw), formats=FORMATS) as image:
        kind = (image.format or "png").upper()
    return raw, Image.MIME.get(kind, f"image/{kind.lower()}")


def _bytes(data: str) -> bytes:
    if data.strip().lower().startswith(("http://", "https://")):
        raise ValueError("is a URL: images are taken as base64 (a data: URL prefix is fine); "
                         "the queue fetches nothing for its users")
    if data.startswith("data:"):
        data = data.split(",", 1)[-1]
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("is not valid base64") from None
