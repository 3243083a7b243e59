"""Which store a queue uses: SQLite in the queue's folder (one box), or Redis when a URL
is set (several boxes sharing one queue). The environment wins over Settings, so a box
can be pointed at a shared queue from its start script without touching webui's config;
set to empty, it keeps a box on SQLite whatever Settings say."""

from __future__ import annotations

import os
import secrets
import socket
import sys
from typing import Any, Callable, Dict, Optional, Tuple
from urllib.parse import urlsplit

from .contract import Store
from .redis.store import DEFAULT_PREFIX, RedisStore  # the `redis` package is imported only by a RedisStore
from .sqlite.store import SQLiteStore

URL_ENV = "TASK_QUEUE_REDIS_URL"
PREFIX_ENV = "TASK_QUEUE_REDIS_PREFIX"
BOX_ENV = "TASK_QUEUE_BOX"
PASSWORD_ENV = "TASK_QUEUE_REDIS_PASSWORD"
BOX_URL_ENV = "TASK_QUEUE_BOX_URL"
IMAGES_ENV = "TASK_QUEUE_IMAGES_DIR"

# webui Settings > Task queue: key -> (default, label)
SETTINGS: Dict[str, Tuple[Any, str]] = {
    "task_queue_redis_url": ("", "Redis URL: a queue several boxes share, e.g. redis://host:6379/0, without a password: give it in TASK_QUEUE_REDIS_PASSWORD (empty: SQLite in the folder above; TASK_QUEUE_REDIS_URL wins; restart to apply)"),
    "task_queue_redis_prefix": (DEFAULT_PREFIX, "Redis key prefix: one Redis server can hold several queues (TASK_QUEUE_REDIS_PREFIX wins; restart to apply)"),
    "task_queue_box": ("", "Box name: shown on the tasks this box runs; unique among the boxes sharing a queue (empty: the machine's host name; TASK_QUEUE_BOX wins; restart to apply)"),
    "task_queue_box_alive_seconds": (30, "Seconds a silent box counts as alive: after that it counts as stopped, and the task it ran is marked failed (restart to apply)"),
    "task_queue_box_url": ("", "This box's URL as the other boxes reach it, e.g. http://10.0.0.2:7860: they fetch the images it made from there (TASK_QUEUE_BOX_URL wins; restart to apply)"),
    "task_queue_images_dir": ("", "Images folder that every box shares (a network folder): each box finds every task's images there, none fetched from another box (empty: images in the folder above; TASK_QUEUE_IMAGES_DIR wins; restart to apply)"),
}

Option = Callable[[str, Any], Any]  # (setting key, default) -> value, as Host.option


def unreachable(error: BaseException) -> Optional[str]:
    """Why `error` means the queue's store cannot be reached now (its Redis server is
    away), or None: a request that met it may be tried again later."""
    redis = sys.modules.get("redis")  # imported only by a RedisStore
    if redis is not None and isinstance(error, (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)):
        return f"the queue's Redis server cannot be reached ({error})"
    return None


def redis_settings(option: Option) -> Tuple[str, str]:
    """(Redis URL or "" for SQLite, key prefix). A password is never read from Settings:
    webui shows them on its Settings page and keeps them in config.json as written."""
    url = os.environ[URL_ENV] if URL_ENV in os.environ else option("task_queue_redis_url", "")
    if URL_ENV not in os.environ and urlsplit(str(url or "").strip()).password is not None:
        raise RuntimeError(f"task queue: the Redis URL in Settings > Task queue carries a password, which webui "
                           f"shows on its Settings page and keeps in config.json: remove it from the URL and give "
                           f"it in {PASSWORD_ENV} (or the whole URL in {URL_ENV})")
    prefix = os.environ.get(PREFIX_ENV) or option("task_queue_redis_prefix", DEFAULT_PREFIX) or DEFAULT_PREFIX
    return str(url or "").strip(), str(prefix)


def box_name(option: Option) -> str:
    return os.environ.get(BOX_ENV) or str(option("task_queue_box", "") or "").strip() or socket.gethostname()


def box_url(option: Option) -> str:
    return (os.environ.get(BOX_URL_ENV) or str(option("task_queue_box_url", "") or "")).strip()


def shared_images_dir(option: Option) -> str:
    """The images folder every box shares, or "" (each box keeps its own, in its queue's folder)."""
    return (os.environ.get(IMAGES_ENV) or str(option("task_queue_images_dir", "") or "")).strip()


def box_id(root: str) -> str:
    """This box's lasting id on a shared queue, kept in its queue's folder: restarted after
    a crash, the box is known as itself at once (its name is its own, and it fails the
    task it left running), while another box under the same name is not (store/redis/boxes.py)."""
    path = os.path.join(root, "box-id")
    try:
        with open(path, encoding="utf-8") as f:
            found = f.read().strip()
        if found:
            return found
    except OSError:
        pass
    os.makedirs(root, exist_ok=True)
    found = secrets.token_hex(8)
    with open(path, "w", encoding="utf-8") as f:
        f.write(found)
    return found


def database_path(root: str) -> str:
    return os.path.join(root, "tasks.sqlite3")


def open_store(root: str, option: Option, box: Optional[str] = None) -> Store:
    """`box`: the name of the webui process that runs tasks from it (None: a tool)."""
    url, prefix = redis_settings(option)
    if url:
        return RedisStore(url, prefix, box, alive=max(1.0, float(option("task_queue_box_alive_seconds", 30))),
                          box_url=box_url(option) or None, password=os.environ.get(PASSWORD_ENV) or None,
                          box_id=box_id(root) if box else None)
    return SQLiteStore(database_path(root))
