"""A small HTTP client for the contract suite, and the stand-in server as a process."""

import base64
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

import httpx
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STANDIN = os.path.join(ROOT, "tests", "standin")
FINAL = {"done", "failed", "interrupted", "cancelled"}
REDIS_URL_ENV, REDIS_PREFIX_ENV, BOX_ENV = "TASK_QUEUE_REDIS_URL", "TASK_QUEUE_REDIS_PREFIX", "TASK_QUEUE_BOX"
BOX_URL_ENV = "TASK_QUEUE_BOX_URL"


class QueueClient:
    """`key`: the queue API key every request sends (None: open mode, or no key)."""

    def __init__(self, url, real, key=None):
        self.url, self.real, self.key = url, real, key
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.http = httpx.Client(base_url=url, timeout=120, headers=headers)
        self.every = 0.02  # how often `wait` polls (a user's client: within their reads a second)

    def as_user(self, key):
        """The same server, as the user of `key`."""
        return QueueClient(self.url, self.real, key)

    def get(self, path, **kw):
        """A read; over the person's reads per second (429) it is sent again: the server
        held that answer until the next read is allowed (`http.get` sees the 429)."""
        r = self.http.get(path, **kw)
        for _ in range(30):
            if r.status_code != 429 or "reads a second" not in r.text:
                break
            r = self.http.get(path, **kw)
        return r

    def post(self, path, **kw):
        return self.http.post(path, **kw)

    def patch(self, path, **kw):
        return self.http.patch(path, **kw)

    def delete(self, path, **kw):
        return self.http.delete(path, **kw)

    def add_user(self, name, role="user", limits=None):
        """As an admin: a new user; the client that acts as them."""
        r = self.post("/queue/v1/users", json={"name": name, "role": role, "limits": limits})
        assert r.status_code == 201, r.text
        client = self.as_user(r.json()["key"])
        client.every = 0.02 if role == "admin" else 0.25
        return client

    def submit(self, payload, kind="txt2img"):
        r = self.post(f"/queue/v1/{kind}", json=payload)
        assert r.status_code == 202, r.text
        return r.json()["task_id"]

    def refuses(self, payload, field, kind="txt2img"):
        """Submitting `payload` answers 422 naming `field`, and queues nothing."""
        count = lambda: self.get("/queue/v1/tasks", params={"all": "true"}).json()["count"]  # noqa: E731
        before = count()
        r = self.post(f"/queue/v1/{kind}", json=payload)
        assert r.status_code == 422, r.text
        assert field in [".".join(str(p) for p in e["loc"][1:]) for e in r.json()["detail"]], r.text
        assert count() == before

    def task(self, task_id):
        r = self.get(f"/queue/v1/tasks/{task_id}")
        assert r.status_code == 200, r.text
        return r.json()

    def wait(self, task_id, until=FINAL, timeout=600, every=None):
        """Poll until the task's status is in `until`: every 20 ms as an admin, every
        250 ms as a user (within their reads a second, so that their page keeps its share)."""
        every = self.every if every is None else every
        deadline = time.monotonic() + timeout
        while True:
            task = self.task(task_id)
            if task["status"] in until:
                return task
            if time.monotonic() > deadline:
                raise AssertionError(f"task {task_id} still {task['status']} after {timeout}s")
            time.sleep(every)

    def image(self, task, index=0):
        r = self.get(task["images"][index])
        assert r.status_code == 200 and r.headers["content-type"] == "image/png", r.text
        return Image.open(io.BytesIO(r.content))

    def options(self):
        return self.get("/sdapi/v1/options").json()

    def set_options(self, **values):
        r = self.post("/sdapi/v1/options", json=values)
        assert r.status_code == 200, r.text


def model_hash(infotext):
    """webui's infotext says `Model hash: <10 hex digits>`."""
    for part in infotext.split("\n")[-1].split(", "):
        if part.startswith("Model hash: "):
            return part[len("Model hash: "):]
    return None


