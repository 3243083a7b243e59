"""The app before the queue is ready. webui serves HTTP from gradio's launch on; the
queue's routes arrive with webui's app_started, seconds later. In between:
- a page or a bot polling the queue gets 503 with Retry-After (the queue is starting),
  not a 404 that says there is no queue;
- middleware added to the app (webui's own API adds its middleware then) never fails
  for a request that came first: starlette refuses to add middleware once a request
  has built the app's stack, and webui exits on that refusal. The stack is built
  again, whole, and swapped in instead.
`hold(app)` when webui sets the app up, `release(app)` when the queue's routes are in."""

from __future__ import annotations

from typing import Any

from starlette.middleware import Middleware
from starlette.responses import JSONResponse
from starlette.routing import Route

from .common import PREFIX

RETRY_SECONDS = 2
NAME = "task-queue-starting"
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


async def _starting(request) -> JSONResponse:
    return JSONResponse({"detail": "the task queue is starting; try again in a moment"}, status_code=503,
                        headers={"Retry-After": str(RETRY_SECONDS)})


def hold(app: Any) -> None:
    """Make adding middleware safe at any time, and answer 503 under the queue's prefix."""
    _sturdy(app)
    if not any(getattr(route, "name", None) == NAME for route in app.router.routes):
        app.router.routes.append(Route(PREFIX + "/{rest:path}", _starting, methods=METHODS, name=NAME,
                                       include_in_schema=False))


def release(app: Any) -> None:
    """The queue's routes are in: no more 503."""
    app.router.routes[:] = [route for route in app.router.routes if getattr(route, "name", None) != NAME]


def _sturdy(app: Any) -> None:
    """Middleware and exception handlers added after a request built the stack go into
    a new stack, swapped in whole (a request in flight finishes on the old one)."""
    if getattr(app, "task_queue_sturdy", False):
        return
    add_handler = app.add_exception_handler

    def add_middleware(middleware_class, *args, **options) -> None:
        found = Middleware(middleware_class, *args, **options) if args else Middleware(middleware_class, **options)
        app.user_middleware.insert(0, found)
        _rebuilt(app)

    def add_exception_handler(key, handler) -> None:
        add_handler(key, handler)
        _rebuilt(app)

    app.add_middleware, app.add_exception_handler = add_middleware, add_exception_handler
    app.task_queue_sturdy = True


def _rebuilt(app: Any) -> None:
    if app.middleware_stack is not None:
        app.middleware_stack = app.build_middleware_stack()
