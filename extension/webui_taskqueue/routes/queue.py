"""Routes of the queue as a whole: the run order, pause and resume, checkpoints, health."""

from __future__ import annotations

from typing import Callable

from fastapi import APIRouter, Depends

from .. import schemas
from .common import ADMIN_ERRORS, ERRORS, PREFIX, Caller, QueueRoute, Services


def build(get_services: Callable[[], Services], caller: Callable) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["queue"], route_class=QueueRoute)

    @router.get("/queue", response_model=schemas.QueuePublic, responses=ERRORS)
    def queue(services: Services = Depends(get_services), who: Caller = Depends(caller)):
        """Running and queued tasks in run order: your own in full, other people's as
        anonymous entries (no id, prompt, parameters, owner or images)."""
        found = services.queue.queue(who.user)
        return {**found, "data": [schemas.task_public(v, who.links) for v in found["data"]]}

    @router.post("/queue/pause", response_model=schemas.PausedPublic, responses=ADMIN_ERRORS)
    def pause(services: Services = Depends(get_services), who: Caller = Depends(caller)):
        """Admins: the running task finishes, nothing new starts."""
        return services.queue.set_paused(who.user, True)

    @router.post("/queue/resume", response_model=schemas.PausedPublic, responses=ADMIN_ERRORS)
    def resume(services: Services = Depends(get_services), who: Caller = Depends(caller)):
        return services.queue.set_paused(who.user, False)

    @router.get("/checkpoints", response_model=schemas.CheckpointsPublic, responses={401: ERRORS[401]})
    def checkpoints(services: Services = Depends(get_services), who: Caller = Depends(caller)):
        """Checkpoints webui knows (those the caller may use), with webui's short hash,
        and which one is loaded."""
        return services.queue.checkpoints(who.user)

    @router.get("/health", response_model=schemas.HealthPublic, responses={401: ERRORS[401]})
    def health(services: Services = Depends(get_services), who: Caller = Depends(caller)):
        return services.queue.health()

    return router
