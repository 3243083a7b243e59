"""Push routes: the event stream (`GET /events`) and the webhook secret (`/me/webhook-secret`).

The stream is a plain StreamingResponse, not sse-starlette: that library's maintained
line (3.x) needs starlette >= 0.49.1, and webui v1.10.1 pins starlette 0.26.1; one
version for both stacks would be an unmaintained one. What it would add here
(framing, keep-alive, ending on disconnect) is a few lines below and starlette's own."""

from __future__ import annotations

import asyncio
import json
import time
import weakref
from typing import Any, Callable, Dict, List, Optional, Tuple

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from ...people.auth import Forbidden
from ...push.webhooks import MAX_URL, URL_PATTERN
from ...records.errors import NotFound
from ...records.tasks import FINAL_STATUSES, TaskStatus
from ...records.users import Role, User
from ...store.push import FINAL, KINDS, POSITION, PREVIEW, PROGRESS, STARTED, SUBMITTED, Event
from .. import schemas
from .common import PREFIX, Caller, Links, QueueRoute, Services, answers

KEEP_ALIVE = 15.0  # seconds between comments on an idle stream: proxies cut silent ones
RETRY_MS = 2000  # how soon a browser's EventSource reconnects
SNAPSHOT_MOST = 500
STREAM_PATH = f"{PREFIX}/events"


def _object(required: List[str], **properties: Any) -> Dict[str, Any]:
    return {"type": "object", "required": required, "properties": {"task_id": {"type": "string"}, **properties}}


_WHOLE, _SNAPSHOT = {"type": "integer", "minimum": 0}, {"type": "boolean", "description": "part of the snapshot"}
# What each event's `data:` holds (JSON): for a generated client, and checked against
# every event the stream sends (tests/contract/test_events.py)
DATA_SCHEMAS = {
    SUBMITTED: _object(["task_id", "status"], status={"enum": ["queued"]}, snapshot=_SNAPSHOT),
    POSITION: _object(["task_id", "status", "position", "ahead"], status={"enum": ["queued"]},
                      position={"type": "integer", "minimum": 1}, ahead=_WHOLE),
    STARTED: _object(["task_id", "status"], status={"enum": ["running"]}, snapshot=_SNAPSHOT),
    PROGRESS: _object(["task_id", "status", "fraction", "step", "steps", "job_no", "job_count", "eta_seconds"],
                      status={"enum": ["running"]}, fraction={"type": "number", "minimum": 0, "maximum": 1},
                      step=_WHOLE, steps=_WHOLE, job_no=_WHOLE, job_count=_WHOLE,
                      eta_seconds={"type": ["number", "null"], "minimum": 0}),
    PREVIEW: _object(["task_id", "step", "url"], step=_WHOLE, url={"type": "string"}),
    FINAL: {**_object(["task_id", "status"], status={"enum": sorted(s.value for s in FINAL_STATUSES)},
                      deleted={"type": "boolean", "description": "deleted since: no task object"}),
            "description": "the task object, as GET /tasks/{task_id} answers it"},
}
# One event of the stream (each frame's fields, as a client parses them); the `retry:`
# frame and the `:` keep-alive comments carry no data
EVENT_SCHEMA = {
    "type": "object", "required": ["event", "id", "data"],
    "properties": {
        "event": {"type": "string", "enum": list(KINDS)},
        "id": {"type": "string", "pattern": "^[0-9]+$", "description": "send it back as Last-Event-ID to resume"},
        "data": {"type": "string", "pattern": "^[{].*[}]$",
                 "description": "JSON, by `event`: see `x-data-schemas`"},
    },
    "x-data-schemas": DATA_SCHEMAS,
}
STREAM_DOC = {
    200: {"description": "`text/event-stream`: events with `id:`, `event:` (submitted, position, started, progress, "
                         "preview, final) and `data:` (JSON with `task_id`; `final` carries the task object); the "
                         "schema describes one event",
          "content": {"text/event-stream": {"schema": EVENT_SCHEMA}}},
    **answers(403, 422, s403="`all=true` is for admins"),
}


