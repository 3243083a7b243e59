"""Browser tests of the page at /queue/: Debian's chromium driven by Playwright for Python,
against the stand-in webui (tests/standin) through the real HTTP API.

Run with `nox -s e2e` (or `pytest -q tests/e2e` with playwright installed). They skip when
chromium is not at /usr/bin/chromium (override with E2E_CHROMIUM) or playwright is
missing. Screenshots go to tests/artifacts/ (git-ignored)."""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
ROOT = os.path.dirname(TESTS)
ARTIFACTS = os.path.join(TESTS, "artifacts")
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

from contract.client import QueueClient, StandIn  # noqa: E402

from browser import browser, expect, skip_unless_ready  # noqa: E402,F401 (a fixture; expect: for the tests)

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 380, "height": 800}


def pytest_runtest_setup(item):
    """Skip before any stand-in server is started (fail where browsers are required)."""
    skip_unless_ready()


@pytest.fixture
def start_server(tmp_path):
    """Stand-in webui processes owned by one test; stopped at its end."""
    servers = []

    def start(step_seconds=0.05, **kw):
        server = StandIn(tmp_path / f"server{len(servers)}", step_seconds=step_seconds, **kw)
        servers.append(server)
        server.start()
        # live previews at every step, so that a short task shows some
        server.client().set_options(show_progress_every_n_steps=1)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def server(start_server):
    return start_server(step_seconds=0.05)


@pytest.fixture
def api(server):
    return QueueClient(server.url, real=False)


class UI:
    """The page and the few things every scenario does on it."""

    def __init__(self, page, url):
        self.page, self.url = page, url
        self.errors = []  # uncaught exceptions and console errors other than failed requests
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on("console", self._console)

    def _console(self, msg):
        # a 4xx/5xx or refused fetch is logged by chromium itself; the page handles those
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            self.errors.append(f"console: {msg.text}")

    def open(self, view=""):
        self.page.goto(f"{self.url}/queue/{'#' + view if view else ''}")
        self.page.wait_for_function("document.querySelector('#f-checkpoint option')?.value !== ''")
        return self

    def fill(self, **fields):
        for name, value in fields.items():
            self.page.fill(f"#f-{name}", str(value))

    def submit(self, expect_status=202, **fields):
        """Fill and send the form; the server's answer (task_id for a 202)."""
        self.fill(**fields)
        with self.page.expect_response(lambda r: r.request.method == "POST" and "/queue/v1/" in r.url) as found:
            self.page.click("#submit-button")
        response = found.value
        assert response.status == expect_status, response.text()
        return response.json()

    def card(self, task_id):
        return self.page.locator(f'li.task[data-task-id="{task_id}"]')

    def shot(self, name, full_page=True):
        os.makedirs(ARTIFACTS, exist_ok=True)
        path = os.path.join(ARTIFACTS, f"{name}.png")
        self.page.screenshot(path=path, full_page=full_page)
        return path


@pytest.fixture
def make_ui(browser):
    """make_ui(url, viewport=...) -> a UI in a fresh browser context (own localStorage).
    At the end, any uncaught exception or console error on the page fails the test."""
    contexts, uis = [], []

    def make(url, viewport=DESKTOP):
        context = browser.new_context(viewport=viewport)
        contexts.append(context)
        ui = UI(context.new_page(), url)
        uis.append(ui)
        return ui

    yield make
    for context in contexts:
        context.close()
    for ui in uis:
        assert not ui.errors, ui.errors


@pytest.fixture
def ui(make_ui, server):
    return make_ui(server.url)
