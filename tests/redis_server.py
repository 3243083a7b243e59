"""A real `redis-server` for the tests: started on a free loopback port with a folder of
its own, stopped at the end of the session. Tests that need it skip with a message when
redis-server (or the `redis` package) is not installed, unless TASK_QUEUE_REDIS_REQUIRED
is set (CI), where that is a failure."""

import contextlib
import os
import shutil
import socket
import subprocess
import time
import uuid

import pytest

REQUIRED_ENV = "TASK_QUEUE_REDIS_REQUIRED"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """One redis-server process. `persist`: append-only file on (a restart keeps the data);
    `password`: the server asks for it (requirepass)."""

    def __init__(self, folder, persist=False, password=None):
        self.folder, self.persist, self.password = str(folder), persist, password
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self, timeout=20):
        os.makedirs(self.folder, exist_ok=True)
        self.log = open(os.path.join(self.folder, "redis.log"), "ab")
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.folder,
             "--save", "", "--appendonly", "yes" if self.persist else "no", "--daemonize", "no",
             *(["--requirepass", self.password] if self.password else [])],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited: see {self.log.name}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith((b"+PONG", b"-NOAUTH")):
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not come up")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "log", None):
            self.log.close()


@contextlib.contextmanager
def queue_for_standins(folder, url_env):
    """Inside, stand-ins keep their queue on Redis: at the URL already in `url_env`, else
    on a redis-server started in `folder` (its URL put in `url_env` meanwhile)."""
    if os.environ.get(url_env):
        yield os.environ[url_env]
        return
    server = RedisServer(folder).start()
    os.environ[url_env] = server.url
    try:
        yield server.url
    finally:
        del os.environ[url_env]
        server.stop()


def missing():
    """Why the Redis tests cannot run here, or None."""
    if shutil.which("redis-server") is None:
        return "redis-server is not installed (apt-get install redis-server)"
    try:
        import redis  # noqa: F401
    except ImportError:
        return "the Python package redis is not installed (pip install redis)"
    return None


def require():
    why = missing()
    if why and os.environ.get(REQUIRED_ENV):
        pytest.fail(f"{why}, and {REQUIRED_ENV} is set")
    if why:
        pytest.skip(why)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    require()
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def redis(tmp_path):
    """A redis-server of the test's own (it may be stopped and started again)."""
    require()
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


@pytest.fixture
def boxes_of_one_queue(redis_server):
    """open(box): stores of one queue in Redis (a prefix of its own), as boxes named `box` open it."""
    from webui_taskqueue.store.redis.store import RedisStore

    prefix, opened = f"boxes-{uuid.uuid4().hex[:8]}:", []

    def open_as(box):
        opened.append(RedisStore(redis_server.url, prefix=prefix, box=box))
        return opened[-1]

    yield open_as
    for store in opened:
        store.close()


def redis_store(request):
    """A RedisStore on the session's server under a prefix of its own (an empty queue),
    for a `store` fixture's "redis" parameter: the server starts only when asked for."""
    from webui_taskqueue.store.redis.store import RedisStore

    server = request.getfixturevalue("redis_server")
    return RedisStore(server.url, prefix=f"test-{uuid.uuid4().hex[:12]}:")
