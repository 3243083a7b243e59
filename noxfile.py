"""Test, benchmark and demo sessions.

`nox -s tests` runs every suite that does not need a browser, on both dependency sets
(webui v1.10.1's pins and current releases), each suite where it can fail differently:
the unit tests and the HTTP contract suite on both, the contract suite on Redis with
webui's pins, as Forge and the soak of several boxes with current ones (Forge's kind).
`nox -s e2e` runs the browser tests. The single suites have sessions of their own."""

import os
import time

import nox

nox.options.sessions = ["tests"]
nox.options.reuse_existing_virtualenvs = True

# torch==2.13.0 is a CPU build; an unpinned torch would pull several GB of CUDA wheels.
STANDIN = ["torch==2.13.0", "safetensors", "numpy", "Pillow", "uvicorn", "httpx", "pytest", "hypothesis"]
# the property-based fuzzer over the served OpenAPI document (tests/contract/test_fuzz.py);
# it installs beside either set without moving a pin
FUZZER = ["schemathesis"]
# the Redis store's client (a queue several boxes share); the tests start their own
# redis-server (Debian's package, which .ci/run installs)
REDIS = ["redis"]
# the clients people call webui's API with, whose call sequences the contract suite
# makes (tests/contract/test_own_settings.py)
CLIENTS = ["webuiapi"]
DEPENDENCY_SETS = {
    # what webui v1.10.1 pins (requirements_versions.txt) and what fastapi 0.94 allows
    "webui-1.10.1": ["fastapi==0.94.0", "starlette==0.26.1", "pydantic==1.10.21", "httpx==0.24.1", "Pillow==9.5.0"],
    "current": ["fastapi", "pydantic>=2"],
}
# webui's own page (the stand-in's --page) in gradio as each program pins it
PAGE_SETS = {
    "webui-1.10.1": [*DEPENDENCY_SETS["webui-1.10.1"], "gradio==3.41.2"],
    "forge": ["fastapi==0.104.1", "pydantic==2.8.2", "gradio==4.40.0", "huggingface-hub==0.26.2", "httpx==0.24.1",
              "Pillow==9.5.0", "numpy==1.26.2"],
}
REAL_WEBUI = "TASK_QUEUE_WEBUI_URL"

# name -> (pytest's arguments, environment)
SUITES = {
    "unit": (["tests", "--ignore=tests/contract", "--ignore=tests/e2e", "--ignore=tests/soak", "--ignore=tests/page"], {}),
    "contract": (["tests/contract"], {}),
    # the stand-in's queue in Redis (a redis-server started for the run); the few tests
    # about SQLite itself skip, saying so
    "contract_redis": (["tests/contract"], {"TASK_QUEUE_STANDIN_STORE": "redis"}),
    # the stand-in playing Forge: its loading parameters, set_config, global unload
    # (tests/standin/forge_mode.py)
    "contract_forge": (["tests/contract"], {"TASK_QUEUE_STANDIN": "forge"}),
    # three stand-in boxes on one redis-server: 200 tasks from 3 users, one box killed
    # and Redis restarted while they run; every task accounted for, none run twice
    "soak": (["tests/soak"], {}),
    # the page at /queue/ in Debian's chromium (its own session: playwright)
    "e2e": (["tests/e2e"], {}),
    # webui's own page with logins, in chromium (its own session: gradio as webui or Forge pins it)
    "page": (["tests/page"], {}),
}
# Which suites run on which set. The store, Forge's model handling and the soak do not
# depend on fastapi or pydantic: one set each proves them. Against a real webui
# (TASK_QUEUE_WEBUI_URL), the unit tests and the contract suite only.
PLAN = {
    "webui-1.10.1": ["unit", "contract", "contract_redis"],
    "current": ["unit", "contract", "contract_forge", "soak"],
}


def _install(session, deps, *extra):
    session.install(*STANDIN, *FUZZER, *REDIS, *CLIENTS, *DEPENDENCY_SETS[deps], *extra)


def _suite(session, name):
    """One suite, with its time printed at its end (a run's summary of where time goes)."""
    arguments, env = SUITES[name]
    started = time.monotonic()
    try:
        session.run("pytest", "-q", "--durations=10", *arguments, *session.posargs, env=env)
    finally:
        session.log(f"suite {name}: {time.monotonic() - started:.0f} s")


@nox.session
@nox.parametrize("deps", list(DEPENDENCY_SETS))
def tests(session, deps):
    """Every suite but the browser's, on one dependency set (see PLAN)."""
    _install(session, deps)
    session.run("python", "-c", "import fastapi, pydantic; print('fastapi', fastapi.__version__, 'pydantic', pydantic.VERSION)")
    for name in (["unit", "contract"] if os.environ.get(REAL_WEBUI) else PLAN[deps]):
        _suite(session, name)


@nox.session
def contract_redis(session):
    """The contract suite with the stand-in's queue in Redis, on webui's pins."""
    _install(session, "webui-1.10.1")
    _suite(session, "contract_redis")


@nox.session
def contract_forge(session):
    """The contract suite with the stand-in playing Forge, on the current set (pydantic 2)."""
    _install(session, "current")
    _suite(session, "contract_forge")


@nox.session
def soak(session):
    """Several boxes on one redis-server under faults (tests/soak). About a minute."""
    _install(session, "current")
    _suite(session, "soak")


@nox.session
def bench(session):
    """`nox -s bench -- overhead`: queue vs native on the same host, one run."""
    session.install(*STANDIN, *REDIS, "fastapi", "pydantic>=2")
    names = session.posargs or ["overhead"]
    for name in names:
        session.run("python", os.path.join("tests", "bench", f"{name}.py"))


@nox.session
def demo(session):
    """The stand-in webui with this extension and two small checkpoints:
    `nox -s demo -- --port 7860`."""
    session.install(*STANDIN, *REDIS, "fastapi", "pydantic>=2")
    session.run("python", os.path.join("tests", "demo.py"), *session.posargs)


@nox.session
def e2e(session):
    """Browser tests of the page at /queue/ (tests/e2e): Debian's chromium driven by
    Playwright against the stand-in webui. Needs `apt-get install chromium`; no
    `playwright install`. Skips with a message when /usr/bin/chromium is missing."""
    session.install(*STANDIN, "fastapi", "pydantic>=2", "playwright", "redis")
    _suite(session, "e2e")


@nox.session
@nox.parametrize("gradio", list(PAGE_SETS))
def page(session, gradio):
    """Browser tests of webui's own page shared by logged-in people (tests/page): the
    stand-in's page in gradio 3.41 with webui's pins, or gradio 4 with Forge's."""
    session.install(*STANDIN, *REDIS, *PAGE_SETS[gradio], "playwright")
    session.run("python", "-c", "import gradio; print('gradio', gradio.__version__)")
    _suite(session, "page")
