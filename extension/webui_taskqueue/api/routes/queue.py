"""Routes of the queue as a whole: the run order, pause and resume, checkpoints, scripts, health."""

from __future__ import annotations

from typing import Callable

from fastapi import APIRouter, Depends, Query, Request

from .. import schemas
from .common import PREFIX, UNCHANGED, Caller, QueueRoute, Services, answers, tagged
from .tasks import MAX_OFFSET


def build(get_services: Callable[[], Services], caller: Callable) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["queue"], route_class=QueueRoute)

    @router.get("/queue", response_model=schemas.QueuePublic, responses={**answers(422), **UNCHANGED})
    def queue(request: Request, limit: int = Query(500, ge=1, le=10000), offset: int = Query(0, ge=0, le=MAX_OFFSET),
              services: Services = Depends(get_services), who: Caller = Depends(caller)):
        """Running and queued tasks in run order, with ETAs: your own with their ids,
        other people's as anonymous entries (no id, prompt, owner or images). Entries
        carry no parameters (GET /tasks/{id} has them); `count` counts them all.
        With the ETag of the last answer in If-None-Match: 304 while it is unchanged."""
        found = services.queue.queue(who.user, limit, offset)
        return tagged(request, {**found, "data": [schemas.task_public(v, who.links) for v in found["data"]]})

    @router.post("/queue/pause", response_model=schemas.PausedPublic, responses=answers(403))
    def pause(services: Services = Depends(get_services), who: Caller = Depends(caller)):
        """Admins: the running task finishes, nothing new starts."""
        return services.queue.set_paused(who.user, True)

    @router.post("/queue/resume", response_model=schemas.PausedPublic, responses=answers(403))
    def resume(services: Services = Depends(get_services), who: Caller = Depends(caller)):
        return services.queue.set_paused(who.user, False)

    @router.get("/checkpoints", response_model=schemas.CheckpointsPublic, responses=answers())
    def checkpoints(services: Services = Depends(get_services), who: Caller = Depends(caller)):
        """Checkpoints webui knows (those the caller may use), with webui's short hash,
        and which one is loaded."""
        return services.queue.checkpoints(who.user)

    @router.get("/scripts", response_model=schemas.ScriptsPublic, responses=answers())
    def scripts(services: Services = Depends(get_services), who: Caller = Depends(caller)):
        """The scripts each tab offers: selectable ones go in `script_name` (with
        `script_args` in the order of `args`), always-on ones in `alwayson_scripts`."""
        return services.queue.scripts()

    @router.get("/health", response_model=schemas.HealthPublic, responses=answers())
    def health(services: Services = Depends(get_services), who: Caller = Depends(caller)):
        return services.queue.health()

    return router
