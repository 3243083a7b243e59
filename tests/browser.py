"""Debian's chromium, driven by Playwright for Python, for every page the tests open
(the queue's at /queue/, webui's own): where it is, how it starts, and why a browser
test would skip."""

import os

import pytest

try:  # test modules take `expect` and `sync_playwright` from here, so that they import without playwright
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - skipped with a message
    expect = sync_playwright = None

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
# keep the browser off the network and quiet: nothing but the server under test
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def missing():
    """Why no browser test can run here, or None."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"browser tests: no chromium at {CHROMIUM} (apt-get install chromium, or set E2E_CHROMIUM)"
    if sync_playwright is None:
        return "browser tests: playwright is not installed (pip install playwright; no `playwright install` needed)"
    return None


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def skip_unless_ready(reason=None):
    """Before a test starts anything: skip saying why no browser test can run (or
    `reason`, another missing part); fail instead where browsers are required
    (E2E_REQUIRED=1, as .ci/run sets it)."""
    reason = missing() or reason
    if reason and os.environ.get("E2E_REQUIRED"):
        pytest.fail(reason)
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    """One chromium for the session (a conftest imports this fixture)."""
    with sync_playwright() as p:
        found = launch(p)
        yield found
        found.close()
