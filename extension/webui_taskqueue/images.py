"""Result images on disk: <root>/<task_id>/<index>.png with webui's infotext in the
PNG "parameters" text chunk (what webui's PNG Info tab reads). Written to a
temporary name and renamed, so a half-written file is never served."""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from typing import List, Optional, Sequence

from PIL import Image, PngImagePlugin

THUMBNAIL_SIZE = 256  # the longer side, in pixels


class ImageStore:
    def __init__(self, root: str) -> None:
        self.root = root
        os.makedirs(root, exist_ok=True)

    def save(self, task_id: str, images: Sequence[Image.Image], infotexts: Sequence[str]) -> List[str]:
        folder = os.path.join(self.root, task_id)
        os.makedirs(folder, exist_ok=True)
        names = []
        for index, image in enumerate(images):
            info = PngImagePlugin.PngInfo()
            text = infotexts[index] if index < len(infotexts) else ""
            if text:
                info.add_text("parameters", text)
            name = f"{index}.png"
            fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as f:
                    image.save(f, format="PNG", pnginfo=info)
                os.replace(tmp, os.path.join(folder, name))
            except BaseException:
                os.unlink(tmp)
                raise
            names.append(name)
        return names

    def path(self, task_id: str, index: int) -> Optional[str]:
        path = os.path.join(self.root, task_id, f"{index}.png")
        return path if os.path.isfile(path) else None

    def thumbnail(self, task_id: str, index: int) -> str:
        """A small JPEG of a result image, made on first request and kept beside it."""
        path = os.path.join(self.root, task_id, f"{index}.thumb.jpg")
        if not os.path.isfile(path):
            with Image.open(os.path.join(self.root, task_id, f"{index}.png")) as image:
                image.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
                data = io.BytesIO()
                image.convert("RGB").save(data, format="JPEG", quality=80)
            _write_atomically(path, data.getvalue())
        return path

    def delete(self, task_id: str) -> None:
        shutil.rmtree(os.path.join(self.root, task_id), ignore_errors=True)


def encode_preview(image: Image.Image) -> bytes:
    """Live previews are transient: JPEG is a tenth of the PNG's size and encodes faster."""
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=85)
    return out.getvalue()


def _write_atomically(path: str, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
