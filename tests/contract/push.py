"""Helpers of the push tests: a real webhook receiver, and an event stream reader."""

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx


def verify(secret, header, body, now=None, tolerance=300):
    """The verification snippet of docs/push.md, as a receiver would use it."""
    parts = dict(p.split("=", 1) for p in header.split(","))
    t = int(parts["t"])
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    fresh = abs((time.time() if now is None else now) - t) <= tolerance
    return fresh and hmac.compare_digest(expected, parts["v1"])


class Receiver:
    """A webhook receiver on loopback that records every request it answers.
    `fail_first`: that many requests get 500; `hold_first`: the first request is read
    and then held unanswered until `release()`."""

    def __init__(self, fail_first=0, hold_first=False, delay=0.0):
        self.received, self.answered = [], []  # (headers, raw body)
        self.fail_first, self.hold_first, self.delay = fail_first, hold_first, delay
        self._release = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver._lock:
                    receiver.received.append((dict(self.headers), body))
                    n = len(receiver.received)
                if receiver.hold_first and n == 1:
                    receiver._release.wait(60)
                    return  # never answered: the connection just ends
                time.sleep(receiver.delay)
                status = 500 if n <= receiver.fail_first else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if status == 200:
                    with receiver._lock:
                        receiver.answered.append((dict(self.headers), body))

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def release(self):
        self._release.set()

    def bodies(self, answered=True):
        with self._lock:
            return [json.loads(body) for _, body in (self.answered if answered else self.received)]

    def wait_for(self, task_id, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(b["task_id"] == task_id for b in self.bodies()):
                return
            time.sleep(0.05)
        raise AssertionError(f"no webhook of task {task_id} within {timeout}s; got {self.bodies(answered=False)}")

    def close(self):
        self.release()
        self.server.shutdown()
        self.server.server_close()


class Stream:
    """A client following GET /queue/v1/events on a thread: `events` as they come,
    each (id, kind, data)."""

    def __init__(self, client, params=None, last_event_id=None):
        headers = dict(client.http.headers)
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.events, self.status, self._response = [], None, None
        self.frames = []  # every event's fields as sent, strings (id, event, data)
        self.patience = 600 if client.real else 60  # a real webui's CPU steps take seconds, more on a busy machine
        self._http = httpx.Client(base_url=client.url, headers=headers, timeout=httpx.Timeout(60, read=None))
        self._opened = threading.Event()
        self._stop = False
        self._thread = threading.Thread(target=self._run, args=(params,), daemon=True)
        self._thread.start()
        assert self._opened.wait(20), "the stream did not open"

    def _run(self, params):
        try:
            with self._http.stream("GET", "/queue/v1/events", params=params) as r:
                self._response = r
                self.status, self.content_type = r.status_code, r.headers.get("content-type")
                self._opened.set()
                if r.status_code != 200:
                    r.read()
                    self.body = r.text
                    return
                event = {}
                for line in r.iter_lines():
                    if self._stop:
                        return
                    if line == "":
                        if "data" in event:
                            self.frames.append(dict(event))
                        if "event" in event:
                            self.events.append((int(event["id"]), event["event"], json.loads(event["data"])))
                        event = {}
                    elif not line.startswith(":") and ":" in line:
                        name, _, value = line.partition(":")
                        event[name] = value[1:] if value.startswith(" ") else value
        except Exception:  # closed under it (close), or the server went away
            pass
        finally:
            self._opened.set()

    def of(self, task_id):
        return [e for e in list(self.events) if e[2].get("task_id") == task_id]

    def wait_for(self, task_id, kind, timeout=None):
        timeout = timeout or self.patience
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [e for e in self.of(task_id) if e[1] == kind]
            if found:
                return found[-1]
            time.sleep(0.02)
        raise AssertionError(f"no {kind} event of {task_id} within {timeout}s: {self.of(task_id)}")

    def close(self):
        """Drop the connection, as a client that goes away does."""
        self._stop = True
        try:
            self._response.close()
        except Exception:
            pass
        self._http.close()
        self._thread.join(2)
