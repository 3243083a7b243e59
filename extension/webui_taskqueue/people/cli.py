"""The owner's command line: manage users and keys, with webui running or stopped.

    cd extensions/<this extension>/extension
    python -m webui_taskqueue users add alice [--admin]
    python -m webui_taskqueue users list
    python -m webui_taskqueue users rotate alice [--key PREFIX]
    python -m webui_taskqueue users revoke alice [--key PREFIX]
    python -m webui_taskqueue users set-limits alice --max-queued 5 --checkpoints "modelA,modelB"
    python -m webui_taskqueue users set-role alice admin

It finds the queue's database the way webui does (webui's folder, and Settings > Task
queue > Folder in its config.json); `--dir` or TASK_QUEUE_DIR says it outright. A queue
on Redis (Settings > Task queue > Redis URL, or TASK_QUEUE_REDIS_URL) is found the same
way. Needs nothing beyond the standard library (and `redis` for a queue on Redis)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Dict, List, Optional

from ..records.errors import PayloadError
from ..records.users import LIMIT_NAMES
from ..store.choose import open_store as open_configured
from ..store.contract import Store
from .accounts import CLI, AccountConflict, Accounts, UnknownUser
from .auth import Forbidden

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def webui_root() -> Optional[str]:
    """webui's folder: the one above the `extensions` folder this copy is in (the working
    directory counts too: a symlinked extension resolves to its target); None if none."""
    for start in (PACKAGE_DIR, os.environ.get("PWD") or os.getcwd()):
        folder = start
        while os.path.dirname(folder) != folder:
            parent = os.path.dirname(folder)
            if os.path.basename(parent) == "extensions" and os.path.isfile(os.path.join(os.path.dirname(parent), "launch.py")):
                return os.path.dirname(parent)
            folder = parent
    return None


def queue_dir() -> str:
    """Where webui keeps the queue: <webui>/task-queue, or the folder its settings name."""
    webui = webui_root()
    if webui is None:
        raise SystemExit("cannot tell where webui keeps the queue (this copy is not in webui's extensions "
                         "folder): pass --dir, or set TASK_QUEUE_DIR")
    return _config(webui).get("task_queue_dir") or os.path.join(webui, "task-queue")


def _config(webui: str) -> Dict[str, Any]:
    try:
        with open(os.path.join(webui, "config.json"), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def open_store(folder: str, webui: Optional[str] = None) -> Store:
    """The queue's store as webui opens it: SQLite in `folder`, or Redis when a URL is
    set (the environment, or webui's settings when `webui` is given)."""
    config = _config(webui) if webui else {}
    return open_configured(folder, lambda name, default: config.get(name) or default)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m webui_taskqueue", description="Manage the task queue's users and keys.")
    p.add_argument("--dir", default=os.environ.get("TASK_QUEUE_DIR"), help="the queue's folder (holds tasks.sqlite3)")
    users = p.add_subparsers(dest="group", required=True).add_parser("users", help="users and API keys")
    sub = users.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add", help="make a user and print their first key")
    add.add_argument("name")
    add.add_argument("--admin", action="store_true", help="role admin (default: user)")
    add.add_argument("--key", help="use this key instead of a random one (at least 16 characters)")
    sub.add_parser("list", help="users, roles, key prefixes, limits, usage")
    rotate = sub.add_parser("rotate", help="print a new key and revoke the old one(s)")
    rotate.add_argument("name")
    rotate.add_argument("--key", metavar="PREFIX", help="revoke only this key (default: all of the user's keys)")
    revoke = sub.add_parser("revoke", help="revoke a user (or one of their keys)")
    revoke.add_argument("name")
    revoke.add_argument("--key", metavar="PREFIX", help="revoke only this key, keep the user")
    limits = sub.add_parser("set-limits", help="set a user's limits ('default' falls back to Settings)")
    limits.add_argument("name")
    for name in LIMIT_NAMES:
        limits.add_argument("--" + name.replace("_", "-"), dest=name, metavar="N" if name != "checkpoints" else "A,B")
    role = sub.add_parser("set-role", help="make a user an admin, or a plain user")
    role.add_argument("name")
    role.add_argument("role", choices=["user", "admin"])
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = parser().parse_args(argv)
    folder = args.dir or queue_dir()
    store = open_store(folder, None if args.dir else webui_root())
    accounts = Accounts(store, user_limits=dict)
    try:
        return _run(accounts, args)
    except (PayloadError, AccountConflict, UnknownUser, Forbidden) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    finally:
        store.close()


def _run(accounts: Accounts, args) -> int:
    if args.command == "add":
        made = accounts.create(CLI, args.name, "admin" if args.admin else "user", key=args.key)
        print(f"user {made['name']} ({made['role']}); API key, shown this once:\n{made['key']}")
    elif args.command == "list":
        for view in accounts.list(CLI):
            user = view.user
            keys = ", ".join(k.prefix + "…" for k in view.keys) or "no keys"
            limits = json.dumps(user.limits) if user.limits else "defaults"
            print(f"{user.name}\t{user.role.value}\t{keys}\tlimits: {limits}\t"
                  f"queued {view.usage['queued']}, last hour {view.usage['last_hour']}")
    elif args.command == "rotate":
        old = [args.key] if args.key else [k.prefix for k in accounts.get(CLI, args.name).keys]
        made = accounts.add_key(CLI, args.name)
        for prefix in old:
            accounts.delete_key(CLI, args.name, prefix)
        print(f"new API key for {args.name}, shown this once (revoked: {', '.join(old) or 'none'}):\n{made['key']}")
    elif args.command == "revoke":
        if args.key:
            accounts.delete_key(CLI, args.name, args.key)
            print(f"revoked key {args.key} of {args.name}")
        else:
            cancelled = accounts.delete(CLI, args.name)
            print(f"revoked {args.name}; {len(cancelled)} queued task(s) cancelled")
    elif args.command == "set-limits":
        changes = {name: _limit(name, getattr(args, name)) for name in LIMIT_NAMES if getattr(args, name) is not None}
        view = accounts.update(CLI, args.name, limits=changes)
        print(f"{args.name}: {json.dumps(view.user.limits) if view.user.limits else 'defaults'}")
    elif args.command == "set-role":
        accounts.update(CLI, args.name, role=args.role)
        print(f"{args.name} is now {args.role}")
    return 0


def _limit(name: str, raw: str):
    if raw == "default":
        return None
    if name == "checkpoints":
        return [c.strip() for c in raw.split(",") if c.strip()]
    if not raw.isdigit():
        raise PayloadError([{"loc": ["body", name], "msg": f"--{name.replace('_', '-')} must be a number or 'default'",
                             "type": "value_error"}])
    return int(raw)
