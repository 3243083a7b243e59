"""What every router shares: the error mapping, who is calling, links, the JSON body.

Errors are mapped by the routers' route class, not by app-wide handlers: the app is
webui's, and its other routes must keep their own error handling."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import threading
import time
from typing import Any, Callable, List, Mapping, Optional, Tuple, Type, TypeVar
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request, Security
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBasic, HTTPBasicCredentials, HTTPBearer
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from ...intake import json_body
from ...people.accounts import AccountConflict, Accounts, UnknownUser
from ...people.auth import OPEN_MODE_USER, SIGNED_URL_USER, Authenticator, Forbidden, Unauthorized
from ...people.read_rate import ReadRate, TooFast
from ...records.errors import Conflict, NotFound, PayloadError, error
from ...records.quotas import QuotaExceeded
from ...records.tasks import TaskStatus
from ...records.users import User, digest
from ...service.queue import QueueService
from ...store.choose import unreachable
from .. import schemas

PREFIX = "/queue/v1"
RETRY_AFTER = 5  # seconds a client is told to wait when the store is away

log = logging.getLogger(__name__)

# Every answer a route gives besides its own, for the OpenAPI document; the contract
# tests check that each answer given is documented for its route.
WHY = {
    401: "no valid API key (or webui --api-auth credentials); a link whose signature is not valid",
    403: "admins only",
    404: "no such task, or not yours",
    409: "not possible in the task's present status",
    413: "the body is over its size limit (a task's: max_body_mb; others: 1 MB)",
    415: "the body is not sent as JSON (Content-Type: application/json)",
    422: "a field is invalid or over a limit: `detail` names each one and says why",
    429: "over your limit of tasks queued at once, of tasks per hour, or of reads per second (see Retry-After)",
    503: "the queue's store (a shared Redis server) cannot be reached now: try again (see Retry-After)",
}
BODY = (413, 415, 422)  # what a route that reads a JSON body may answer
PARAMS = 422  # FastAPI documents a 422 for every route with parameters (here: with its schema)


UNCHANGED = {304: {"description": "unchanged since the answer whose ETag was sent in If-None-Match"}}


def answers(*codes: int, **why: str) -> dict:
    """`responses=` for a route: the error answers `codes`, with their body schema;
    `why` (e.g. `s404="no such user"`) words one for this route."""
    return {code: {"model": schemas.Problems if code in (413, 415, 422, 429) else schemas.Message,
                   "description": why.get(f"s{code}", WHY[code])}
            for code in sorted({401, 503, *codes})}


@dataclasses.dataclass
class Services:
    """What the routes call; one per running queue (tests build their own)."""

    queue: QueueService
    accounts: Accounts
    auth: Authenticator
    events: Any = None  # events.EventHub: what event streams are fed from
    boxes: Any = None  # boxes.Boxes: the boxes running the queue
    login: Callable[[Mapping[str, str]], Optional[str]] = lambda cookies: None  # webui's page login of a cookie
    reads: ReadRate = dataclasses.field(default_factory=lambda: ReadRate(lambda: (0.0, 0.0)))  # a person's reads per second


READ_LIMITED = {"model": schemas.Message,
                "description": "over your limit of reads per second; the answer comes after Retry-After"}


class QueueRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable, *, methods=None, responses=None, **kw) -> None:
        if methods and "GET" in {m.upper() for m in methods}:  # every read counts against its person's rate
            responses = {**(responses or {}), 429: READ_LIMITED}
        super().__init__(path, endpoint, methods=methods, responses=responses, **kw)

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()
        single = _query_names(self.dependant)

        async def route(request: Request) -> Response:
            repeated = _repeated(request, single)
            if repeated:  # FastAPI would take the last one: an ambiguous request, refused
                return JSONResponse({"detail": [{"loc": ["query", name], "msg": "given more than once",
                                                 "type": "value_error"} for name in repeated]}, status_code=422)
            try:
                return await handler(request)
            except PayloadError as e:
                return JSONResponse({"detail": e.errors}, status_code=e.status_code)
            except TooFast as e:  # held until it may try again: ignoring Retry-After gains nothing
                await asyncio.sleep(e.retry_after)
                return JSONResponse({"detail": str(e)}, status_code=429, headers={"Retry-After": e.header()})
            except QuotaExceeded as e:
                headers = {"Retry-After": str(e.retry_after)} if e.retry_after else None
                return JSONResponse({"detail": e.detail()}, status_code=429, headers=headers)
            except Unauthorized as e:
                return JSONResponse({"detail": str(e)}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
            except Forbidden as e:
                return JSONResponse({"detail": str(e)}, status_code=403)
            except (NotFound, UnknownUser) as e:
                return JSONResponse({"detail": str(e)}, status_code=404)
            except (Conflict, AccountConflict) as e:
                return JSONResponse({"detail": str(e)}, status_code=409)
            except HTTPException as e:  # from FastAPI's own security classes
                return JSONResponse({"detail": e.detail}, status_code=e.status_code, headers=getattr(e, "headers", None))
            except Exception as e:
                why = unreachable(e)
                if why is None:
                    raise
                _away.said(why)
                return JSONResponse({"detail": f"{why}: try again shortly"}, status_code=503,
                                    headers={"Retry-After": str(RETRY_AFTER)})

        return route


class _Away:
    """Says in the log that the store is away: once, and again at most once a minute
    while it stays away; not a traceback for every request that met it."""

    def __init__(self, every: float = 60.0) -> None:
        self.every, self.last, self._lock = every, float("-inf"), threading.Lock()

    def said(self, why: str) -> None:
        with self._lock:
            now = time.monotonic()
            if now - self.last < self.every:
                return
            self.last = now
        log.warning("task queue: %s; requests answer 503 until it is back", why)


_away = _Away()


class Links:
    """URLs of a task's images for one caller: signed, unless the queue is open."""

    def __init__(self, auth: Optional[Authenticator], now: float) -> None:
        self.auth, self.now = auth, now

    def url(self, task_id: str, kind: str, index: int = 0) -> str:
        path = {
            "image": f"tasks/{task_id}/images/{index}",
            "thumb": f"tasks/{task_id}/images/{index}/thumb",
            "input": f"tasks/{task_id}/inputs/{index}",
            "preview": f"tasks/{task_id}/preview",
        }[kind]
        url = f"{PREFIX}/{path}"
        return f"{url}?{self.auth.sign(task_id, kind, index, self.now)}" if self.auth else url


