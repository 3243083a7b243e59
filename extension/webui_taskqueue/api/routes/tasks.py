"""Routes of one task: submit, read, preview, images, interrupt, delete."""

from __future__ import annotations

from typing import Callable, Optional

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from ...intake.limits import Limits
from ...intake.payload import json_schema
from ...records.tasks import TaskType
from ...service.queue import IDEMPOTENCY_HEADER
from .. import schemas
from .common import (BODY, PARAMS, PREFIX, UNCHANGED, Caller, QueueRoute, Services, answers, body_doc, read_json,
                     statuses, tagged)
from .events import with_callback

IMAGE_ERRORS = answers(404, 422, s404="no such task or image, or not yours; or the box that made it cannot be reached",
                       s422="`index` is not a whole number")
MOVE_SCHEMA = {"title": "TaskMove", "type": "object", "minProperties": 1, "maxProperties": 1, "additionalProperties": False, "properties": {
    "to": {"type": "string", "enum": ["front", "back"]}, "before": {"type": "string", "minLength": 1, "description": "a task id"}}}
PRIORITY_SCHEMA = {"title": "TaskPriority", "type": "object", "required": ["priority"], "additionalProperties": False,
                   "properties": {"priority": {"type": "integer", "minimum": -1000, "maximum": 1000}}}
MAX_OFFSET = 10**9  # beyond any queue; keeps the number within what SQLite takes


