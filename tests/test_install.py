"""install.py as webui runs it (a process of its own, webui's `launch` importable): it
installs only what is missing, and the Redis client only for a queue on Redis."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

LAUNCH = '''
import argparse, json, os
args = argparse.Namespace(ui_settings_file=os.environ["FAKE_SETTINGS"])
def is_installed(name):
    return name in json.loads(os.environ["FAKE_INSTALLED"])
def run_pip(command, desc):
    with open(os.environ["FAKE_PIP_LOG"], "a") as f:
        f.write(command + "\\n")
'''


@pytest.fixture
def run(tmp_path):
    """run(installed, settings, env) -> the pip commands install.py ran."""
    (tmp_path / "launch.py").write_text(LAUNCH)

    def go(installed, settings=None, **env):
        settings_file, log = tmp_path / "config.json", tmp_path / "pip.log"
        if settings is not None:
            settings_file.write_text(json.dumps(settings))
        log.write_text("")
        clean = {k: v for k, v in os.environ.items() if k != "TASK_QUEUE_REDIS_URL"}
        subprocess.run([sys.executable, os.path.join(ROOT, "install.py")], check=True, env=dict(
            clean, PYTHONPATH=str(tmp_path), FAKE_SETTINGS=str(settings_file), FAKE_INSTALLED=json.dumps(installed),
            FAKE_PIP_LOG=str(log), **env))
        return log.read_text().splitlines()

    return go


def test_only_missing_requirements_are_installed(run):
    assert run(["fastapi", "pydantic", "PIL"]) == []
    assert run(["fastapi", "PIL"]) == ["install pydantic"]


def test_the_redis_client_is_installed_only_for_a_queue_on_redis(run):
    everything = ["fastapi", "pydantic", "PIL"]
    assert run(everything, {"task_queue_redis_url": ""}) == []
    assert run(everything, {"task_queue_redis_url": "redis://box:6379/0"}) == ["install redis"]
    assert run(everything, TASK_QUEUE_REDIS_URL="redis://box:6379/0") == ["install redis"]
    assert run(everything, {"task_queue_redis_url": "redis://box:6379/0"}, TASK_QUEUE_REDIS_URL="") == []  # env wins
    assert run(everything + ["redis"], TASK_QUEUE_REDIS_URL="redis://box:6379/0") == []
