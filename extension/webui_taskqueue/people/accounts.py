"""Managing users and keys: what the admin routes, `/me` and the command line call.

Who may do what is decided here: admins manage everyone, a user only their own keys.
A key is returned once, when it is made; only its digest is stored."""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Callable, Dict, List, Optional

from ..records import quotas
from ..records.errors import PayloadError, error
from ..records.users import SETTINGS_STATE, KeyInfo, Role, User, UserExists, digest, limits_problem, name_problem, new_key, prefix_of
from ..store.contract import Store
from ..store.push import DEFAULT_CALLBACK
from .auth import Forbidden


class AccountConflict(Exception):
    """The change would leave the queue in a state nobody wants (409)."""


class UnknownUser(Exception):
    pass


@dataclasses.dataclass
class UserView:
    user: User
    keys: List[KeyInfo]
    effective: Dict[str, Any]
    usage: Dict[str, int]


class Accounts:
    def __init__(self, store: Store, user_limits: Callable[[], Dict[str, Any]], clock: Callable[[], float] = time.time):
        self.store, self.user_limits, self.clock = store, user_limits, clock

    # ---- admins ------------------------------------------------------------------------

    def create(self, caller: User, name: Any, role: Any = "user", limits: Any = None, key: Optional[str] = None) -> dict:
        """A new user and their first key: {"name", "role", "key", "prefix", "limits"}.
        Over HTTP, the first user must be an admin: a queue whose only users cannot
        manage it would lock its owner out."""
        _require_admin(caller)
        role = self._role(role)
        limits = self._limits(limits or {})
        problem = name_problem(name)
        if problem:
            raise PayloadError([error("name", problem)])
        if role != Role.ADMIN and self.store.count_users(Role.ADMIN) == 0 and caller.name != CLI.name:
            raise AccountConflict("the first user must be an admin (role: admin), or nobody could manage the queue")
        user = User(name=name, role=role, limits=limits, created_at=self.clock())
        try:
            self.store.add_user(user)
        except UserExists:
            raise AccountConflict(f"a user named {name!r} exists") from None
        made = self.add_key(caller, name, key)
        return {"name": name, "role": role.value, "limits": limits, **made}

    def list(self, caller: User) -> List[UserView]:
        _require_admin(caller)
        return [self._view(u) for u in self.store.users()]

    def get(self, caller: User, name: str) -> UserView:
        _require_self_or_admin(caller, name)
        return self._view(self._user(name))

    def update(self, caller: User, name: str, role: Any = None, limits: Any = None) -> UserView:
        _require_admin(caller)
        user = self._user(name)
        role = self._role(role) if role is not None else None
        limits = self._limits(limits) if limits is not None else None
        if user.is_admin and role == Role.USER and self.store.count_users(Role.ADMIN) == 1:
            raise AccountConflict(f"{name} is the last admin; make another admin first")
        return self._view(self.store.update_user(name, role=role, limits=limits))

    def delete(self, caller: User, name: str) -> List[str]:
        """The user and their keys go at once; their queued tasks are cancelled."""
        _require_admin(caller)
        user = self._user(name)
        if user.is_admin and self.store.count_users(Role.ADMIN) == 1 and self.store.count_users() > 1:
            raise AccountConflict(f"{name} is the last admin while other users exist; make another admin first")
        cancelled = self.store.delete_user(name, self.clock())
        self.store.set_state(DEFAULT_CALLBACK + name, None)  # a new user of that name starts afresh:
        self.store.set_state(SETTINGS_STATE + name, None)  # no webhook, no settings of their own
        return cancelled

    # ---- a user's own keys (or an admin's for anyone) ----------------------------------

    def add_key(self, caller: User, name: str, key: Optional[str] = None) -> dict:
        """{"key", "prefix"}: the key is shown this once. `key` (command line only): use
        this key instead of a random one."""
        _require_self_or_admin(caller, name)
        self._user(name)
        key = key or new_key()
        if len(key) < 16:
            raise PayloadError([error("key", "a key needs at least 16 characters")])
        self.store.add_key(name, digest(key), prefix_of(key), self.clock())
        return {"key": key, "prefix": prefix_of(key)}

    def delete_key(self, caller: User, name: str, prefix: str) -> None:
        _require_self_or_admin(caller, name)
        self._user(name)
        try:
            self.store.delete_key(name, prefix)
        except KeyError:
            raise UnknownUser(f"{name} has no key {prefix!r}") from None

    # ---- helpers ------------------------------------------------------------------------

    def me(self, caller: User) -> UserView:
        """Who the caller is, the limits that apply to them and what they use."""
        return self._view(caller)

    def _view(self, user: User) -> UserView:
        usage = dataclasses.asdict(self.store.usage(user.name, self.clock()))
        return UserView(user, self.store.keys(user.name), quotas.effective(user, self.user_limits()), usage)

    def _user(self, name: str) -> User:
        user = self.store.get_user(name)
        if user is None:
            raise UnknownUser(f"no user {name!r}")
        return user

    @staticmethod
    def _role(role: Any) -> Role:
        try:
            return Role(role)
        except ValueError:
            raise PayloadError([error("role", "must be 'user' or 'admin'")]) from None

    @staticmethod
    def _limits(limits: Any) -> Dict[str, Any]:
        problem = limits_problem(limits)
        if problem:
            raise PayloadError([error("limits", problem)])
        return limits


# The command line acts as the box's owner: an admin who may also make the first user a
# plain user (the owner can always add an admin later, webui need not be running).
CLI = User("(command line)", Role.ADMIN)


def _require_admin(caller: User) -> None:
    if not caller.is_admin:
        raise Forbidden("only an admin may manage users")


def _require_self_or_admin(caller: User, name: str) -> None:
    if not (caller.is_admin or caller.name == name):
        raise Forbidden("you may manage only your own keys")
