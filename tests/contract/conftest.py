"""The contract suite runs over real HTTP against a webui with this extension.

By default that is the stand-in webui (tests/standin), started here on loopback with
two checkpoint files and users configured: the suite acts as the admin, and the users
tests add users of their own. With TASK_QUEUE_WEBUI_URL set (e.g. http://127.0.0.1:7860)
the same tests run against that real webui instead, as the admin whose key is in
TASK_QUEUE_ADMIN_KEY (without it: open mode, and the users tests skip); tests that need
to kill and restart the server, or to tune the stand-in, run on the stand-in only and
skip otherwise.

With TASK_QUEUE_STANDIN_STORE=redis the stand-in keeps its queue in Redis: at
TASK_QUEUE_REDIS_URL, or on a redis-server started here for the session."""

import os
import uuid

import pytest

from redis_server import queue_for_standins, require as require_redis

from .client import MODE_ENV, REDIS_URL_ENV, QueueClient, StandIn, standin_mode

URL_ENV = "TASK_QUEUE_WEBUI_URL"
ADMIN_KEY_ENV = "TASK_QUEUE_ADMIN_KEY"
STANDIN_ADMIN_KEY = "tq_contract-admin-key-0123456789"
STORE_ENV = "TASK_QUEUE_STANDIN_STORE"


def pytest_report_header(config):
    url = os.environ.get(URL_ENV)
    if url:
        return f"contract target: real webui at {url}"
    store = os.environ.get(STORE_ENV) or "sqlite"
    return (f"contract target: stand-in, as {standin_mode()} on {store} (set {MODE_ENV}=webui|forge, "
            f"{STORE_ENV}=sqlite|redis; {URL_ENV} for a real one)")


@pytest.fixture(scope="session", autouse=True)
def standin_store(tmp_path_factory):
    """The stand-ins' store: SQLite, or Redis with TASK_QUEUE_STANDIN_STORE=redis (each
    stand-in gets a key prefix of its own: client.StandIn)."""
    store = os.environ.get(STORE_ENV) or "sqlite"
    if store not in ("sqlite", "redis"):
        raise ValueError(f"{STORE_ENV}={store!r}: sqlite or redis")
    if store == "sqlite" or os.environ.get(URL_ENV):
        yield store
        return
    if not os.environ.get(REDIS_URL_ENV):
        require_redis()  # a server of our own is started
    with queue_for_standins(tmp_path_factory.mktemp("redis"), REDIS_URL_ENV):
        yield store


@pytest.fixture(scope="session")
def target(tmp_path_factory):
    url = os.environ.get(URL_ENV)
    if url:
        yield QueueClient(url.rstrip("/"), real=True, key=os.environ.get(ADMIN_KEY_ENV))
        return
    server = StandIn(tmp_path_factory.mktemp("standin"), step_seconds=0.05, admin_key=STANDIN_ADMIN_KEY)
    server.start()
    try:
        yield server.client()
    finally:
        server.stop()


@pytest.fixture(scope="session")
def admin(target):
    """The target as an admin, with users configured."""
    if target.key is None:
        pytest.skip(f"needs users: set {ADMIN_KEY_ENV} to an admin key of the webui at {URL_ENV}")
    return target


@pytest.fixture
def people(admin):
    """Two new users of role user (unique names), as clients: (ann, bob)."""
    tag = uuid.uuid4().hex[:6]
    return admin.add_user(f"ann-{tag}"), admin.add_user(f"bob-{tag}")


@pytest.fixture
def standin_factory(tmp_path):
    """Stand-in servers owned by one test (restart, race); skipped against a real webui."""
    if os.environ.get(URL_ENV):
        pytest.skip(f"needs to start and kill its own server: stand-in only ({URL_ENV} is set)")
    servers = []

    def make(**kw):
        server = StandIn(tmp_path / f"server{len(servers)}", **kw)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def models(target):
    """Two checkpoints (title, short hash) the tests switch between."""
    found = target.get("/queue/v1/checkpoints").json()["data"]
    if len(found) < 2:
        pytest.skip("the contract suite needs a webui with at least two checkpoints")
    return [(c["title"], c["hash"]) for c in found[:2]]
