"""`nox -s demo -- [--port 7860] [--step-seconds 0.2] [--data DIR] [--admin-key KEY]
[--redis URL --box NAME]`: the stand-in webui with this extension and two small
checkpoints, on 127.0.0.1, in the foreground. With --admin-key the queue has users: an
admin named "admin" with that key, who can make more users over HTTP (POST
/queue/v1/users). With --redis the queue is in that Redis, shared with every demo box
started with the same URL (each with its own --box, --port and --data)."""

import argparse
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
STANDIN = os.path.join(HERE, "standin")
sys.path.insert(0, STANDIN)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "extension"))

from checkpoints import make_checkpoint, make_loras_and_embeddings  # noqa: E402
from webui_taskqueue.people import cli  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--step-seconds", type=float, default=0.2, help="time each sampling step takes")
    parser.add_argument("--data", default=None, help="folder kept between runs (default: a new temporary one)")
    parser.add_argument("--admin-key", default=None, help="start with users: an admin named 'admin' with this key")
    parser.add_argument("--redis", default=None, help="a Redis URL: the queue several demo boxes share")
    parser.add_argument("--box", default=None, help="this box's name among those sharing the queue")
    args = parser.parse_args()
    box_url = (os.environ.get("TASK_QUEUE_BOX_URL") or f"http://127.0.0.1:{args.port}") if args.redis else None  # where other boxes reach it
    for name, value in (("TASK_QUEUE_REDIS_URL", args.redis), ("TASK_QUEUE_BOX", args.box), ("TASK_QUEUE_BOX_URL", box_url)):
        if value:
            os.environ[name] = value  # read by the command line below and by the server it becomes
    root = args.data or tempfile.mkdtemp(prefix="task-queue-demo-")
    models = os.path.join(root, "models")
    os.makedirs(models, exist_ok=True)
    for seed, name in enumerate(("modelA", "modelB")):
        path = os.path.join(models, f"{name}.safetensors")
        if not os.path.exists(path):
            make_checkpoint(path, seed=seed)
    data = os.path.join(root, "data")
    if not os.path.isdir(os.path.join(data, "embeddings")):
        make_loras_and_embeddings(data)
    if args.admin_key:
        queue_dir = os.path.join(data, "task-queue")
        accounts = cli.Accounts(cli.open_store(queue_dir), user_limits=dict)
        if accounts.store.get_user("admin") is None:
            accounts.create(cli.CLI, "admin", "admin", key=args.admin_key)
        accounts.store.close()
    print(f"demo: http://127.0.0.1:{args.port}/queue/ (API /queue/v1, docs /docs); data in {root}", flush=True)
    os.execv(sys.executable, [
        sys.executable, os.path.join(STANDIN, "server.py"), "--port", str(args.port),
        "--ckpt-dir", models, "--data-dir", data,
        "--extension-dir", os.path.dirname(HERE), "--step-seconds", str(args.step_seconds),
    ])


if __name__ == "__main__":
    main()
