"""Who is calling, and URLs that carry their own permission.

Open mode: no users in the store and webui has no `--api-auth` and no page login, so
everyone is the one admin user `default`, as in stock webui. Otherwise every request
needs one of:
- an API key of the queue (`Authorization: Bearer <key>` or `X-API-Key: <key>`);
- webui's own `--api-auth` credentials (HTTP Basic): each name is a user of role `user`
  (or of the role a queue user of the same name has), so an owner who protected
  webui's API never gets an unprotected queue next to it;
- the session cookie of webui's page login (`--gradio-auth`): that name, likewise.

Signed URLs let the page show an image in `<img src>`, which cannot send a header: an
HMAC over (task, kind of resource, index, expiry) with a secret kept in the store. A
URL opens that one resource of that one task, until it expires."""

from __future__ import annotations

import hashlib
import hmac
import math
from typing import Callable, Dict, Optional, Tuple

from ..records.users import Role, User, digest
from ..store.contract import Store

OPEN_MODE_USER = User("default", Role.ADMIN)
# A valid signed URL proves the right to that one resource, and to nothing else: the
# routes that accept signatures act as this user only for the resource signed.
SIGNED_URL_USER = User("(signed URL)", Role.ADMIN)
SIGNING_SECRET = "url-signing"
URL_LIFETIME = 3600  # seconds a signed URL works at least
URL_STEP = 600  # expiries are rounded up to this: a task polled every second keeps one URL


class Unauthorized(Exception):
    pass


class Forbidden(Exception):
    pass


class Authenticator:
    def __init__(self, store: Store, credentials: Callable[[], Dict[str, str]],
                 page_login: Callable[[], bool] = lambda: False) -> None:
        """`credentials`: webui's --api-auth names and passwords (empty without it);
        `page_login`: whether webui's page asks for a login (--gradio-auth)."""
        self.store, self.credentials, self.page_login = store, credentials, page_login
        self._secret: Optional[bytes] = None  # read once: it never changes

    def is_open(self) -> bool:
        return not self.credentials() and not self.page_login() and self.store.count_users() == 0

    def caller(self, key: Optional[str] = None, basic: Optional[Tuple[str, str]] = None,
               login: Optional[str] = None) -> User:
        """`key`: the bearer or X-API-Key value; `basic`: (name, password) of HTTP Basic;
        `login`: the name logged in to webui's page whose session cookie came along.
        Unauthorized when what was sent is not valid, or nothing was sent and the
        queue is not open."""
        if key:
            user = self.store.user_for_key(digest(key))
            if user is not None:
                return user
            raise Unauthorized("the API key is not valid (revoked, or mistyped)")
        if basic:
            name, password = basic
            expected = self.credentials().get(name)
            if expected is not None and hmac.compare_digest(password.encode("utf-8", "replace"), expected.encode()):
                return self.store.get_user(name) or User(name, Role.USER)
            raise Unauthorized("webui's --api-auth name or password is wrong")
        if login:  # webui's page checked the password: its login is that person
            return self.store.get_user(login) or User(login, Role.USER)
        if self.is_open():
            return OPEN_MODE_USER
        raise Unauthorized("an API key is needed: Authorization: Bearer <key>, or X-API-Key: <key>")

    # ---- signed URLs ---------------------------------------------------------------

    def sign(self, task_id: str, kind: str, index: int, now: float) -> str:
        """The query string (`exp=...&sig=...`) that opens this one resource."""
        exp = int(math.ceil((now + URL_LIFETIME) / URL_STEP) * URL_STEP)
        return f"exp={exp}&sig={self._mac(task_id, kind, index, exp)}"

    def signed(self, task_id: str, kind: str, index: int, exp: Optional[str], sig: Optional[str], now: float) -> bool:
        if not exp or not sig or not exp.isdigit() or len(exp) > 12 or int(exp) < now:
            return False
        return hmac.compare_digest(sig, self._mac(task_id, kind, index, int(exp)))

    def _mac(self, task_id: str, kind: str, index: int, exp: int) -> str:
        message = f"{task_id}\n{kind}\n{index}\n{exp}".encode("utf-8", "surrogatepass")
        if self._secret is None:
            self._secret = self.store.secret(SIGNING_SECRET).encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:32]
