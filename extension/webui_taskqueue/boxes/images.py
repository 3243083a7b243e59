"""Result images of a task made on another box, fetched from that box.

Boxes that share one images folder (Settings > Task queue, or TASK_QUEUE_IMAGES_DIR)
find every task's images on disk and never come here. Otherwise each box keeps the
images it made, says in its heartbeat where the other boxes reach it
(TASK_QUEUE_BOX_URL), and a box asked for another box's image fetches it from there
and answers itself, with the same headers.

The fetch opens the other box's own image route with a signed link (people/auth.py): the
signature is keyed by the installation's signing secret, which lives in the shared
store, so only boxes can make one; it opens that one image for a short while and
nothing else, and no user's key ever leaves the box that received it."""

from __future__ import annotations

import dataclasses
import http.client
import time
from typing import Callable, Optional
from urllib.parse import urlsplit

from ..records.errors import NotFound
from ..records.tasks import Task
from ..store.contract import Store

TIMEOUT = 30.0  # seconds a fetch from another box may take
MEDIA = {"image": "image/png", "thumb": "image/jpeg"}
MOST = 256 * 1024 * 1024  # bytes: an answer longer than this is not an image of ours


@dataclasses.dataclass(frozen=True)
class Fetched:
    data: bytes
    media_type: str


class BoxGone(NotFound):
    """The box that made a task's images cannot be reached: 404, saying which and why."""


class BoxImages:
    def __init__(self, store: Store, box: Optional[str], link: Callable[[str, str, int], str],
                 timeout: float = TIMEOUT) -> None:
        """`link(task_id, kind, index)`: the signed path of that image on any box."""
        self.store, self.box, self.link, self.timeout = store, box, link, timeout

    def fetch(self, task: Task, kind: str, index: int) -> Fetched:
        """`kind`: "image" or "thumb". NotFound when the task made its images here (they
        are gone), BoxGone when the box that made them cannot answer."""
        if not self.store.shared or task.box in (None, self.box):
            raise NotFound(f"task {task.task_id} has no image {index}")
        record = self.store.boxes().get(task.box)
        if record is None:
            raise BoxGone(f"task {task.task_id}'s images are on box {task.box}, which is not running now; "
                          "they can be fetched again once it runs")
        url = record.get("url")
        if not url:
            raise BoxGone(f"task {task.task_id}'s images are on box {task.box}, which does not say where other "
                          "boxes reach it (TASK_QUEUE_BOX_URL, or Settings > Task queue > This box's URL)")
        status, data = _get(url.rstrip("/") + self.link(task.task_id, kind, index), self.timeout)
        if status == 200:
            return Fetched(data, MEDIA[kind])
        if status == 404:
            raise NotFound(f"task {task.task_id} has no image {index} (box {task.box} has none)")
        why = f"it answered {status}" if status else data.decode("utf-8", "replace")
        raise BoxGone(f"task {task.task_id}'s images are on box {task.box}, which cannot be reached at {url} now "
                      f"({why})")


    def forget(self, task: Task) -> None:
        """`task` (deleted here) was made on another box: that box deletes its images
        (live.Publisher), unless the folder is shared and they are gone already."""
        if self.store.shared and task.box not in (None, self.box):
            self.store.forget_images(task.box, task.task_id)


def _get(url: str, timeout: float):
    """(status, body), or (None, why there was no answer)."""
    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    started = time.monotonic()
    try:
        connection = kind(parts.hostname, parts.port, timeout=timeout)
        try:
            connection.request("GET", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
            response = connection.getresponse()
            body = response.read(MOST)
            return response.status, body
        finally:
            connection.close()
    except (OSError, http.client.HTTPException, ValueError) as e:
        waited = time.monotonic() - started
        return None, f"{type(e).__name__}: {e}; after {waited:.1f} s".encode()
