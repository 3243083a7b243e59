"""A person's own settings: the checkpoint, VAE, CLIP skip and the other quick settings
that webui applies per job, kept for each person in the store.

In stock webui these are the box's settings: one person's pick is everyone's next
image. Here a person who is not an admin picks for themselves; every task of theirs that
names no value of its own runs with theirs, and the box's defaults (webui's options,
config.json) change only when an admin changes them. Admins' settings are the box's.

Kept as one small record per person in the store's state, so they survive a restart
and every box sharing a queue reads the same."""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Dict, List, Optional, Tuple

from ..host.contract import Host
from ..intake.payload import setting_problem
from ..records.errors import PayloadError
from ..records.users import SETTINGS_STATE as STATE
from ..records.users import Role, User, UserExists
from ..store.contract import Store
from .auth import Forbidden

OWN = "task_queue_personal_settings"
SETTINGS = {
    OWN: ("", "Settings each person keeps for themselves (not admins): comma-separated keys of webui's settings "
              "(empty: the checkpoint, VAE, CLIP skip and every other quick setting)"),
}
CHECKPOINT, VAE = "sd_model_checkpoint", "sd_vae"
ALWAYS = (CHECKPOINT, VAE, "CLIP_stop_at_last_layers")  # webui's quick-settings bar as people know it


