"""The owner's command line finds webui's queue folder by itself."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cwd, *args):
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "extension"), PWD=str(cwd))
    env.pop("TASK_QUEUE_DIR", None)
    return subprocess.run([sys.executable, "-m", "webui_taskqueue", *args], cwd=cwd, env=env,
                          capture_output=True, text=True)


def webui_tree(tmp_path):
    webui = tmp_path / "webui"
    here = webui / "extensions" / "sd-webui-task-queue" / "extension"
    here.mkdir(parents=True)
    (webui / "launch.py").write_text("")
    return webui, here


def test_it_uses_the_folder_beside_webui(tmp_path):
    webui, here = webui_tree(tmp_path)
    out = run(here, "users", "add", "me", "--admin")
    assert out.returncode == 0, out.stderr
    assert (webui / "task-queue" / "tasks.sqlite3").is_file()


def test_it_follows_the_folder_named_in_webui_settings(tmp_path):
    webui, here = webui_tree(tmp_path)
    (webui / "config.json").write_text(json.dumps({"task_queue_dir": str(tmp_path / "elsewhere")}))
    assert run(here, "users", "add", "me").returncode == 0
    assert (tmp_path / "elsewhere" / "tasks.sqlite3").is_file()


def test_outside_webui_it_asks_for_the_folder(tmp_path):
    out = run(tmp_path, "users", "list")
    assert out.returncode != 0 and "--dir" in out.stderr
