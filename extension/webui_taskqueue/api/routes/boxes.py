"""GET /boxes: the boxes (webui processes) that run the queue's tasks, each with its
loaded model and running task, as the caller may see them (boxes/view.py says who sees what)."""

from __future__ import annotations

from typing import Callable, List, Optional

from fastapi import APIRouter, Depends

from ..schemas import Model, iso
from .common import PREFIX, Caller, QueueRoute, Services, answers


class BoxPublic(Model):
    name: str
    this: bool  # the box that answered
    checkpoint: Optional[str] = None  # the model it has loaded (the running task's while one runs)
    busy: bool  # it runs a task
    running: Optional[str] = None  # that task's id: admins, and the task's owner
    mine: bool = False  # the task it runs is the caller's
    # admins only:
    owner: Optional[str] = None  # whose task it runs
    started_at: Optional[str] = None  # when the box started
    tasks_started: Optional[int] = None  # tasks it began since then
    seen_at: Optional[str] = None  # when it last said it is alive
    url: Optional[str] = None  # where the other boxes reach it


class BoxesPublic(Model):
    data: List[BoxPublic]
    count: int


def build(get_services: Callable[[], Services], caller: Callable) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["queue"], route_class=QueueRoute)

    @router.get("/boxes", response_model=BoxesPublic, responses=answers())
    def boxes(services: Services = Depends(get_services), who: Caller = Depends(caller)):
        """The boxes alive that run this queue's tasks, by name: each one's loaded model
        and whether it runs a task. One box (this one) unless the queue is shared
        through Redis. Admins see each box's running task and its owner; a user sees
        the running task only when it is theirs."""
        found = [{**box, "started_at": iso(box.get("started_at")), "seen_at": iso(box.get("seen_at"))}
                 for box in services.boxes.listed(who.user)]
        return {"data": found, "count": len(found)}

    return router
