"""HTTP routes under /queue/v1: parse, call the service once, shape the answer.

Errors are mapped by the router's route class, not by app-wide handlers: the app is
webui's, and its other routes must keep their own error handling."""

from __future__ import annotations

import json
from typing import Any, Callable, List, Optional

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from . import schemas
from .payload import PayloadError, error, json_schema
from .service import OPEN_MODE_USER, Conflict, NotFound, QueueService, User
from .tasks import TaskStatus, TaskType

PREFIX = "/queue/v1"


class _QueueRoute(APIRoute):
    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except PayloadError as e:
                return JSONResponse({"detail": e.errors}, status_code=e.status_code)
            except NotFound as e:
                return JSONResponse({"detail": str(e)}, status_code=404)
            except Conflict as e:
                return JSONResponse({"detail": str(e)}, status_code=409)

        return route


def build_router(get_service: Callable[[], QueueService]) -> APIRouter:
    """`get_service` is a dependency: tests swap it with app.dependency_overrides."""
    router = APIRouter(prefix=PREFIX, tags=["task queue"], route_class=_QueueRoute)

    def current_user() -> User:
        return OPEN_MODE_USER

    def public(view) -> dict:
        return schemas.task_public(view, PREFIX)

    async def submit(kind: TaskType, request: Request, service: QueueService, user: User) -> JSONResponse:
        body = await _read_json(request, service.limits().max_body_mb)
        view = await run_in_threadpool(service.submit, user, kind, body)
        accepted = {"task_id": view.task.task_id, "status": view.task.status.value, "position": view.position}
        return JSONResponse(accepted, status_code=202)

    def body_doc(kind: str) -> dict:
        schema = json_schema(kind)
        return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}

    @router.post("/txt2img", status_code=202, response_model=schemas.TaskAccepted, openapi_extra=body_doc("txt2img"))
    async def txt2img(request: Request, service: QueueService = Depends(get_service), user: User = Depends(current_user)):
        """Queue a txt2img task: webui's /sdapi/v1/txt2img payload plus `checkpoint` and `vae`."""
        return await submit(TaskType.TXT2IMG, request, service, user)

    @router.post("/img2img", status_code=202, response_model=schemas.TaskAccepted, openapi_extra=body_doc("img2img"))
    async def img2img(request: Request, service: QueueService = Depends(get_service), user: User = Depends(current_user)):
        """Queue an img2img task: webui's /sdapi/v1/img2img payload plus `checkpoint` and `vae`."""
        return await submit(TaskType.IMG2IMG, request, service, user)

    @router.get("/tasks", response_model=schemas.TasksPublic)
    def list_tasks(
        status: Optional[str] = Query(None, description="comma-separated statuses"),
        limit: int = Query(50, ge=1, le=500),
        offset: int = Query(0, ge=0),
        user_name: Optional[str] = Query(None, alias="user", description="admins: another user's tasks"),
        all_users: bool = Query(False, alias="all", description="admins: everyone's tasks"),
        service: QueueService = Depends(get_service),
        user: User = Depends(current_user),
    ):
        """The caller's tasks, newest first."""
        views, count = service.list(user, _statuses(status), limit, offset, owner=user_name, everyone=all_users)
        return {"data": [public(v) for v in views], "count": count}

    @router.get("/tasks/{task_id}", response_model=schemas.TaskPublic)
    def get_task(task_id: str, service: QueueService = Depends(get_service), user: User = Depends(current_user)):
        return public(service.get(user, task_id))

    @router.get("/tasks/{task_id}/preview", responses={200: {"content": {"image/jpeg": {}}}, 204: {"description": "no preview now"},
                                                       304: {"description": "the preview named in If-None-Match is still current"}})
    def preview(task_id: str, request: Request, service: QueueService = Depends(get_service),
                user: User = Depends(current_user)):
        """The running task's live preview (JPEG), or 204 when there is none. An ETag
        names the image: polling with If-None-Match gets 304 until it changes."""
        found = service.preview(user, task_id)
        if found is None:
            return Response(status_code=204)
        tag, data = found
        headers = {"ETag": f'"{tag}"', "Cache-Control": "no-cache"}
        if request.headers.get("if-none-match") == headers["ETag"]:
            return Response(status_code=304, headers=headers)
        return Response(content=data, media_type="image/jpeg", headers=headers)

    @router.get("/tasks/{task_id}/images/{index}", response_class=FileResponse, responses={200: {"content": {"image/png": {}}}})
    def image(task_id: str, index: int, service: QueueService = Depends(get_service), user: User = Depends(current_user)):
        """A finished image: PNG with webui's infotext in its "parameters" text chunk."""
        return FileResponse(service.image_path(user, task_id, index), media_type="image/png")

    @router.post("/tasks/{task_id}/interrupt", response_model=schemas.TaskPublic)
    def interrupt(task_id: str, service: QueueService = Depends(get_service), user: User = Depends(current_user)):
        """Running: interrupt this task only. Queued: cancel it. Final: 409."""
        return public(service.interrupt(user, task_id))

    @router.delete("/tasks/{task_id}", status_code=204, response_class=Response)
    def delete(task_id: str, service: QueueService = Depends(get_service), user: User = Depends(current_user)):
        """Forget a final task and delete its images."""
        service.delete(user, task_id)
        return Response(status_code=204)

    @router.get("/queue", response_model=schemas.QueuePublic)
    def queue(service: QueueService = Depends(get_service), user: User = Depends(current_user)):
        """Running and queued tasks in run order: your own in full, others' only counted."""
        found = service.queue(user)
        return {**found, "data": [public(v) for v in found["data"]]}

    @router.post("/queue/pause", response_model=schemas.PausedPublic)
    def pause(service: QueueService = Depends(get_service), user: User = Depends(current_user)):
        """Admins: the running task finishes, nothing new starts."""
        return service.set_paused(user, True)

    @router.post("/queue/resume", response_model=schemas.PausedPublic)
    def resume(service: QueueService = Depends(get_service), user: User = Depends(current_user)):
        return service.set_paused(user, False)

    @router.get("/checkpoints", response_model=schemas.CheckpointsPublic)
    def checkpoints(service: QueueService = Depends(get_service)):
        """Checkpoints webui knows, with webui's short hash, and which one is loaded."""
        return service.checkpoints()

    @router.get("/health", response_model=schemas.HealthPublic)
    def health(service: QueueService = Depends(get_service)):
        return service.health()

    return router


def _statuses(raw: Optional[str]) -> List[TaskStatus]:
    if not raw:
        return []
    try:
        return [TaskStatus(s.strip()) for s in raw.split(",") if s.strip()]
    except ValueError:
        allowed = ", ".join(s.value for s in TaskStatus)
        raise PayloadError([{"loc": ["query", "status"], "msg": f"must be among {allowed}", "type": "value_error"}]) from None


async def _read_json(request: Request, max_mb: float) -> Any:
    """The body, refused with 413 past the limit before it is all read."""
    limit = int(max_mb * 1024 * 1024)
    too_big = PayloadError([error(None, f"the body is over the limit of {max_mb:g} MB (max_body_mb)")], 413)
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise too_big
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_big
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks) or b"null")
    except ValueError as e:
        raise PayloadError([error(None, f"the body is not valid JSON: {e}", "value_error.jsondecode")]) from None
