"""webui's own API, seen from the queue: who calls it, what of a queued task it may show
or stop, and its txt2img/img2img as a door into the queue. api/routes/native.py serves it.

webui's /sdapi/v1/progress and /internal/progress read one global state, which holds
a queued task's job while it runs, and /sdapi/v1/interrupt and /skip act on that job.
The guard shows that state to the task's owner and the queue's admins only, and lets
only them stop it. The door turns a native txt2img/img2img into a task of its caller
and answers in webui's own shape once the task is done."""

from __future__ import annotations

import base64
import dataclasses
import binascii
import hmac
from typing import Any, Dict, Mapping, Optional, Tuple

import pydantic
from fastapi import HTTPException

from ..host.contract import Host
from ..people.auth import Unauthorized
from ..people.settings import NotPersonal
from ..records.errors import NotFound, PayloadError
from ..records.tasks import Task, TaskStatus
from ..records.users import Role, User
from ..store.images import is_grid
from .routes.common import Services

GUARD = "task_queue_native_guard"
DOOR = "task_queue_native_door"
DOOR_USER = "task_queue_native_user"
SETTINGS = {
    GUARD: (True, "Guard webui's own API once the queue has users: its progress routes show a queued task "
                  "only to its owner and admins, its interrupt and skip never stop another's task"),
    DOOR: (False, "Queue webui's own /sdapi/v1/txt2img and img2img: each call runs as a task of its caller, "
                  "in fair turns and within the caller's limits, and answers as webui does"),
    DOOR_USER: ("api", "The person that native calls sending neither a queue key nor webui's --api-auth name are, "
                       "once the queue has users: their tasks, limits and own settings, never an admin's power "
                       "(empty: such calls are refused where the queue decides)"),
}
INTERRUPT_ROUTE = "POST /queue/v1/tasks/{task_id}/interrupt"