@dataclasses.dataclass
class Caller:
    user: User
    links: Links


_bearer = HTTPBearer(auto_error=False, description="a queue API key")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="a queue API key")
_basic = HTTPBasic(auto_error=False, description="webui's --api-auth credentials")


def caller_dependencies(get_services: Callable[[], Services]):
    """-> (caller, resource_caller): `caller` authenticates a request;
    `resource_caller(kind)` also takes a valid `exp` + `sig` for the very resource a
    route serves (what an <img src> opens) in place of a key."""

    def first_look(services: Services, bearer, key, basic, request: Request) -> Tuple[Optional[str], Optional[tuple]]:
        """What can be known without the store: the page login of the cookie, and for a
        read (credential, counted): TooFast when the credential's person has no read left."""
        key = bearer.credentials if bearer else key
        login = None if key or basic else services.login(request.cookies)
        if request.method not in SAFE_METHODS:
            return login, None
        credential = (digest(key) if key else digest(f"{basic.username}:{basic.password}") if basic
                      else f"login:{login}" if login else None)
        return login, None if credential is None else (credential, services.reads.before(credential))

    def authenticate(services: Services, bearer, key, basic, request: Request, login: Optional[str],
                     read: Optional[tuple]) -> Caller:
        auth = services.auth
        key = bearer.credentials if bearer else key
        if login and request.method not in SAFE_METHODS and _other_site(request):
            raise Forbidden("a change sent from another site with webui's login cookie is refused: send a key")
        user = auth.caller(key, (basic.username, basic.password) if basic else None, login)
        if read is not None:
            credential, counted = read
            services.reads.after(credential, user, counted)
        # only an open queue answers with the open-mode user: its links need no signature
        return Caller(user, Links(None if user is OPEN_MODE_USER else auth, time.time()))

    async def caller(  # on the event loop: a lookup in memory or one indexed row, no thread hop
        request: Request,
        bearer: Optional[HTTPAuthorizationCredentials] = Security(_bearer),
        key: Optional[str] = Security(_api_key),
        basic: Optional[HTTPBasicCredentials] = Security(_basic),
        services: Services = Depends(get_services),
    ) -> Caller:
        login, read = first_look(services, bearer, key, basic, request)  # a read over the rate ends here
        if services.queue.store.reads_wait:  # Redis: on a thread (Store.reads_wait)
            return await run_in_threadpool(authenticate, services, bearer, key, basic, request, login, read)
        return authenticate(services, bearer, key, basic, request, login, read)

    def resource_caller(kind: str) -> Callable:
        def signed_or_caller(
            request: Request,
            bearer: Optional[HTTPAuthorizationCredentials] = Security(_bearer),
            key: Optional[str] = Security(_api_key),
            basic: Optional[HTTPBasicCredentials] = Security(_basic),
            services: Services = Depends(get_services),
        ) -> Caller:
            exp, sig = request.query_params.get("exp"), request.query_params.get("sig")
            if (exp or sig) and not (bearer or key or basic):
                task_id, index = request.path_params["task_id"], _index(request.path_params.get("index", "0"))
                now = time.time()
                if index is None or not services.auth.signed(task_id, kind, index, exp, sig, now):
                    raise Unauthorized("the link is not valid, or it expired: ask for the task again for a new one")
                return Caller(SIGNED_URL_USER, Links(services.auth, now))
            return authenticate(services, bearer, key, basic, request, *first_look(services, bearer, key, basic, request))

        return signed_or_caller

    return caller, resource_caller


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _other_site(request: Request) -> bool:
    """A browser's request from a page of another site (its Origin names another host):
    a cookie alone must not let such a page act for the person."""
    origin = request.headers.get("origin")
    if not origin:
        return False
    return urlsplit(origin).netloc != request.headers.get("host", "")


