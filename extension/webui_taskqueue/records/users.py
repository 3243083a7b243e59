"""People: users, their roles, their API keys and their limits, as plain records.

Keys are random (192 bits), shown once, and stored only as a SHA-256 digest: a key
is looked up by its digest, so the database never holds anything that can be used
to call the API. A key's first characters (`prefix`) are kept in clear to tell keys
apart in a list; they are not secret and do not authenticate."""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import re
import secrets
from typing import Any, Dict, Optional

KEY_PREFIX_LENGTH = 11  # "tq_" and 8 characters
GENERATED = re.compile(r"^tq_[A-Za-z0-9_-]{32}$")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")

# Per-user limits (API.md "Limits"). A user's own value of None means "the default for
# everyone" (webui Settings > Task queue); an effective value of None means "no limit".
# where a person's own settings are kept in the store's state (+ their name): people/settings.py
SETTINGS_STATE = "settings:"

LIMIT_NAMES = ("max_queued", "max_per_hour", "max_steps", "max_pixels", "max_images", "checkpoints")


class Role(str, enum.Enum):
    USER = "user"
    ADMIN = "admin"


@dataclasses.dataclass(frozen=True)
class User:
    name: str
    role: Role = Role.USER
    limits: Dict[str, Any] = dataclasses.field(default_factory=dict)  # only the names set for this user
    created_at: float = 0.0

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


@dataclasses.dataclass(frozen=True)
class KeyInfo:
    """What may be shown of a key: never the key itself."""

    prefix: str
    created_at: float


@dataclasses.dataclass(frozen=True)
class Usage:
    queued: int
    last_hour: int


class UserExists(Exception):
    pass


def new_key() -> str:
    return "tq_" + secrets.token_urlsafe(24)  # 24 random bytes: 192 bits


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def prefix_of(key: str) -> str:
    """A made key's first characters (8 of its random ones: 144 bits stay secret); for
    a key the owner chose, a digest's, which give nothing of the key away."""
    if GENERATED.match(key):
        return key[:KEY_PREFIX_LENGTH]
    return "#" + digest(key)[:KEY_PREFIX_LENGTH - 1]


def name_problem(name: Any) -> Optional[str]:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        return "must be 1-64 letters, digits, '_', '.', '@' or '-', starting with a letter or digit"
    return None


def limits_problem(limits: Any) -> Optional[str]:
    """None when `limits` is a valid partial limits object (null values: the default)."""
    if not isinstance(limits, dict):
        return "must be an object"
    unknown = sorted(set(limits) - set(LIMIT_NAMES))
    if unknown:
        return f"unknown limit {unknown[0]!r}; known: {', '.join(LIMIT_NAMES)}"
    for name, value in limits.items():
        if value is None:
            continue
        if name == "checkpoints":
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                return "checkpoints must be a list of checkpoint titles or names, or null"
        elif not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10**9:
            return f"{name} must be a whole number from 0 to 1000000000, or null"
    return None
