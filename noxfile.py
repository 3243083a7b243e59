"""Test, benchmark and demo sessions. `nox -s tests` runs the suite on both
dependency sets: webui v1.10.1's pins and current releases."""

import os

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
DEPENDENCY_SETS = {
    # what webui v1.10.1 pins (requirements_versions.txt) and what fastapi 0.94 allows
    "webui-1.10.1": ["fastapi==0.94.0", "starlette==0.26.1", "pydantic==1.10.21", "httpx==0.24.1", "Pillow==9.5.0"],
    "current": ["fastapi", "pydantic>=2"],
}


@nox.session
@nox.parametrize("deps", list(DEPENDENCY_SETS))
def tests(session, deps):
    """Unit and contract tests, once per dependency set (against a real webui as well
    when TASK_QUEUE_WEBUI_URL is set)."""
    session.install(*STANDIN, *FUZZER, *REDIS, *DEPENDENCY_SETS[deps])
    session.run("python", "-c", "import fastapi, pydantic; print('fastapi', fastapi.__version__, 'pydantic', pydantic.VERSION)")
    session.run("pytest", "-q", "tests", "--ignore=tests/e2e", "--ignore=tests/soak", *session.posargs)


@nox.session
@nox.parametrize("deps", list(DEPENDENCY_SETS))
def contract_redis(session, deps):
    """The whole contract suite with the stand-in's queue in Redis (a redis-server
    started for the run); the few tests about SQLite itself skip, saying so."""
    session.install(*STANDIN, *FUZZER, *REDIS, *DEPENDENCY_SETS[deps])
    session.run("pytest", "-q", "tests/contract", *session.posargs, env={"TASK_QUEUE_STANDIN_STORE": "redis"})


@nox.session
@nox.parametrize("deps", list(DEPENDENCY_SETS))
def soak(session, deps):
    """Three stand-in boxes on one redis-server: 200 tasks from 3 users, one box killed
    and Redis restarted while they run; every task accounted for, none run twice
    (tests/soak). About a minute."""
    session.install(*STANDIN, *REDIS, *DEPENDENCY_SETS[deps])
    session.run("pytest", "-q", "tests/soak", *session.posargs)


@nox.session
def contract_forge(session):
    """The contract suite with the stand-in playing Forge (its loading parameters,
    set_config, global unload: tests/standin/forge_mode.py), on the current dependency
    set, which is Forge's kind (pydantic 2)."""
    session.install(*STANDIN, *FUZZER, *REDIS, *DEPENDENCY_SETS["current"])
    session.run("pytest", "-q", "tests/contract", *session.posargs, env={"TASK_QUEUE_STANDIN": "forge"})


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
    session.run("pytest", "-q", "tests/e2e", *session.posargs)