def credentials(headers: Mapping[str, str]) -> Tuple[Optional[str], Optional[Tuple[str, str]]]:
    """(queue key, (name, password) of HTTP Basic) as a request sends them."""
    key = headers.get("x-api-key") or None
    basic = None
    scheme, _, value = (headers.get("authorization") or "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        key = value.strip()
    elif scheme.lower() == "basic":
        try:
            name, sep, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            name, sep, password = "", "", ""
        basic = (name, password) if sep else None
    return key, basic


class Native:
    """The decisions behind webui's own routes, for one running queue."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.queue, self.auth = services.queue, services.auth
        self.host: Host = self.queue.host
        self.worker, self.store = self.queue.worker, self.queue.store
        self._owners: Dict[str, str] = {}  # task id -> owner, of the tasks that held webui's state

    def _setting(self, name: str) -> Any:
        return self.host.option(name, SETTINGS[name][0])

    def guarding(self) -> bool:
        """On by default; in an open queue everyone is its admin: nothing to guard."""
        return bool(self._setting(GUARD)) and not self.auth.is_open()

    def door_open(self) -> bool:
        return bool(self._setting(DOOR))

    def webui_refuses(self, basic: Optional[Tuple[str, str]]) -> bool:
        """webui runs with --api-auth and would answer 401 (as its Api.auth checks)."""
        expected = self.host.api_credentials()
        if not expected:
            return False
        if basic is None or basic[0] not in expected:
            return True
        return not hmac.compare_digest(basic[1].encode("utf-8", "replace"), expected[basic[0]].encode("utf-8", "replace"))

    def caller(self, key: Optional[str], basic: Optional[Tuple[str, str]]) -> Optional[User]:
        """The queue user a native request speaks for: its queue key, else its --api-auth
        name (a user of that name, or of role user), else the user named for keyless
        calls (never an admin's power: once the queue has users, an anonymous caller is
        that person). None: nobody the queue knows (wrong credentials, or none)."""
        try:
            return self.auth.caller(key, basic)
        except Unauthorized:
            if key or basic:
                return None
        name = str(self._setting(DOOR_USER) or "").strip()
        if not name:
            return None
        found = self.store.get_user(name)  # its limits; its role never: keyless is never an admin
        return dataclasses.replace(found, role=Role.USER) if found is not None else User(name, Role.USER)

    # ---- the guard ---------------------------------------------------------------------

    def owner_of(self, task_id: str) -> Optional[str]:
        owner = self._owners.get(task_id)
        if owner is None:
            task = self.store.get(task_id)
            owner = task.owner if task is not None else None
            if owner is not None:
                if len(self._owners) > 64:
                    self._owners.clear()
                self._owners[task_id] = owner
        return owner

    def may_see(self, user: Optional[User], task_id: str) -> bool:
        """The owner and admins see and stop a task; nobody else does."""
        return user is not None and (user.is_admin or self.owner_of(task_id) == user.name)

    def hidden(self, user: Optional[User], before: Tuple[int, Optional[str]], after: Tuple[int, Optional[str]]) -> bool:
        """Whether webui's state, read between the worker's `holder()` answers `before`
        and `after`, may have been a task's that `user` may not see."""
        (started, held), (started_after, held_after) = before, after
        if held is not None and not self.may_see(user, held):
            return True
        if started_after == started:
            return False  # no task began meanwhile: the state was `held`'s, or no task's
        if user is not None and user.is_admin:
            return False
        # one task began meanwhile and still holds the state: it alone was read
        return not (started_after == started + 1 and held_after is not None and self.may_see(user, held_after))

    def hidden_task(self, user: Optional[User], task_id: Any) -> bool:
        """A task id given to webui's /internal/progress that is another's queued task."""
        if not isinstance(task_id, str) or len(task_id) != 32 or not _is_hex(task_id):
            return False  # webui's own ids look like task(...)
        return self.owner_of(task_id) is not None and not self.may_see(user, task_id)

    def stop(self, user: Optional[User], act) -> Tuple[str, Any]:
        """webui's interrupt or skip (`act`, its endpoint): run only while no task holds
        webui's state, or while the caller's own (or any, for an admin) does.
        -> ("native", act's answer) | ("task", task id: the caller's to interrupt) |
        ("refused", the task id)."""
        def decide(held: Optional[str]):
            if held is None:
                return "native", act()
            if self.may_see(user, held):
                return "task", held
            return "refused", held

        return self.worker.with_holder(decide)

    def skip_task(self, task_id: str, act) -> None:
        """webui's skip, while that task still holds webui's state."""
        self.worker.with_holder(lambda held: act() if held == task_id else None)

    @staticmethod
    def refusal() -> str:
        return (f"a task of the queue is running: only its owner or an admin of the queue may stop it, "
                f"with {INTERRUPT_ROUTE}")

    # ---- a person's own settings (people/settings.py) --------------------------------

    def personal(self, user: Optional[User]) -> bool:
        """Whether `user`'s settings are their own (not the box's): a person, not an admin."""
        return user is not None and self.queue.personal.applies(user)

    def options_shown(self, user: Optional[User], answer: Dict[str, Any]) -> Dict[str, Any]:
        """webui's options answer as `user` sees it: their own values in place of the
        box's, and the queue's whole-number settings as whole numbers (webui's model
        turns every int into a float)."""
        out = dict(answer)
        for name, value in out.items():
            if name.startswith("task_queue_") and type(value) is float and value.is_integer():
                setting = self.host.setting(name)
                if setting is not None and type(setting.default) is int:
                    out[name] = int(value)
        if self.personal(user):
            own = self.queue.personal.own(user).values
            out.update({k: v for k, v in own.items() if k in out})
        return out

    def options_change(self, user: User, body: Dict[str, Any]) -> None:
        """A person's POST /sdapi/v1/options: the keys they keep for themselves are
        stored as theirs; others may only repeat the box's value (a client writing
        back the whole object), else NotPersonal names them. Nothing is stored unless
        all of it may be."""
        personal = self.queue.personal
        keys = set(personal.keys())
        shown = personal.shown(user)  # a value written back as read is no change (Forge's VAE "Automatic")
        mine = {k: v for k, v in body.items() if k in keys and not _same(shown.get(k), v)}
        foreign = []
        for name, value in body.items():
            if name in keys:
                continue
            setting = self.host.setting(name)  # None, or not changed by the API: webui ignores it too
            if setting is not None and setting.api and not _same(setting.value, value):
                foreign.append((name, "is the box's setting, which only an admin of the queue may change; "
                                      f"yours are {', '.join(sorted(keys))}"))
        if foreign:
            raise NotPersonal(foreign)
        if mine:
            try:
                personal.change(user, mine)
            except PayloadError as e:  # named as the options body names them
                raise PayloadError([{**p, "loc": ["body", *p["loc"][2:]]} for p in e.errors]) from None

    def native_body(self, user: Optional[User], body: Dict[str, Any]) -> Dict[str, Any]:
        """A native txt2img/img2img that webui runs itself (the door closed), with the
        caller's own settings as its override_settings where it sets none."""
        if not self.personal(user) or not isinstance(body.get("override_settings") or {}, dict):
            return body
        own = self.queue.personal.own(user).values
        if not own:
            return body
        overrides = dict(body.get("override_settings") or {})
        for name, value in own.items():
            overrides.setdefault(name, value)
        return {**body, "override_settings": overrides, "override_settings_restore_afterwards": True}

    # ---- the door ----------------------------------------------------------------------

    def parameters(self, kind: str, body: Dict[str, Any]) -> Dict[str, Any]:
        """`body` as webui's own route parses it (its request model: every field, with
        webui's defaults, unknown keys left out) and echoes it back as "parameters";
        PayloadError in FastAPI's shape when that model refuses it."""
        try:
            request = self.host.request_model(kind)(**body)
        except pydantic.ValidationError as e:
            raise PayloadError([{"loc": ["body", *p["loc"]], "msg": p["msg"], "type": p["type"]} for p in e.errors()]) from None
        echoed = dict(vars(request))
        if kind == "img2img" and not echoed.get("include_init_images"):  # as img2imgapi
            echoed["init_images"] = echoed["mask"] = None
        return echoed

    @staticmethod
    def queue_body(body: Dict[str, Any], parameters: Dict[str, Any]) -> Dict[str, Any]:
        """A native request as the queue's: only the fields webui knows (it ignores the
        rest), null ones left to the default, the checkpoint and VAE taken from
        override_settings, which the queue names apart."""
        out = {k: v for k, v in body.items() if k in parameters and v is not None and k != "send_images"}
        overrides = out.get("override_settings")
        if isinstance(overrides, dict):
            overrides = dict(overrides)
            for setting, field in (("sd_model_checkpoint", "checkpoint"), ("sd_vae", "vae")):
                if overrides.get(setting) is not None:
                    out[field] = overrides.pop(setting)
                overrides.pop(setting, None)
            out["override_settings"] = overrides
            if not overrides:
                del out["override_settings"]
        return out

    def answer(self, task: Task, parameters: Dict[str, Any]) -> Tuple[int, Dict[str, Any]]:
        """(status, body) of the native route for a final task, in webui's shapes."""
        if task.status == TaskStatus.FAILED:
            return 500, task_error(task.error or "the task failed")
        if task.status == TaskStatus.CANCELLED:
            return 409, http_error(409, "the task was cancelled before it ran")
        send = parameters.get("send_images", True)
        # webui's own order: a script's grids before the images
        order = sorted(range(len(task.images)), key=lambda index: not is_grid(task.images[index]))
        try:
            images = [self._base64(task, index) for index in order] if send else []
        except NotFound as e:  # made on a box that is away (boxes/images.py's BoxGone), or deleted meanwhile
            return 503, http_error(503, str(e))
        info = self.store.info(task.task_id)
        return 200, {"images": images, "parameters": parameters, "info": info if info is not None else "{}"}

    def _base64(self, task: Task, index: int) -> str:
        """One of the task's images, from this box or from the box that made it."""
        found = self.queue.image_of(task, index)
        if isinstance(found, str):
            with open(found, "rb") as f:
                return base64.b64encode(f.read()).decode("ascii")
        return base64.b64encode(found.data).decode("ascii")


def http_error(status: int, detail: str) -> Dict[str, Any]:
    """The body webui's API answers an HTTPException with (its api_middleware)."""
    e = HTTPException(status_code=status, detail=detail)
    return {"error": type(e).__name__, "detail": detail, "body": "", "errors": str(e)}


def task_error(message: str) -> Dict[str, Any]:
    """The body webui's API answers a failed job with: the exception's type and text
    (a task's error reads "<Type>: <text>", as the worker records it)."""
    name, sep, _ = message.partition(": ")
    return {"error": name if sep and name.isidentifier() else "RuntimeError", "detail": "", "body": "", "errors": message}


def _same(box: Any, given: Any) -> bool:
    """A value written back as it was read (webui's options answer whole numbers as
    floats: 2048.0 is 2048; true is not 1)."""
    if isinstance(box, bool) or isinstance(given, bool):
        return box is given
    return box == given


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)
