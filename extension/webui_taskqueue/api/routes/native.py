"""webui's own routes with the queue's say first, on webui's own app, with no patch to
webui: each is wrapped by a route placed just ahead of it that matches exactly what it
matches, decides (api/doors.py), and hands the request to webui's route when webui's own
answer is the right one. webui's --api-auth stays in force: whatever webui would refuse
goes to webui to refuse.

- GET /sdapi/v1/progress: webui's answer, or, when it may hold another's queued task,
  that answer as webui gives it with no job running (nothing of the task in it).
- POST /internal/progress: another's task id is asked for as an id webui does not know.
- POST /sdapi/v1/interrupt and /skip: webui's own, unless another's task runs: 409.
- GET and POST /sdapi/v1/options: a person (not an admin) reads and sets their own
  checkpoint, VAE, CLIP skip, ... (people/settings.py); the box's stay as they are.
- POST /sdapi/v1/txt2img and /img2img (the door, when open): a task of the caller,
  answered when final in webui's shape; a client that leaves cancels it while queued.
  With the door closed webui runs it, with the caller's own settings."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple

import anyio
from fastapi.encoders import jsonable_encoder
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Match

from ...people.settings import NotPersonal
from ...records.errors import PayloadError
from ...records.quotas import QuotaExceeded
from ...records.tasks import TaskStatus, TaskType
from ...store.push import FINAL
from ..doors import Native, credentials, http_error
from .common import Services, read_json

log = logging.getLogger(__name__)

RECHECK_SECONDS = 5.0  # a door's waiting request reads its task at least this often (the hub wakes it sooner)
LEFT = object()  # put on a waiting door's queue when its client leaves
Handler = Callable[[Native, BaseRoute, dict, Callable, Callable], Awaitable[None]]


class NativeRoute(BaseRoute):
    """Matches what webui's `inner` route matches; `handler` decides, or hands over."""

    def __init__(self, inner: BaseRoute, handler: Handler, native: Callable[[], Optional[Native]]) -> None:
        self.inner, self.handler, self.native = inner, handler, native
        self.path = getattr(inner, "path", "")
        self.name = getattr(inner, "name", None)

    def matches(self, scope) -> Tuple[Match, dict]:
        return self.inner.matches(scope)

    def url_path_for(self, name: str, **params: Any):
        return self.inner.url_path_for(name, **params)

    async def handle(self, scope, receive, send) -> None:
        native = self.native()
        if native is None or scope.get("method") not in getattr(self.inner, "methods", ()):
            await self.inner.handle(scope, receive, send)  # stopped, or a 405 webui gives
            return
        await self.handler(native, self.inner, scope, receive, send)


# ---- the guard ---------------------------------------------------------------------------

# The decisions run off the event loop: they read the store, and the worker's switch lock
# is held while a preview decodes.

async def progress(native: Native, inner: BaseRoute, scope, receive, send) -> None:
    if not native.guarding():
        return await inner.handle(scope, receive, send)
    key, basic = credentials(Request(scope).headers)

    def look():
        user, before = native.caller(key, basic), native.worker.holder()
        return user, before, native.hidden(user, before, before)

    user, before, hide = await run_in_threadpool(look)
    # webui's answer; without the image when it is hidden anyway (no encoding for nothing)
    status, headers, body = await _capture(inner, _with_query(scope, skip_current_image="true") if hide else scope, receive)
    hide = hide or await run_in_threadpool(lambda: native.hidden(user, before, native.worker.holder()))
    if hide and status == 200:
        await JSONResponse(_idle(json.loads(body)))(scope, receive, send)
    else:
        await _replay(status, headers, body, send)