class NotPersonal(Forbidden):
    """A change to settings that are the box's, not a person's: [(key, reason)]."""

    def __init__(self, problems: List[Tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{key}: {reason}" for key, reason in problems))
        self.problems = problems


@dataclasses.dataclass(frozen=True)
class Own:
    """A person's settings as they apply now: `values` (only those they set and that
    still hold), and `notes`: why a value of theirs is not used (the box's is)."""

    values: Dict[str, Any]
    notes: Dict[str, str]


class Personal:
    def __init__(self, store: Store, host: Host) -> None:
        self.store, self.host = store, host

    def keys(self) -> List[str]:
        """The settings people keep for themselves: the quick settings webui lets a job
        override (its API may change them), narrowed by the owner's list."""
        quick = self.host.option("quicksettings_list", [])
        if isinstance(quick, str):  # older webui: one comma-separated string
            quick = quick.split(",")
        found = list(ALWAYS) + [k.strip() for k in quick if k.strip() and k.strip() not in ALWAYS]
        narrowed = [k.strip() for k in str(self.host.option(OWN, "")).split(",") if k.strip()]
        if narrowed:
            found = [k for k in found if k in narrowed] + [k for k in narrowed if k not in found]
        return [k for k in found if self._per_job(k)]

    def _per_job(self, key: str) -> bool:
        setting = self.host.setting(key)
        return setting is not None and setting.api

    @staticmethod
    def applies(user: User) -> bool:
        return user.role != Role.ADMIN

    def own(self, user: User) -> Own:
        """What `user` set that still holds; a value that no longer does (a checkpoint
        gone from disk) gives way to the box's, with a note saying so."""
        if not self.applies(user):
            return Own({}, {})
        stored = self.store.get_state(STATE + user.name) or {}
        keys = self.keys()
        values, notes = {}, {}
        for key, value in stored.items():
            if key not in keys:
                continue
            problem = self._problem(key, value)
            if problem is None:
                values[key] = self._resolved(key, value)
            else:
                notes[key] = f"{problem}: the box's default is used"
        return Own(values, notes)

    def shown(self, user: User, own: Optional[Own] = None) -> Dict[str, Any]:
        """Every per-person setting's value for `user`: theirs where set, else the box's
        (`own`: their settings, when already read)."""
        own = (own or self.own(user)).values
        return {key: own[key] if key in own else self._box(key) for key in self.keys()}

    def check(self, user: User, changes: Dict[str, Any]) -> Dict[str, Any]:
        """`changes` as they would be stored (names resolved), or PayloadError naming
        each bad value, NotPersonal naming the settings that are the box's."""
        if not self.applies(user):
            raise NotPersonal([(k, "an admin's settings are the box's own: change them in webui's Settings")
                               for k in changes] or [("settings", "an admin's settings are the box's own")])
        keys = self.keys()
        foreign = [(k, "is not a setting each person keeps (see GET /queue/v1/me: settings)") for k in changes if k not in keys]
        if foreign:
            raise NotPersonal(foreign)
        errors, cleaned = [], {}
        for key, value in changes.items():
            if value is None:
                cleaned[key] = None
                continue
            value = self._normal(key, value)
            problem = self._problem(key, value)
            if problem:
                errors.append({"loc": ["body", "settings", key], "msg": problem, "type": "value_error"})
            else:
                cleaned[key] = self._resolved(key, value)
        if errors:
            raise PayloadError(errors)
        return cleaned

    def change(self, user: User, changes: Dict[str, Any]) -> Own:
        """Store `changes` as `user`'s (a null value: back to the box's), all or none
        (the errors of `check`)."""
        cleaned = self.check(user, changes)
        stored = dict(self.store.get_state(STATE + user.name) or {})
        for key, value in cleaned.items():
            if value is None:
                stored.pop(key, None)
            else:
                stored[key] = value
        if self.store.get_user(user.name) is None:  # a login or --api-auth name: a user from now on
            try:
                self.store.add_user(User(user.name, Role.USER, created_at=time.time()))
            except UserExists:  # made meanwhile by another request
                pass
        self.store.set_state(STATE + user.name, stored or None)
        return self.own(user)

    def person(self, name: str) -> User:
        """A login's queue user: the user of that name, or a person of role user."""
        return self.store.get_user(name) or User(name, Role.USER)

    def fill(self, user: User, body: Dict[str, Any]) -> Dict[str, Any]:
        """A submit's body with `user`'s settings where it names none of its own."""
        own = self.own(user).values
        if not own:
            return body
        body = dict(body)
        if CHECKPOINT in own and body.get("checkpoint") is None:
            body["checkpoint"] = own[CHECKPOINT]
        if VAE in own and body.get("vae") is None:
            body["vae"] = own[VAE]
        given = body.get("override_settings")
        if given is not None and not isinstance(given, dict):
            return body  # refused by the checks as it is
        overrides = dict(given or {})
        for key, value in own.items():
            if key not in (CHECKPOINT, VAE):
                overrides.setdefault(key, value)
        if overrides:
            body["override_settings"] = overrides
        return body

    # ---- one value -------------------------------------------------------------------------

    def _box(self, key: str) -> Any:
        if key == CHECKPOINT:
            return self.host.default_checkpoint()
        setting = self.host.setting(key)
        return setting.value if setting is not None else None

    def _normal(self, key: str, value: Any) -> Any:
        """2.0 for a whole-number setting is 2 (webui's own options answer ints as floats)."""
        setting = self.host.setting(key)
        if (setting is not None and type(setting.default) is int and type(value) is float
                and value.is_integer()):
            return int(value)
        return value

    def _problem(self, key: str, value: Any) -> Optional[str]:
        if key == CHECKPOINT:
            if not isinstance(value, str) or self.host.resolve_checkpoint(value) is None:
                return f"no checkpoint {value!r} on this box"
            return None
        if key == VAE:
            try:
                if not isinstance(value, str) or self.host.resolve_vae(value) is None:
                    return f"no VAE {value!r} on this box"
            except ValueError as e:  # a choice this host cannot make (Forge: "Automatic")
                return e.args[-1]
            return None
        return setting_problem(self.host.setting(key), key, value)

    def _resolved(self, key: str, value: Any) -> Any:
        if key == CHECKPOINT:
            return self.host.resolve_checkpoint(value)
        if key == VAE:
            return self.host.resolve_vae(value)
        return value


class PageSettings:
    """A person's own settings as webui's page asks for them, by login name
    (host/webui_page.Page)."""

    def __init__(self, personal: Personal) -> None:
        self.personal = personal

    def own(self, name: Optional[str]) -> Optional[Dict[str, Any]]:
        if not name:
            return None
        user = self.personal.person(name)
        return self.personal.own(user).values if self.personal.applies(user) else None

    def keys(self) -> List[str]:
        return self.personal.keys()

    def notes(self, name: Optional[str]) -> Dict[str, str]:
        return self.personal.own(self.personal.person(name)).notes if name else {}

    def change(self, name: str, changes: Dict[str, Any]) -> Dict[str, Any]:
        try:
            return self.personal.change(self.personal.person(name), changes).values
        except PayloadError as e:
            raise ValueError("; ".join(f"{p['loc'][-1]}: {p['msg']}" for p in e.errors)) from None
        except NotPersonal as e:
            raise ValueError(str(e)) from None
