"""A task as the API shows it: the stored task and what only the live queue knows."""

from __future__ import annotations

import dataclasses
from typing import Optional

from ..records.tasks import Task
from ..running.progress import Progress
from ..store.push import Delivery


@dataclasses.dataclass
class TaskView:
    """A task with what only the live queue knows: its place and its progress."""

    task: Task
    position: Optional[int] = None
    progress: Optional[Progress] = None
    anonymous: bool = False  # someone else's task in the queue view: no id, prompt, owner or images
    mine: bool = True  # the caller's own task (an admin sees others' in full, not as theirs)
    ahead: Optional[int] = None  # tasks that will run before it, the running one included
    eta: Optional[float] = None  # seconds until it is expected to be done
    callback: Optional[Delivery] = None  # its webhook, when it has a callback_url
    replayed: bool = False  # a submit's answer given again for its Idempotency-Key
