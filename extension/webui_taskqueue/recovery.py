"""Start-up after a crash: what a dead process left half-done is settled before the
worker runs, cheaply whatever the number of tasks kept.

- A task left `running` is marked failed and never run again (`Store.recover`).
- Image writes that were cut short are removed: everything in images/.partial.
- A task folder that its task does not list goes: the task was deleted, or the process
  died between renaming the task's images into place and recording the task done.
  Folders appear whole (images.py), so a folder that its task lists holds its images.

That costs one listing of the images folder and one indexed lookup per 500 folders;
no folder is opened except those removed."""

from __future__ import annotations

import dataclasses
from typing import List

from .images import ImageStore
from .store import Store


@dataclasses.dataclass
class Recovered:
    failed: List[str]  # tasks that were running, now failed
    removed: List[str]  # task folders that no task lists
    partial: int  # writes cut short


def recover(store: Store, images: ImageStore, now: float) -> Recovered:
    failed = store.recover(now)
    partial = images.clear_partial()
    folders = images.folders()
    listed = store.images_of(folders)
    orphans = [task_id for task_id in folders if not listed.get(task_id)]
    images.remove(orphans)
    return Recovered(failed=failed, removed=orphans, partial=partial)
