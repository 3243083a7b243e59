"""webui's install hook: installs what requirements.txt names and webui lacks, nothing else.

The Redis client is installed only for a queue on Redis (TASK_QUEUE_REDIS_URL, or
Settings > Task queue > Redis URL in webui's settings file): one box on SQLite needs
nothing webui lacks. The store is chosen at start, so setting the URL and restarting
webui runs this first and installs the client then."""

import json
import os

import launch  # webui's own module, present when webui runs this file

_REQUIREMENTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "requirements.txt")
_IMPORT_NAMES = {"Pillow": "PIL"}


def _redis_url() -> str:
    if "TASK_QUEUE_REDIS_URL" in os.environ:
        return os.environ["TASK_QUEUE_REDIS_URL"].strip()
    try:
        with open(launch.args.ui_settings_file, encoding="utf-8") as f:
            return str(json.load(f).get("task_queue_redis_url") or "").strip()
    except (OSError, ValueError, AttributeError):
        return ""


with open(_REQUIREMENTS, encoding="utf-8") as f:
    wanted = [line.split("#", 1)[0].strip() for line in f]
if _redis_url():
    wanted.append("redis")
for requirement in filter(None, wanted):
    if not launch.is_installed(_IMPORT_NAMES.get(requirement, requirement)):
        launch.run_pip(f"install {requirement}", f"task queue requirement: {requirement}")
