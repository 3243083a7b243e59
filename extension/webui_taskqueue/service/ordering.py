"""Reordering queued tasks (move, priority): a part of QueueService, kept apart since
who may move what past whom is a question of its own."""

from __future__ import annotations

from typing import Any, Optional, Tuple

from ..people.auth import Forbidden
from ..records.errors import Conflict, PayloadError, error
from ..records.tasks import InvalidTransition, TaskStatus
from ..records.users import User
from .task_view import TaskView


class Ordering:
    """Mixed into QueueService: uses its `store`, `planner`, `_owned` and `_view`."""

    def move(self, user: User, task_id: str, body: Any) -> TaskView:
        """Reorder a queued task: {"to": "front"|"back"} or {"before": task_id}. An
        owner moves within their own tasks; an admin's move also sets the priority, so
        that "front" runs next whoever owns the task, and "back" after everyone else's."""
        to, before = _move_target(body)
        task = self._owned(user, task_id)
        if task.status != TaskStatus.QUEUED:
            raise Conflict(f"task {task_id} is {task.status.value}; only queued tasks move")
        others = [t for t in self.store.queued_light() if t.task_id != task_id]
        own = [t.sort_order for t in others if t.owner == task.owner]
        priority = None
        if before is not None:
            target = self._owned(user, before)
            if target.status != TaskStatus.QUEUED:
                raise Conflict(f"task {before} is {target.status.value}, not queued")
            earlier = [o for o in own if o < target.sort_order]
            sort_order = (max(earlier) + target.sort_order) / 2 if earlier else target.sort_order - 1
            if user.is_admin:
                priority = target.priority
            elif task.priority != target.priority:
                raise Conflict("an admin gave these tasks different priorities; only an admin can move one past the other")
        elif to == "front":
            sort_order = min(own, default=task.sort_order) - 1
            if user.is_admin:
                priority = max((t.priority for t in others), default=0) + 1
        else:
            sort_order = max(own, default=task.sort_order) + 1
            if user.is_admin:
                priority = min((t.priority for t in others), default=0) - 1
        return self._reorder(task_id, sort_order=sort_order, priority=priority)

    def set_priority(self, user: User, task_id: str, body: Any) -> TaskView:
        """Admins: {"priority": n}; higher runs sooner, within fair turns."""
        if not user.is_admin:
            raise Forbidden("only an admin may set a task's priority")
        priority = body.get("priority") if isinstance(body, dict) else None
        if not isinstance(priority, int) or isinstance(priority, bool) or not -1000 <= priority <= 1000 or set(body) != {"priority"}:
            raise PayloadError([error("priority", "must be a whole number from -1000 to 1000 (and the only field)")])
        self._owned(user, task_id)
        return self._reorder(task_id, priority=priority)

    def _reorder(self, task_id: str, **changes) -> TaskView:
        try:
            task = self.store.reorder(task_id, **changes)
            self.planner.invalidate()
            return self._view(task, fresh=True)
        except InvalidTransition as e:
            raise Conflict(str(e)) from None


def _move_target(body: Any) -> Tuple[Optional[str], Optional[str]]:
    if isinstance(body, dict) and set(body) == {"to"} and body["to"] in ("front", "back"):
        return body["to"], None
    if isinstance(body, dict) and set(body) == {"before"} and isinstance(body["before"], str) and body["before"]:
        return None, body["before"]
    field = "before" if isinstance(body, dict) and "before" in body else "to"
    raise PayloadError([error(field, 'the body must be {"to": "front"}, {"to": "back"} or {"before": "<task_id>"}')])
