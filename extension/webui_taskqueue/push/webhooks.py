"""Webhooks: a task's final state POSTed to its `callback_url`, signed, never lost.

Deliveries come from the store's outbox (store/push.py), which the store fills in the
same step as the task's final state; this module's `Sender` is its own thread, never
the worker: a slow or dead receiver never delays a generation. Each try has a timeout;
a failed one is tried again after `retry_seconds`, doubled each time (at most an hour
apart), until `tries` tries were made. A delivery survives a restart: it is a row.
Boxes sharing a queue (Redis) each run a sender; each delivery is claimed by one of them
for one try (`lease`), so one box sends it. A delivery may still arrive twice (webui
killed between the POST and its record): receivers tell them apart by the task id.

Where a callback may go: http(s) only. With no allowed hosts in Settings, any host
whose every address is public (not loopback, private, link-local or reserved); with
a list, the hosts on it only, whatever their addresses. Checked at submit (names as
written) and again before each try (names resolved). Redirects are not followed."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import re
import socket
import threading
import time
from typing import Any, Callable, Dict, Optional, Tuple
from urllib.parse import urlsplit

from ..records.errors import PayloadError, error
from ..store.contract import Store
from ..store.push import DEFAULT_CALLBACK, Delivery

log = logging.getLogger(__name__)

HEADER = "X-Queue-Signature"
MAX_URL = 2048
URL_PATTERN = r"^https?://[^\s/?#@]+([/?#]\S*)?$"  # the OpenAPI document gives the same
MAX_DELAY = 3600.0  # longest wait between two tries


@dataclasses.dataclass(frozen=True)
class Policy:
    hosts: str = ""  # allowed callback hosts, comma-separated (empty: any public host)
    tries: int = 8
    retry_seconds: float = 10.0  # before the second try; doubled for each one after
    timeout: float = 10.0  # seconds one try may take to connect, and for each read


def sign(secret: str, body: bytes, t: int) -> str:
    """The signature header's value: t=<unix seconds>,v1=<HMAC-SHA256 of "<t>.<body>">."""
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify(secret: str, header: str, body: bytes, now: float, tolerance: float = 300) -> bool:
    """The receiver's check (docs/push.md shows the same in a few lines): the body is the one
    signed with `secret`, and it was signed within `tolerance` seconds (no replays)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    if not parts.get("t", "").isdigit() or abs(now - int(parts["t"])) > tolerance:
        return False
    expected = sign(secret, body, int(parts["t"])).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def url_problem(url: Any, hosts: str) -> Optional[str]:
    """Why `url` may not be a callback, judged at submit (no name is resolved), or None."""
    if not isinstance(url, str) or not url:
        return "must be an http or https URL"
    if len(url) > MAX_URL:
        return f"must be at most {MAX_URL} characters"
    if not re.fullmatch(URL_PATTERN, url):
        return "must be an http or https URL: http(s)://host[:port][/path], without spaces or a user name"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError as e:
        return f"is not a valid URL ({e})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http or https URL with a host"
    if parts.username or parts.password:
        return "must not carry a user name or password (the signature proves the sender)"
    return _host_problem(parts.hostname, _allowed(hosts), [parts.hostname])


def resolved_problem(url: str, hosts: str) -> Optional[str]:
    """Why `url` may not be called now, its host resolved, or None."""
    host = urlsplit(url).hostname or ""
    allowed = _allowed(hosts)
    if allowed:
        return _host_problem(host, allowed, [host])
    try:
        addresses = sorted({info[4][0] for info in socket.getaddrinfo(host, None)})
    except (OSError, ValueError) as e:  # ValueError: UnicodeError of a name IDNA cannot spell
        return f"the callback host {host!r} cannot be resolved ({e})"
    return _host_problem(host, allowed, addresses)


def _allowed(hosts: str):
    return [h.strip().lower() for h in str(hosts or "").split(",") if h.strip()]


def _host_problem(host: str, allowed, addresses) -> Optional[str]:
    host = host.lower().rstrip(".")
    if allowed:
        if any(_matches(host, entry) for entry in allowed):
            return None
        return f"the callback host {host!r} is not among the allowed hosts (Settings > Task queue)"
    for address in addresses:
        try:
            ip = ipaddress.ip_address(address.split("%")[0])
        except ValueError:
            continue  # a name, resolved before each try
        if not ip.is_global:
            return (f"the callback host {host!r} is a private, loopback or reserved address; "
                    "the owner may allow it in Settings > Task queue > callback hosts")
    return None


def _matches(host: str, entry: str) -> bool:
    """`entry`: a name, `*.domain`, an address or a network (10.0.0.0/8)."""
    if entry.startswith("*."):
        return host.endswith(entry[1:])
    try:
        return ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return host == entry


def post(url: str, body: bytes, headers: Dict[str, str], timeout: float) -> Tuple[Optional[int], Optional[str]]:
    """One POST: (HTTP status, None) or (None, why there was no answer)."""
    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request("POST", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), body, headers)
        response = connection.getresponse()
        response.read(65536)
        return response.status, None
    except (OSError, http.client.HTTPException, ValueError) as e:  # ValueError: a URL http.client cannot send
        return None, f"{type(e).__name__}: {e}"[:500]
    finally:
        connection.close()


def lease(policy: Policy) -> float:
    """Seconds a box holds a delivery it claimed: one try, with room to spare (its
    name resolved, connecting and reading the answer may each take `timeout`). A box
    that dies holding one leaves it to another box (or to itself, restarted) after this."""
    return 5.0 + 3 * policy.timeout


def backoff(attempts: int, retry_seconds: float) -> float:
    """Seconds to wait after the `attempts`-th failed try."""
    return min(MAX_DELAY, retry_seconds * 2 ** max(0, attempts - 1))


class Sender:
    """The thread that delivers due webhooks, one at a time, oldest due first."""

    def __init__(self, store: Store, render: Callable[[str, str], Optional[Dict[str, Any]]],
                 policy: Callable[[], Policy], clock: Callable[[], float] = time.time, send=post) -> None:
        """`render(owner, task_id)`: the task object as its owner sees it (None: gone)."""
        self.store, self.render, self.policy, self.clock, self.send = store, render, policy, clock, send
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: Optional[threading.Thread] = None

    def start(self) -> None:
        with self._cond:
            if self._thread is None:
                self._stopping = False
                self._thread = threading.Thread(target=self._loop, name="task-queue-webhooks", daemon=True)
                self._thread.start()

    def stop(self, timeout: Optional[float] = None) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def notify(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _loop(self) -> None:
        while True:
            with self._cond:
                if self._stopping:
                    return
            try:
                if self.run_once():
                    continue
                due = self.store.next_delivery_at()
            except Exception:
                log.exception("task queue: webhooks")
                due = None
            with self._cond:
                if not self._stopping:  # a final state is picked up within a second
                    self._cond.wait(1.0 if due is None else min(1.0, max(0.01, due - self.clock())))

    def run_once(self) -> int:
        """Try every delivery due now, each claimed first, so that of several boxes on one
        queue one sends it; how many were tried."""
        tried = 0
        while True:
            with self._cond:
                if self._stopping:
                    return tried
            claimed = self.store.claim_deliveries(self.clock(), lease(self.policy()), limit=1)
            if not claimed:
                return tried
            self.deliver(claimed[0])
            tried += 1

    def deliver(self, delivery: Delivery) -> Delivery:
        policy = self.policy()
        status, error = None, resolved_problem(delivery.url, policy.hosts)
        retry = error is None
        body = self.render(delivery.owner, delivery.task_id) if error is None else None
        if error is None and body is None:
            error, retry = "the task was deleted before its webhook was delivered", False
        if error is None:
            raw = json.dumps(body, separators=(",", ":")).encode()
            headers = {"Content-Type": "application/json", "User-Agent": "sd-webui-task-queue",
                       "X-Queue-Task": delivery.task_id, "X-Queue-Attempt": str(delivery.attempts + 1),
                       HEADER: sign(self.store.webhook_secret(delivery.owner), raw, int(self.clock()))}
            status, error = self.send(delivery.url, raw, headers, policy.timeout)
            if status is not None and not 200 <= status < 300:
                error = f"the receiver answered HTTP {status}"
        delivered = error is None
        now = self.clock()
        again = retry and not delivered and delivery.attempts + 1 < max(1, policy.tries)
        next_try = now + backoff(delivery.attempts + 1, policy.retry_seconds) if again else None
        if not delivered:
            log.info("task queue: webhook of task %s: %s%s", delivery.task_id, error,
                     "" if again else "; given up")
        return self.store.record_attempt(delivery.task_id, now, status, error, delivered, next_try)


def take_callback(body: Any, hosts: str, default: Optional[str] = None) -> Tuple[Any, Optional[str]]:
    """A submit body without its `callback_url`, and the URL checked (PayloadError).
    Without one, the owner's `default` (checked again: the allowed hosts may have
    changed since it was set); `"callback_url": null` asks for no webhook at all."""
    if not isinstance(body, dict) or "callback_url" not in body:
        problem = None if default is None else url_problem(default, hosts)
        if problem:
            raise PayloadError([error("callback_url", f"your default callback URL {problem}")])
        return body, default
    body = dict(body)
    url = body.pop("callback_url")
    problem = None if url is None else url_problem(url, hosts)
    if problem:
        raise PayloadError([error("callback_url", problem)])
    return body, url


def default_callback(store: Store, owner: str) -> Optional[str]:
    """The URL that `owner`'s tasks are sent to when they name none."""
    return store.get_state(DEFAULT_CALLBACK + owner)


def set_default_callback(store: Store, owner: str, url: Optional[str], hosts: str) -> None:
    """PayloadError when `url` may not be a callback; None: no default."""
    problem = None if url is None else url_problem(url, hosts)
    if problem:
        raise PayloadError([error("callback_url", problem)])
    store.set_state(DEFAULT_CALLBACK + owner, url)