def _query_names(dependant) -> set:
    """The query parameters a route and its dependencies declare."""
    names = {field.alias for field in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _repeated(request: Request, single: set) -> List[str]:
    """Which of the route's query parameters (each takes one value) came more than once."""
    names = [name for name, _ in request.query_params.multi_items() if name in single]
    return sorted({name for name in names if names.count(name) > 1}) if len(names) > len(set(names)) else []


def _index(raw: str) -> Optional[int]:
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def statuses(raw: Optional[str]) -> List[TaskStatus]:
    if not raw:
        return []
    try:
        return [TaskStatus(s.strip()) for s in raw.split(",") if s.strip()]
    except ValueError:
        allowed = ", ".join(s.value for s in TaskStatus)
        raise PayloadError([{"loc": ["query", "status"], "msg": f"must be among {allowed}", "type": "value_error"}]) from None


async def read_json(request: Request, max_mb: float = 1, setting: Optional[str] = None) -> Any:
    """The body as checked JSON (json_body.parse), refused with 413 past the limit
    before it is all read. Parsed off the event loop: a body may be megabytes."""
    limit = int(max_mb * 1024 * 1024)
    why = f" ({setting})" if setting else ""
    too_big = PayloadError([error(None, f"the body is over the limit of {max_mb:g} MB{why}")], 413)
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise too_big
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_big
        chunks.append(chunk)
    return await run_in_threadpool(json_body.parse, b"".join(chunks), request.headers.get("content-type"))


Model = TypeVar("Model")


def parse_model(model: Type[Model], body: Any) -> Model:
    """A read_json body as a pydantic model (1.x or 2.x): unknown fields and wrong
    types refused in the same shape as everything else."""
    if not isinstance(body, dict):
        raise PayloadError([error(None, "the body must be a JSON object", "type_error")])
    known = getattr(model, "model_fields", None) or model.__fields__  # pydantic 2, 1
    problems = [error(k, f"unknown field {k!r}", "value_error.extra") for k in body if k not in known]
    if problems:
        raise PayloadError(problems)
    try:
        return model.model_validate(body) if hasattr(model, "model_validate") else model.parse_obj(body)
    except ValidationError as e:
        raise PayloadError([{"loc": ["body", *p["loc"]], "msg": p["msg"], "type": p["type"]} for p in e.errors()]) from None


def tagged(request: Request, payload: Any) -> Response:
    """`payload` as JSON with an ETag naming these very bytes: a poll that sends it back
    in If-None-Match while nothing changed gets 304, without a body to send or read."""
    answer = JSONResponse(payload, headers={"Cache-Control": "private, no-cache"})
    tag = f'W/"{hashlib.blake2b(answer.body, digest_size=10).hexdigest()}"'
    answer.headers["ETag"] = tag
    sent = request.headers.get("if-none-match")
    if sent and (sent.strip() == "*" or tag in (t.strip() for t in sent.split(","))):
        return Response(status_code=304, headers={"ETag": tag, "Cache-Control": "private, no-cache"})
    return answer


def body_doc(schema: dict) -> dict:
    """`openapi_extra=` for a route that reads its JSON body itself."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def model_schema(model: Any) -> dict:
    """A small model's JSON schema, inline (pydantic 2, 1)."""
    schema = model.model_json_schema() if hasattr(model, "model_json_schema") else model.schema()
    return {**schema, "additionalProperties": False}