async def internal_progress(native: Native, inner: BaseRoute, scope, receive, send) -> None:
    if not native.guarding():
        return await inner.handle(scope, receive, send)
    key, basic = credentials(Request(scope).headers)

    def hide(asked: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        if not native.hidden_task(native.caller(key, basic), asked.get("id_task")):
            return None
        return {**asked, "id_task": f"hidden-{uuid.uuid4().hex}"}  # an id webui never gave: its answer for one

    await _rewritten(inner, hide, scope, receive, send)


def stopper(interrupt: bool) -> Handler:
    async def stop(native: Native, inner: BaseRoute, scope, receive, send) -> None:
        key, basic = credentials(Request(scope).headers)
        if not native.guarding() or native.webui_refuses(basic):
            return await inner.handle(scope, receive, send)
        endpoint = inner.endpoint  # webui's own interruptapi / skip, called as its route would

        def act():
            kind, value = native.stop(native.caller(key, basic), endpoint)
            if kind == "task":  # the caller's own task (or an admin's call): that task only
                if interrupt:
                    native.worker.interrupt(value)
                    return kind, {}
                return kind, native.skip_task(value, endpoint)
            return kind, value

        kind, value = await run_in_threadpool(act)
        if kind == "refused":
            return await JSONResponse(http_error(409, native.refusal()), status_code=409)(scope, receive, send)
        await JSONResponse(jsonable_encoder(value))(scope, receive, send)

    return stop


# ---- a person's own settings ---------------------------------------------------------------

async def options_read(native: Native, inner: BaseRoute, scope, receive, send) -> None:
    """webui's answer, with the caller's own settings in place of the box's."""
    key, basic = credentials(Request(scope).headers)
    if native.webui_refuses(basic):
        return await inner.handle(scope, receive, send)
    status, headers, body = await _capture(inner, scope, receive)
    if status != 200:
        return await _replay(status, headers, body, send)
    user = await run_in_threadpool(native.caller, key, basic)
    answer = await run_in_threadpool(native.options_shown, user, json.loads(body))
    await JSONResponse(answer)(scope, receive, send)


async def options_write(native: Native, inner: BaseRoute, scope, receive, send) -> None:
    """An admin's (or an open queue's) change is webui's: the box's defaults. A
    person's is theirs alone (Native.options_change)."""
    request = Request(scope, receive)
    key, basic = credentials(request.headers)
    if native.webui_refuses(basic):
        return await inner.handle(scope, receive, send)
    user = await run_in_threadpool(native.caller, key, basic)
    if user is not None and not native.personal(user):
        return await inner.handle(scope, receive, send)
    if user is None:
        return await _unauthorized()(scope, receive, send)
    try:
        body = await _object(native, request)
        await run_in_threadpool(native.options_change, user, body)
    except PayloadError as e:
        return await JSONResponse({"detail": e.errors}, status_code=e.status_code)(scope, receive, send)
    except NotPersonal as e:
        return await JSONResponse(http_error(403, str(e)), status_code=403)(scope, receive, send)
    await JSONResponse(None)(scope, receive, send)  # webui's set_config answers null


# ---- the door ------------------------------------------------------------------------------

def door(kind: TaskType) -> Handler:
    async def queued(native: Native, inner: BaseRoute, scope, receive, send) -> None:
        request = Request(scope, receive)
        key, basic = credentials(request.headers)
        if native.webui_refuses(basic):
            return await inner.handle(scope, receive, send)
        if not native.door_open():
            return await _native_run(native, inner, key, basic, scope, receive, send)
        user = await run_in_threadpool(native.caller, key, basic)
        if user is None:
            return await _unauthorized()(scope, receive, send)
        try:
            body = await _object(native, request)
            parameters = await run_in_threadpool(native.parameters, kind.value, body)
            view = await run_in_threadpool(native.queue.submit, user, kind, native.queue_body(body, parameters))
        except PayloadError as e:
            return await JSONResponse({"detail": e.errors}, status_code=e.status_code)(scope, receive, send)
        except QuotaExceeded as e:
            headers = {"Retry-After": str(e.retry_after)} if e.retry_after else None
            return await JSONResponse(http_error(429, str(e)), status_code=429, headers=headers)(scope, receive, send)
        task = await _wait(native, user, view.task.task_id, receive)
        if task is None:  # nobody reads it, but webui's middleware wants an answer sent
            gone = http_error(409, "the client left (its task was cancelled if it still waited), or the task was deleted")
            return await JSONResponse(gone, status_code=409)(scope, receive, send)
        status, answer = await run_in_threadpool(native.answer, task, parameters)
        await JSONResponse(answer, status_code=status)(scope, receive, send)

    return queued


async def _native_run(native: Native, inner: BaseRoute, key, basic, scope, receive, send) -> None:
    """The door closed: webui runs the call itself, with the caller's own settings."""
    user = await run_in_threadpool(native.caller, key, basic)
    if not native.personal(user):
        return await inner.handle(scope, receive, send)

    def own(body: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        changed = native.native_body(user, body)
        return None if changed is body else changed

    await _rewritten(inner, own, scope, receive, send)


async def _wait(native: Native, user, task_id: str, receive):
    """The task once final; None when the client left first (its task is then
    cancelled if it still waits, and left to finish if it runs). The body is read:
    the next message the server gives is the client's disconnect.

    It waits for the task's final event from the event hub (which hears at once of a
    task this box's worker ends, and reads the event log for the rest), or for the
    client to leave: the task is read only then, and every `RECHECK_SECONDS` in case
    the hub is stopping."""
    hub = getattr(native.services, "events", None)
    loop = asyncio.get_running_loop()
    sub = await run_in_threadpool(hub.subscribe, user.name, loop, False) if hub is not None else None
    woken: asyncio.Queue = sub.queue if sub is not None else asyncio.Queue()
    left, found = anyio.Event(), None

    async def watch() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        left.set()
        woken.put_nowait(LEFT)

    try:
        async with anyio.create_task_group() as group:
            group.start_soon(watch)
            while True:
                task = await run_in_threadpool(native.store.get, task_id)
                if task is None or task.is_final:
                    found = task
                    break
                if left.is_set():
                    if task.status == TaskStatus.QUEUED:
                        try:
                            await run_in_threadpool(native.queue.interrupt, user, task_id)
                        except Exception as e:  # it ended meanwhile: nothing to cancel
                            log.info("task queue: task %s of a client that left: %s", task_id, e)
                    break
                with anyio.move_on_after(RECHECK_SECONDS):
                    while True:
                        event = await woken.get()
                        if event is None or event is LEFT or (event.task_id == task_id and event.kind == FINAL):
                            break
            group.cancel_scope.cancel()
    finally:
        if sub is not None:
            hub.unsubscribe(sub)
    return found


# ---- installing ------------------------------------------------------------------------------

ROUTES: List[Tuple[str, str, Handler]] = [
    ("/sdapi/v1/progress", "GET", progress),
    ("/internal/progress", "POST", internal_progress),
    ("/sdapi/v1/interrupt", "POST", stopper(interrupt=True)),
    ("/sdapi/v1/skip", "POST", stopper(interrupt=False)),
    ("/sdapi/v1/options", "GET", options_read),
    ("/sdapi/v1/options", "POST", options_write),
    ("/sdapi/v1/txt2img", "POST", door(TaskType.TXT2IMG)),
    ("/sdapi/v1/img2img", "POST", door(TaskType.IMG2IMG)),
]


def install(app, services: Callable[[], Optional[Services]]) -> int:
    """Place our routes just ahead of webui's (those it has: under --nowebui no
    /internal/progress, without --api no /sdapi); again on the same app, ours replace
    the earlier ones. -> how many were placed."""
    routes = app.router.routes
    routes[:] = [r for r in routes if not isinstance(r, NativeRoute)]
    cache: Dict[int, Native] = {}

    def native() -> Optional[Native]:
        found = services()
        if found is None:
            return None
        if id(found) not in cache:
            cache.clear()
            cache[id(found)] = Native(found)
        return cache[id(found)]

    placed = 0
    for path, method, handler in ROUTES:
        for index, route in enumerate(routes):
            if getattr(route, "path", None) == path and method in (getattr(route, "methods", None) or ()):
                routes.insert(index, NativeRoute(route, handler, native))
                placed += 1
                break
    return placed


# ---- ASGI helpers ----------------------------------------------------------------------------

async def _rewritten(inner: BaseRoute, change: Callable[[Dict[str, Any]], Optional[Dict[str, Any]]],
                     scope, receive, send) -> None:
    """webui's route given the request's JSON object as `change` (run off the event
    loop) makes it, or as it came when `change` answers None or the body is no
    object (webui refuses that itself)."""
    raw = await Request(scope, receive).body()
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if isinstance(body, dict):
        changed = await run_in_threadpool(change, body)
        if changed is not None:
            raw = json.dumps(changed).encode()
    await inner.handle(_with_length(scope, len(raw)), _replay_body(raw, receive), send)


def _unauthorized() -> JSONResponse:
    why = "a queue API key (X-API-Key) or webui's --api-auth credentials are needed, and valid"
    return JSONResponse(http_error(401, why), status_code=401, headers={"WWW-Authenticate": "Basic"})


async def _object(native: Native, request: Request) -> Dict[str, Any]:
    """The request's JSON body, an object (PayloadError otherwise)."""
    body = await read_json(request, native.queue.limits().max_body_mb, "max_body_mb")
    if not isinstance(body, dict):
        raise PayloadError([{"loc": ["body"], "msg": "the body must be a JSON object", "type": "type_error"}])
    return body


async def _capture(inner: BaseRoute, scope, receive) -> Tuple[int, list, bytes]:
    messages: List[dict] = []

    async def keep(message) -> None:
        messages.append(message)

    await inner.handle(scope, receive, keep)
    start = next(m for m in messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return start["status"], start.get("headers", []), body


async def _replay(status: int, headers: list, body: bytes, send) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _replay_body(body: bytes, receive):
    given = False

    async def again():
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


def _with_query(scope, **values: str) -> dict:
    from urllib.parse import parse_qsl, urlencode

    query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
    query.update(values)
    return {**scope, "query_string": urlencode(query).encode("latin-1")}


def _with_length(scope, length: int) -> dict:
    headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"content-length"]
    return {**scope, "headers": headers + [(b"content-length", str(length).encode())]}


def _idle(answer: Dict[str, Any]) -> Dict[str, Any]:
    """webui's progress answer as it is with no job running: nothing of the job."""
    out = dict(answer, progress=0, eta_relative=0, current_image=None, textinfo=None)
    if "current_task" in out:
        out["current_task"] = None
    state = dict(out.get("state") or {})
    for name, value in state.items():
        if isinstance(value, bool):
            state[name] = False
        elif isinstance(value, (int, float)):
            state[name] = 0
        elif name == "job":
            state[name] = ""
    out["state"] = state
    return out
