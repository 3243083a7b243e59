"""Routes of people: `/me`, and the admin's `/users` with their keys."""

from __future__ import annotations

from typing import Callable

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from ...push.webhooks import default_callback, set_default_callback
from ...records.errors import PayloadError, error
from .. import schemas
from .common import (
    BODY,
    PARAMS,
    PREFIX,
    Caller,
    QueueRoute,
    Services,
    answers,
    body_doc,
    model_schema,
    parse_model,
    read_json,
)

NO_USER = "no such user (or no such key of theirs)"
TAKEN = "the name is taken, or the last admin would go"


def build(get_services: Callable[[], Services], caller: Callable) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["users"], route_class=QueueRoute)

    @router.get("/me", response_model=schemas.MePublic, responses=answers())
    def me(services: Services = Depends(get_services), who: Caller = Depends(caller)):
        """Who you are, the limits that apply to you (null: none), your usage, the
        secret that signs your webhooks and your default callback URL."""
        return _me(services, who)

    @router.patch("/me", response_model=schemas.MePublic, responses=answers(403, *BODY),
                  openapi_extra=body_doc(model_schema(schemas.MeUpdate)))
    async def update_me(request: Request, services: Services = Depends(get_services), who: Caller = Depends(caller)):
        """Your default callback URL: where the final state of each task of yours goes
        when the task names no `callback_url` (null: none), checked as a task's is; and
        the settings you keep for yourself (checkpoint, VAE, CLIP skip, ...): every task
        of yours that names none of its own runs with them. Each field given is
        changed, the others stay; a refused field changes nothing."""
        raw = await read_json(request)
        body = parse_model(schemas.MeUpdate, raw)
        if not raw:
            raise PayloadError([error(None, "give callback_url and/or settings")])
        queue = services.queue

        def change():
            if "settings" in raw:
                if body.settings is None:
                    raise PayloadError([error("settings", "must be an object")])
                queue.personal.check(who.user, body.settings)
            if "callback_url" in raw:
                set_default_callback(queue.store, who.user.name, body.callback_url, queue.webhooks().hosts)
            if "settings" in raw:
                queue.personal.change(who.user, body.settings)
            return _me(services, who)

        return await run_in_threadpool(change)

    @router.post("/users", status_code=201, response_model=schemas.KeyCreated, responses=answers(403, 409, *BODY, s409=TAKEN),
                 openapi_extra=body_doc(model_schema(schemas.UserCreate)))
    async def create_user(request: Request, services: Services = Depends(get_services), who: Caller = Depends(caller)):
        """Admins: a new user with a first API key. The key is in this answer only."""
        body = parse_model(schemas.UserCreate, await read_json(request))
        return await run_in_threadpool(services.accounts.create, who.user, body.name, body.role, body.limits)

    @router.get("/users", response_model=schemas.UsersPublic, responses=answers(403))
    def list_users(services: Services = Depends(get_services), who: Caller = Depends(caller)):
        """Admins: every user with key prefixes (never keys), limits and usage."""
        views = services.accounts.list(who.user)
        defaults = {k: v or None for k, v in services.accounts.user_limits().items()}
        return {"data": [schemas.user_public(v) for v in views], "count": len(views), "defaults": defaults}

    @router.get("/users/{name}", response_model=schemas.UserPublic, responses=answers(403, 404, PARAMS, s404=NO_USER))
    def get_user(name: str, services: Services = Depends(get_services), who: Caller = Depends(caller)):
        """Admins, or that user."""
        return schemas.user_public(services.accounts.get(who.user, name))

    @router.patch("/users/{name}", response_model=schemas.UserPublic,
                  responses=answers(403, 404, 409, *BODY, s404=NO_USER, s409=TAKEN),
                  openapi_extra=body_doc(model_schema(schemas.UserUpdate)))
    async def update_user(name: str, request: Request, services: Services = Depends(get_services),
                          who: Caller = Depends(caller)):
        """Admins: change `role` and/or `limits` (a limit set to null falls back to the default)."""
        body = parse_model(schemas.UserUpdate, await read_json(request))
        view = await run_in_threadpool(services.accounts.update, who.user, name, body.role, body.limits)
        return schemas.user_public(view)

    @router.delete("/users/{name}", status_code=204, response_class=Response,
                   responses=answers(403, 404, 409, PARAMS, s404=NO_USER, s409=TAKEN))
    def delete_user(name: str, services: Services = Depends(get_services), who: Caller = Depends(caller)):
        """Admins: revoke a user. Their keys stop working at once; their queued tasks
        are cancelled; their finished tasks stay until deleted."""
        services.accounts.delete(who.user, name)
        return Response(status_code=204)

    @router.post("/users/{name}/keys", status_code=201, response_model=schemas.KeyPublic,
                 responses=answers(403, 404, PARAMS, s404=NO_USER))
    def add_key(name: str, services: Services = Depends(get_services), who: Caller = Depends(caller)):
        """Admins, or that user: a new key (in this answer only). Rotate a key by
        making a new one and then revoking the old one by its prefix."""
        return services.accounts.add_key(who.user, name)

    @router.delete("/users/{name}/keys/{prefix}", status_code=204, response_class=Response,
                   responses=answers(403, 404, PARAMS, s404=NO_USER))
    def delete_key(name: str, prefix: str, services: Services = Depends(get_services), who: Caller = Depends(caller)):
        """Admins, or that user: revoke one key; it stops working at once."""
        services.accounts.delete_key(who.user, name, prefix)
        return Response(status_code=204)

    return router


def _me(services: Services, who: Caller) -> dict:
    store, name = services.queue.store, who.user.name
    own = services.queue.personal.own(who.user)
    return {**schemas.me_public(services.accounts.me(who.user)),
            "webhook_secret": store.webhook_secret(name), "callback_url": default_callback(store, name),
            "settings": services.queue.personal.shown(who.user, own), "settings_notes": own.notes}