def build(get_services: Callable, caller: Callable, resource_caller: Callable, services: Callable[[], Services]) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["tasks"], route_class=QueueRoute)

    async def submit(kind: TaskType, request: Request, services: Services, who: Caller, key: Optional[str]) -> JSONResponse:
        body = await read_json(request, services.queue.limits().max_body_mb, "max_body_mb")
        view = await run_in_threadpool(services.queue.submit, who.user, kind, body, key)
        accepted = {"task_id": view.task.task_id, "status": view.task.status.value, "position": view.position}
        return JSONResponse(accepted, status_code=202, headers={"Idempotent-Replayed": "true"} if view.replayed else None)

    idempotency = Header(None, alias=IDEMPOTENCY_HEADER, description=(
        "a key of the client's (a UUID): the same key from the same person within a day answers with the task "
        "its first submit made (header Idempotent-Replayed: true), so a retry never makes a second"))

    limits, openapi = _documented_limits(services), FastAPI().openapi_version  # "3.0.2" with webui's FastAPI
    fields = services().queue.fields  # webui's request fields, read as the routes are built
    submit_errors = answers(*BODY, 429)

    @router.post("/txt2img", status_code=202, response_model=schemas.TaskAccepted, responses=submit_errors,
                 openapi_extra=body_doc(with_callback(json_schema("txt2img", fields("txt2img"), limits, openapi), openapi)))
    async def txt2img(request: Request, services: Services = Depends(get_services), who: Caller = Depends(caller),
                      idempotency_key: Optional[str] = idempotency):
        """Queue a txt2img task: webui's /sdapi/v1/txt2img payload plus `checkpoint` and `vae`."""
        return await submit(TaskType.TXT2IMG, request, services, who, idempotency_key)

    @router.post("/img2img", status_code=202, response_model=schemas.TaskAccepted, responses=submit_errors,
                 openapi_extra=body_doc(with_callback(json_schema("img2img", fields("img2img"), limits, openapi), openapi)))
    async def img2img(request: Request, services: Services = Depends(get_services), who: Caller = Depends(caller),
                      idempotency_key: Optional[str] = idempotency):
        """Queue an img2img task: webui's /sdapi/v1/img2img payload plus `checkpoint` and `vae`."""
        return await submit(TaskType.IMG2IMG, request, services, who, idempotency_key)

    @router.get("/tasks", response_model=schemas.TasksPublic, responses=answers(422))
    def list_tasks(
        status: Optional[str] = Query(None, min_length=1, description="comma-separated statuses"),
        limit: int = Query(50, ge=1, le=500),
        offset: int = Query(0, ge=0, le=MAX_OFFSET),
        user_name: Optional[str] = Query(None, alias="user", min_length=1, description="admins: another user's tasks"),
        all_users: bool = Query(False, alias="all", description="admins: everyone's tasks"),
        services: Services = Depends(get_services),
        who: Caller = Depends(caller),
    ):
        """The caller's tasks, newest first."""
        views, count = services.queue.list(who.user, statuses(status), limit, offset, owner=user_name, everyone=all_users)
        return JSONResponse({"data": [schemas.task_public(v, who.links) for v in views], "count": count})

    @router.get("/tasks/{task_id}", response_model=schemas.TaskPublic, responses={**answers(404, PARAMS), **UNCHANGED})
    async def get_task(task_id: str, request: Request, services: Services = Depends(get_services),
                       who: Caller = Depends(caller)):
        """One task. Polled every second by every watcher: answered on the event loop
        (a thread hop costs more than the answer; the store's reads never wait for its
        writes), as built, without a second validation pass (`response_model` documents
        the shape). What cannot be answered at once (`get_at_once`) is, on a thread.
        With the ETag of the last answer in If-None-Match: 304 while it is unchanged."""
        view = services.queue.get_at_once(who.user, task_id)
        if view is None:
            view = await run_in_threadpool(services.queue.get, who.user, task_id)
        return tagged(request, schemas.task_public(view, who.links))

    @router.get("/tasks/{task_id}/preview", responses={
        **answers(404, PARAMS), 200: {"content": {"image/jpeg": {}}}, 204: {"description": "no preview now"},
        304: {"description": "the preview named in If-None-Match is still current"}})
    def preview(task_id: str, request: Request, services: Services = Depends(get_services),
                who: Caller = Depends(resource_caller("preview"))):
        """The running task's live preview (JPEG), or 204 when there is none. An ETag
        names the image: polling with If-None-Match gets 304 until it changes."""
        found = services.queue.preview(who.user, task_id)
        if found is None:
            return Response(status_code=204)
        tag, data = found
        headers = {"ETag": f'"{tag}"', "Cache-Control": "no-cache"}
        if request.headers.get("if-none-match") == headers["ETag"]:
            return Response(status_code=304, headers=headers)
        return Response(content=data, media_type="image/jpeg", headers=headers)

    @router.get("/tasks/{task_id}/images/{index}", response_class=FileResponse,
                responses={**IMAGE_ERRORS, 200: {"content": {"image/png": {}}}})
    def image(task_id: str, index: int, services: Services = Depends(get_services),
              who: Caller = Depends(resource_caller("image"))):
        """A finished image: PNG with webui's infotext in its "parameters" text chunk."""
        return _file(services.queue.image_path(who.user, task_id, index), "image/png", "private, max-age=3600")

    @router.get("/tasks/{task_id}/images/{index}/thumb", response_class=FileResponse,
                responses={**IMAGE_ERRORS, 200: {"content": {"image/jpeg": {}}}})
    def thumbnail(task_id: str, index: int, services: Services = Depends(get_services),
                  who: Caller = Depends(resource_caller("thumb"))):
        """A small JPEG of a finished image (256 px on its longer side), for galleries."""
        found = services.queue.image_path(who.user, task_id, index, thumb=True)
        return _file(found, "image/jpeg", "private, max-age=86400")

    @router.get("/tasks/{task_id}/inputs/{index}", responses={
        **IMAGE_ERRORS, 200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}, "image/gif": {}, "image/bmp": {}}}})
    def input_image(task_id: str, index: int, services: Services = Depends(get_services),
                    who: Caller = Depends(resource_caller("input"))):
        """An img2img task's init image, as it was sent."""
        data, media_type = services.queue.input_image(who.user, task_id, index)
        return Response(content=data, media_type=media_type, headers={"Cache-Control": "private, max-age=86400"})

    @router.post("/tasks/{task_id}/interrupt", response_model=schemas.TaskPublic, responses=answers(404, 409, PARAMS))
    def interrupt(task_id: str, services: Services = Depends(get_services), who: Caller = Depends(caller)):
        """Running: interrupt this task only. Queued: cancel it. Final: 409."""
        return schemas.task_public(services.queue.interrupt(who.user, task_id), who.links)

    @router.post("/tasks/{task_id}/move", response_model=schemas.TaskPublic, responses=answers(404, 409, *BODY),
                 openapi_extra=body_doc(MOVE_SCHEMA))
    async def move(task_id: str, request: Request, services: Services = Depends(get_services), who: Caller = Depends(caller)):
        """Reorder a queued task: `{"to": "front"}`, `{"to": "back"}` or `{"before": task_id}`.
        Owners move within their own tasks; an admin's move also sets the priority."""
        body = await read_json(request)
        view = await run_in_threadpool(services.queue.move, who.user, task_id, body)
        return schemas.task_public(view, who.links)

    @router.patch("/tasks/{task_id}", response_model=schemas.TaskPublic,
                  responses=answers(403, 404, 409, *BODY), openapi_extra=body_doc(PRIORITY_SCHEMA))
    async def set_priority(task_id: str, request: Request, services: Services = Depends(get_services),
                           who: Caller = Depends(caller)):
        """Admins: `{"priority": n}`; a higher priority runs sooner, within fair turns."""
        body = await read_json(request)
        view = await run_in_threadpool(services.queue.set_priority, who.user, task_id, body)
        return schemas.task_public(view, who.links)

    @router.delete("/tasks/{task_id}", status_code=204, response_class=Response, responses=answers(404, 409, PARAMS))
    def delete(task_id: str, services: Services = Depends(get_services), who: Caller = Depends(caller)):
        """Forget a final task and delete its images."""
        services.queue.delete(who.user, task_id)
        return Response(status_code=204)

    return router


def _file(found, media_type: str, cache: str) -> Response:
    """A file of this box's, or bytes another box sent (boxes/images.py): the same answer."""
    if isinstance(found, str):
        return FileResponse(found, media_type=media_type, headers={"Cache-Control": cache})
    return Response(content=found.data, media_type=media_type, headers={"Cache-Control": cache})


def _documented_limits(services: Callable[[], Services]) -> Optional[Limits]:
    """The limits in Settings when the routes are built, for the OpenAPI document."""
    try:
        return services().queue.limits()
    except Exception:  # a test's app without a queue behind it yet: the defaults
        return None