def native_images(response):
    body = response.json()
    images = [Image.open(io.BytesIO(base64.b64decode(b))) for b in body["images"]]
    return images, json.loads(body["info"])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


MODE_ENV = "TASK_QUEUE_STANDIN"  # which host the stand-in plays: "webui" (default) or "forge"
MODE_ARGS = {"webui": [], "forge": ["--forge"]}


def standin_mode():
    mode = os.environ.get(MODE_ENV) or "webui"
    if mode not in MODE_ARGS:
        raise ValueError(f"{MODE_ENV}={mode!r}: one of {sorted(MODE_ARGS)}")
    return mode


class StandIn:
    """The stand-in webui with this extension, as its own process, on loopback."""

    def __init__(self, folder, step_seconds=0.05, checkpoints=("modelA", "modelB"), extra_args=(), admin_key=None,
                 redis_url=None, redis_prefix=None, box=None):
        """`admin_key`: start with users, one admin "admin" with this key (as
        `nox -s demo -- --admin-key KEY` does); None: open mode."""
        self.folder = str(folder)
        self.admin_key = admin_key
        self.ckpt_dir = os.path.join(self.folder, "models")
        self.data_dir = os.path.join(self.folder, "data")
        self.step_seconds, self.extra_args = step_seconds, list(extra_args) + MODE_ARGS[standin_mode()]
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None
        # on Redis (`redis_url` or TASK_QUEUE_REDIS_URL), each stand-in has a queue of its
        # own, kept across its restarts; several (boxes) share one with `redis_prefix`
        self.env = dict(os.environ)
        redis_url = redis_url or os.environ.get(REDIS_URL_ENV)
        if redis_url:
            self.env[REDIS_URL_ENV] = redis_url
            self.env[REDIS_PREFIX_ENV] = redis_prefix or f"standin-{uuid.uuid4().hex[:12]}:"
        if box:  # where the other boxes reach it: its own port
            self.env[BOX_ENV], self.env[BOX_URL_ENV] = box, self.url
        os.makedirs(self.ckpt_dir, exist_ok=True)
        os.makedirs(self.data_dir, exist_ok=True)
        sys.path.insert(0, STANDIN) if STANDIN not in sys.path else None
        from checkpoints import make_checkpoint, make_loras_and_embeddings

        self.hashes = {name: make_checkpoint(os.path.join(self.ckpt_dir, f"{name}.safetensors"), seed=i)
                       for i, name in enumerate(checkpoints)}
        make_loras_and_embeddings(self.data_dir)

    def start(self, timeout=60):
        if self.admin_key:
            add_admin(os.path.join(self.data_dir, "task-queue"), self.admin_key, env=self.env)
        self.log = open(os.path.join(self.folder, "server.log"), "ab")
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(STANDIN, "server.py"), "--port", str(self.port),
             "--ckpt-dir", self.ckpt_dir, "--data-dir", self.data_dir, "--extension-dir", ROOT,
             "--step-seconds", str(self.step_seconds), *self.extra_args],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True, env=self.env,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"stand-in exited: see {self.log.name}")
            try:
                if httpx.get(self.url + "/queue/v1/health", timeout=1).status_code in (200, 401):
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("stand-in did not come up")

    def kill(self):
        """Like a crash or a power cut: no cleanup runs."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        if getattr(self, "log", None):
            self.log.close()

    def client(self):
        return QueueClient(self.url, real=False, key=self.admin_key)


def add_admin(queue_dir, key, name="admin", env=None):
    """The owner's command line, as before webui starts: an admin with this key
    (kept when it exists already, as on a restart)."""
    out = subprocess.run(
        [sys.executable, "-m", "webui_taskqueue", "--dir", queue_dir, "users", "add", name, "--admin", "--key", key],
        capture_output=True, text=True, env=dict(env or os.environ, PYTHONPATH=os.path.join(ROOT, "extension")),
    )
    assert out.returncode == 0 or "exists" in out.stderr, out.stderr
