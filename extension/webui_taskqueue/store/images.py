"""Result images on disk: <root>/<task_id>/<index>.png (<index>-grid.png for a script's
grid) with webui's infotext in the PNG "parameters" text chunk (what webui's PNG Info
tab reads).

A task's folder appears whole or not at all. Its images are written in a folder of
their own under <root>/.partial, each file flushed to the disk (fsync), then the
folder is renamed into place and the rename is flushed too: all before the worker
records the task done. A kill at any moment leaves either nothing in <root>/<task_id>
or every image, never a half-written file, and leftovers only where `recover()`
looks for them at start: in .partial, or a folder its task does not list."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from typing import Iterable, List, Optional, Sequence

from PIL import Image, PngImagePlugin

THUMBNAIL_SIZE = 256  # the longer side, in pixels
PARTIAL = ".partial"  # never a task id (those are hex)


def is_grid(name: str) -> bool:
    return name.endswith("-grid.png")


class ImageStore:
    def __init__(self, root: str, box: Optional[str] = None) -> None:
        """`box`: this box's name, when several boxes share the folder: its writes are
        staged in a folder of its own, so that its start-up clears only its own."""
        self.root = root
        self.partial = os.path.join(root, PARTIAL if box is None else f"{PARTIAL}-{_safe(box)}")
        os.makedirs(self.partial, exist_ok=True)

    def save(self, task_id: str, images: Sequence[Image.Image], infotexts: Sequence[str], grids: int = 0) -> List[str]:
        """Write a task's images, durably; their names, in order. All or nothing. The
        last `grids` of them are grids."""
        if not images:
            return []
        staging = tempfile.mkdtemp(dir=self.partial, prefix=f"{task_id}-")
        try:
            names = []
            for index, image in enumerate(images):
                info = PngImagePlugin.PngInfo()
                text = infotexts[index] if index < len(infotexts) else ""
                if text:
                    info.add_text("parameters", text)
                name = f"{index}-grid.png" if index >= len(images) - grids else f"{index}.png"
                with open(os.path.join(staging, name), "wb") as f:
                    image.save(f, format="PNG", pnginfo=info)
                    _flush(f)
                names.append(name)
            _sync_folder(staging)
            folder = os.path.join(self.root, task_id)
            if os.path.lexists(folder):  # left by a run the database never recorded
                shutil.rmtree(folder)
            os.rename(staging, folder)
            _sync_folder(self.root)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return names

    def path(self, task_id: str, name: str) -> Optional[str]:
        path = os.path.join(self.root, task_id, name)
        return path if os.path.isfile(path) else None

    def thumbnail(self, task_id: str, name: str) -> str:
        """A small JPEG of a result image, made on first request and kept beside it."""
        path = os.path.join(self.root, task_id, f"{name[:-len('.png')]}.thumb.jpg")
        if not os.path.isfile(path):
            with Image.open(os.path.join(self.root, task_id, name)) as image:
                image.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
                data = io.BytesIO()
                image.convert("RGB").save(data, format="JPEG", quality=80)
            self._write_atomically(path, data.getvalue())
        return path

    def delete(self, task_id: str) -> None:
        shutil.rmtree(os.path.join(self.root, task_id), ignore_errors=True)

    # ---- for recovery at start ----------------------------------------------------------

    def folders(self) -> List[str]:
        """The task ids that have a folder (never a staging folder: those start with a dot)."""
        with os.scandir(self.root) as entries:
            return [e.name for e in entries if not e.name.startswith(".")]

    def clear_partial(self) -> int:
        """Remove what writes cut short left behind; how many entries that was."""
        with os.scandir(self.partial) as entries:
            names = [e.name for e in entries]
        for name in names:
            _remove(os.path.join(self.partial, name))
        return len(names)

    def remove(self, task_ids: Iterable[str]) -> None:
        for task_id in task_ids:
            _remove(os.path.join(self.root, task_id))

    def _write_atomically(self, path: str, data: bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.partial, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                _flush(f)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise


def encode_preview(image: Image.Image) -> bytes:
    """Live previews are transient: JPEG is a tenth of the PNG's size and encodes faster."""
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=85)
    return out.getvalue()


def _safe(name: str) -> str:
    """A box name as part of a folder name."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


def _remove(path: str) -> None:
    """A folder or a file, as far as the file system lets us: start-up goes on regardless."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            os.unlink(path)


def _flush(f) -> None:
    f.flush()
    os.fsync(f.fileno())


def _sync_folder(path: str) -> None:
    """Make the names in a folder durable (a rename, a new file). POSIX only: Windows
    cannot open a folder for fsync."""
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
