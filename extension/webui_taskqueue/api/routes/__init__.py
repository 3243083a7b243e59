"""HTTP routes under /queue/v1, one router per resource, wired here."""

from __future__ import annotations

from typing import Callable

from fastapi import APIRouter

from . import boxes, events, prompt_extras, queue, tasks, users
from .common import PREFIX, Services, caller_dependencies

__all__ = ["PREFIX", "Services", "build_router"]


def build_router(services: Callable[[], Services]) -> APIRouter:
    """`services`: what the routes call (a plain, quick lookup)."""

    async def get_services() -> Services:  # async: a dependency without a thread hop
        return services()

    caller, resource_caller = caller_dependencies(get_services)
    router = APIRouter()
    router.include_router(tasks.build(get_services, caller, resource_caller, services))
    router.include_router(queue.build(get_services, caller))
    router.include_router(users.build(get_services, caller))
    router.include_router(prompt_extras.build(get_services, caller))
    router.include_router(events.build(get_services, caller))
    router.include_router(boxes.build(get_services, caller))
    return router
