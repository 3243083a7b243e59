"""The contract suite runs over real HTTP against a webui with this extension.

By default that is the stand-in webui (tests/standin), started here on loopback with
two checkpoint files. With TASK_QUEUE_WEBUI_URL set (e.g. http://127.0.0.1:7860) the
same tests run against that real webui instead; tests that need to kill and restart
the server, or to tune the stand-in, run on the stand-in only and skip otherwise."""

import os

import pytest

from .client import QueueClient, StandIn

URL_ENV = "TASK_QUEUE_WEBUI_URL"


def pytest_report_header(config):
    url = os.environ.get(URL_ENV)
    return f"contract target: {'real webui at ' + url if url else 'stand-in webui (set ' + URL_ENV + ' for a real one)'}"


@pytest.fixture(scope="session")
def target(tmp_path_factory):
    url = os.environ.get(URL_ENV)
    if url:
        yield QueueClient(url.rstrip("/"), real=True)
        return
    server = StandIn(tmp_path_factory.mktemp("standin"), step_seconds=0.05)
    server.start()
    try:
        yield QueueClient(server.url, real=False)
    finally:
        server.stop()


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