def build(get_services: Callable[[], Services], caller: Callable) -> APIRouter:
    watch_server_exit()
    router = APIRouter(prefix=PREFIX, tags=["events"], route_class=QueueRoute)

    @router.get("/events", response_class=StreamingResponse, responses=STREAM_DOC)
    async def events(
        request: Request,
        all_users: bool = Query(False, alias="all", description="admins: everyone's tasks"),
        last_event_id: Optional[str] = Header(None, description="the last id seen: the stream resumes after it"),
        services: Services = Depends(get_services),
        who: Caller = Depends(caller),
    ):
        """Server-sent events of your tasks. With `Last-Event-ID` (within the last
        10,000 events) it resumes after that event; otherwise it starts with a snapshot
        of your open tasks (events marked `"snapshot": true`)."""
        if all_users and not who.user.is_admin:
            raise Forbidden("only an admin may follow everyone's tasks")
        owner = None if all_users else who.user.name
        hub = services.events
        _hubs.add(hub)
        sub = await run_in_threadpool(hub.subscribe, owner, asyncio.get_running_loop())  # its first reads the store
        return StreamingResponse(_stream(services, who, owner, sub, _event_id(last_event_id)),
                                 media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @router.post("/me/webhook-secret", response_model=schemas.WebhookSecret, responses=answers())
    def rotate_webhook_secret(services: Services = Depends(get_services), who: Caller = Depends(caller)):
        """A new key for your webhooks' signatures; the old one stops signing at once."""
        return {"webhook_secret": services.queue.store.rotate_webhook_secret(who.user.name)}

    return router


async def _stream(services: Services, who: Caller, owner: Optional[str], sub, last_id: Optional[int]):
    hub = services.events
    try:
        yield f"retry: {RETRY_MS}\n\n"
        backlog, last = await run_in_threadpool(_backlog, services, who, owner, last_id)
        for event_id, kind, data in backlog:
            yield _frame(event_id, kind, data)
        while True:
            try:
                event = await asyncio.wait_for(sub.queue.get(), KEEP_ALIVE)
            except asyncio.TimeoutError:
                yield ": keep-alive\n\n"
                continue
            if event is None:  # the queue or the server stops
                return
            if event.id <= last:
                continue
            last = event.id
            yield _frame(event.id, event.kind, await _data(services, who, event))
    finally:
        hub.unsubscribe(sub)


def _backlog(services: Services, who: Caller, owner: Optional[str], last_id: Optional[int]) -> Tuple[List[tuple], int]:
    """What the client missed since `last_id`, when the log still holds all of it;
    otherwise a snapshot of the open tasks, with the id of the log's head."""
    store = services.queue.store
    oldest, newest = store.event_bounds()
    if last_id is not None and oldest - 1 <= last_id <= newest:
        found, after = [], last_id
        while True:
            page = store.events_after(after, owner)
            found += [(e.id, e.kind, _data_now(services, who, e)) for e in page]
            if len(page) < 500:
                return found, (found[-1][0] if found else last_id)
            after = page[-1].id
    views, _ = services.queue.list(who.user, [TaskStatus.QUEUED, TaskStatus.RUNNING], SNAPSHOT_MOST, 0,
                                   everyone=owner is None)
    snapshot = []
    for view in reversed(views):  # oldest first
        task = view.task
        data: Dict[str, Any] = {"task_id": task.task_id, "status": task.status.value, "snapshot": True}
        if task.status == TaskStatus.QUEUED:
            data.update(position=view.position, ahead=view.ahead)
        elif view.progress is not None:
            data.update(schemas.task_public(view, who.links)["progress"])
        snapshot.append((newest, SUBMITTED if task.status == TaskStatus.QUEUED else STARTED, data))
    return snapshot, newest


async def _data(services: Services, who: Caller, event: Event) -> Dict[str, Any]:
    if event.kind == FINAL:
        return await run_in_threadpool(_data_now, services, who, event)
    return _data_now(services, who, event)


def _data_now(services: Services, who: Caller, event: Event) -> Dict[str, Any]:
    """The event as the client gets it: a preview's URL, a final state's task object."""
    if event.kind == PREVIEW:
        return {**event.data, "url": who.links.url(event.task_id, "preview")}
    if event.kind == FINAL:
        try:
            return schemas.task_public(services.queue.get(who.user, event.task_id), who.links)
        except NotFound:  # deleted since
            return {**event.data, "deleted": True}
    return event.data


def task_object(services: Services, owner: str, task_id: str) -> Optional[Dict[str, Any]]:
    """The task as its owner sees it (a webhook's body), or None once it is deleted."""
    user = services.queue.store.get_user(owner) or User(owner, Role.USER)
    links = Links(None if services.auth.is_open() else services.auth, time.time())
    try:
        return schemas.task_public(services.queue.get(user, task_id), links)
    except NotFound:
        return None


def with_callback(schema: Dict[str, Any], openapi: str) -> Dict[str, Any]:
    """A submit body's schema with `callback_url` (push/webhooks.py checks the same)."""
    prop: Dict[str, Any] = {"type": "string", "maxLength": MAX_URL, "pattern": URL_PATTERN,
                            "description": "POSTed the task object, signed, on its final state"}
    prop.update({"type": ["string", "null"]} if openapi.startswith("3.1") else {"nullable": True})
    return {**schema, "properties": {**schema["properties"], "callback_url": prop}}


_hubs: "weakref.WeakSet" = weakref.WeakSet()  # hubs with streams, whose streams end when uvicorn stops


def watch_server_exit() -> None:
    """uvicorn, told to stop, waits for every answer to end, and a stream never ends
    by itself: note uvicorn's exit signal so that streams end first (sse-starlette
    does the same). Under webui's UI, stopping the queue ends them (EventHub.close)."""
    try:
        from uvicorn.server import Server
    except ImportError:
        return
    original = Server.handle_exit
    if getattr(original, "task_queue_watch", False):
        return

    def handle_exit(self, sig, frame):
        for hub in list(_hubs):
            hub.end_streams()
        return original(self, sig, frame)

    handle_exit.task_queue_watch = True
    Server.handle_exit = handle_exit


def keep_uncompressed(app) -> None:
    """webui gzips its answers (starlette's GZipMiddleware, set up before extensions
    start), and before starlette 0.46 that middleware holds a stream's events back
    until kilobytes of them gather: a client saw none. Requests for the stream reach
    it without Accept-Encoding, so it passes them through as they are."""
    if getattr(app, "task_queue_plain_stream", False):
        return
    build = app.build_middleware_stack

    def wrap(inner):
        async def plain(scope, receive, send):
            if scope["type"] == "http" and scope["path"].endswith(STREAM_PATH):
                scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k.lower() != b"accept-encoding"]}
            await inner(scope, receive, send)

        return plain

    app.build_middleware_stack = lambda: wrap(build())  # when the app builds its stack again
    if app.middleware_stack is not None:
        app.middleware_stack = wrap(app.middleware_stack)
    app.task_queue_plain_stream = True


def _frame(event_id: int, kind: str, data: Dict[str, Any]) -> str:
    return f"id: {event_id}\nevent: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def _event_id(raw: Optional[str]) -> Optional[int]:
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else None
