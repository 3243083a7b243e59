"""Routes of people: `/me`, and the admin's `/users` with their keys."""

from __future__ import annotations

from typing import Callable

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from .. import schemas
from .common import ADMIN_ERRORS, ERRORS, PREFIX, Caller, QueueRoute, Services

USER_ERRORS = {**ADMIN_ERRORS, 404: {"description": "no such user"}}
CHANGE_ERRORS = {**USER_ERRORS, 409: {"description": "the name is taken, or the last admin would go"},
                 422: {"description": "a field is invalid; `detail` names it"}}


def build(get_services: Callable[[], Services], caller: Callable) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["users"], route_class=QueueRoute)

    @router.get("/me", response_model=schemas.MePublic, responses={401: ERRORS[401]})
    def me(services: Services = Depends(get_services), who: Caller = Depends(caller)):
        """Who you are, the limits that apply to you (null: none) and your usage."""
        return schemas.me_public(services.accounts.me(who.user))

    @router.post("/users", status_code=201, response_model=schemas.KeyCreated, responses=CHANGE_ERRORS)
    def create_user(body: schemas.UserCreate, services: Services = Depends(get_services), who: Caller = Depends(caller)):
        """Admins: a new user with a first API key. The key is in this answer only."""
        return services.accounts.create(who.user, body.name, body.role, body.limits)

    @router.get("/users", response_model=schemas.UsersPublic, responses=ADMIN_ERRORS)
    def list_users(services: Services = Depends(get_services), who: Caller = Depends(caller)):
        """Admins: every user with key prefixes (never keys), limits and usage."""
        views = services.accounts.list(who.user)
        defaults = {k: v or None for k, v in services.accounts.user_limits().items()}
        return {"data": [schemas.user_public(v) for v in views], "count": len(views), "defaults": defaults}

    @router.get("/users/{name}", response_model=schemas.UserPublic, responses=USER_ERRORS)
    def get_user(name: str, services: Services = Depends(get_services), who: Caller = Depends(caller)):
        """Admins, or that user."""
        return schemas.user_public(services.accounts.get(who.user, name))

    @router.patch("/users/{name}", response_model=schemas.UserPublic, responses=CHANGE_ERRORS)
    def update_user(name: str, body: schemas.UserUpdate, services: Services = Depends(get_services),
                    who: Caller = Depends(caller)):
        """Admins: change `role` and/or `limits` (a limit set to null falls back to the default)."""
        return schemas.user_public(services.accounts.update(who.user, name, body.role, body.limits))

    @router.delete("/users/{name}", status_code=204, response_class=Response, responses=CHANGE_ERRORS)
    def delete_user(name: str, services: Services = Depends(get_services), who: Caller = Depends(caller)):
        """Admins: revoke a user. Their keys stop working at once; their queued tasks
        are cancelled; their finished tasks stay until deleted."""
        services.accounts.delete(who.user, name)
        return Response(status_code=204)

    @router.post("/users/{name}/keys", status_code=201, response_model=schemas.KeyPublic, responses=USER_ERRORS)
    def add_key(name: str, services: Services = Depends(get_services), who: Caller = Depends(caller)):
        """Admins, or that user: a new key (in this answer only). Rotate a key by
        making a new one and then revoking the old one by its prefix."""
        return services.accounts.add_key(who.user, name)

    @router.delete("/users/{name}/keys/{prefix}", status_code=204, response_class=Response, responses=USER_ERRORS)
    def delete_key(name: str, prefix: str, services: Services = Depends(get_services), who: Caller = Depends(caller)):
        """Admins, or that user: revoke one key; it stops working at once."""
        services.accounts.delete_key(who.user, name, prefix)
        return Response(status_code=204)

    return router
