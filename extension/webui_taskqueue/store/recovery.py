"""Start-up after a crash: what a dead process left half-done is settled before the
worker runs, cheaply whatever the number of tasks kept.

- A task left `running` is marked failed and never run again (`Store.recover`).
- Image writes that were cut short are removed: everything in images/.partial.
- A task folder that its task does not list goes: the task was deleted, or the process
  died between renaming the task's images into place and recording the task done.
  Folders appear whole (store/images.py), so a folder that its task lists holds its images.
  A task still running keeps its folder: on a folder that several boxes share, another
  box may be recording that task done right now.

That costs one listing of the images folder and one indexed lookup per 500 folders;
no folder is opened except those removed."""

from __future__ import annotations

import dataclasses
from typing import List

from ..records.tasks import TaskStatus
from .contract import Store
from .images import ImageStore


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
    unlisted = [task_id for task_id in folders if not listed.get(task_id)]
    orphans = [task_id for task_id in unlisted if not _running(store, task_id)]
    images.remove(orphans)
    return Recovered(failed=failed, removed=orphans, partial=partial)


def _running(store: Store, task_id: str) -> bool:
    task = store.get(task_id)
    return task is not None and task.status == TaskStatus.RUNNING
