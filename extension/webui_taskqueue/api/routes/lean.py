"""Status polls past webui's per-request middleware.

Every watcher polls GET /queue/v1/tasks/{id} once a second. webui puts two
`@app.middleware("http")` functions on its app (modules/api/api.py: log_and_time,
exception_handling), and each is a starlette BaseHTTPMiddleware: per request a task
group, a memory stream and a streamed copy of the answer. On the stand-in that was
about three quarters of a poll's time on the event loop, and each extra turn of the
loop is one more wait for the GIL behind the worker. So such a poll goes through the
app's own stack built without those two and without GZip (a poll's answer is small),
to the same route: same authentication, answers and OpenAPI document. Any other
middleware (an extension's) stays. A request with an Origin header takes the full
stack, so webui's CORS middleware (--cors-allow-origins) still answers it.

What a poll on this lane lacks: webui's X-Process-Time header and gzip. webui's
--api-log prints /sdapi requests only, so no log line is lost."""

from __future__ import annotations

import copy
import re
from typing import Any, Callable

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware

from .common import PREFIX

POLL = re.compile(re.escape(PREFIX) + r"/tasks/[^/]+\Z")  # the path's end: webui's --subpath may precede it
WEBUI_MIDDLEWARE = {("modules.api.api", "log_and_time"), ("modules.api.api", "exception_handling")}


def serve_polls_lean(app) -> None:
    """Route status polls through the lean stack; again whenever the app rebuilds its stack."""
    if getattr(app, "task_queue_lean_polls", False):
        return
    build = app.build_middleware_stack

    def wrap(full: Callable) -> Callable:
        lean = _lean_stack(app)

        async def route(scope, receive, send):
            if scope["type"] == "http" and scope["method"] == "GET" and POLL.search(scope["path"]) \
                    and not any(key == b"origin" for key, _ in scope["headers"]):
                await lean(scope, receive, send)
            else:
                await full(scope, receive, send)

        return route

    app.build_middleware_stack = lambda: wrap(build())
    if app.middleware_stack is not None:
        app.middleware_stack = wrap(app.middleware_stack)
    app.task_queue_lean_polls = True


def _lean_stack(app) -> Callable:
    """The app's stack as the app builds it (its error handlers, FastAPI's own layers),
    less the middleware a poll does without; the app itself is left as it is."""
    lean = copy.copy(app)
    lean.user_middleware = [m for m in app.user_middleware if not _skippable(m)]
    return type(app).build_middleware_stack(lean)


def _skippable(middleware: Any) -> bool:
    cls = middleware.cls
    if cls in (GZipMiddleware, CORSMiddleware):  # CORS: only requests without Origin come here
        return True
    if cls is not BaseHTTPMiddleware:
        return False
    options = {**getattr(middleware, "options", {}), **getattr(middleware, "kwargs", {})}  # starlette < 0.35: options
    dispatch = options.get("dispatch") or next(iter(getattr(middleware, "args", ())), None)
    return (getattr(dispatch, "__module__", None), getattr(dispatch, "__name__", None)) in WEBUI_MIDDLEWARE
