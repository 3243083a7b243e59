"""`nox -s demo -- [--port 7860] [--step-seconds 0.2] [--data DIR]`: the stand-in webui
with this extension and two small checkpoints, on 127.0.0.1, in the foreground."""

import argparse
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
STANDIN = os.path.join(HERE, "standin")
sys.path.insert(0, STANDIN)

from checkpoints import make_checkpoint  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--step-seconds", type=float, default=0.2, help="time each sampling step takes")
    parser.add_argument("--data", default=None, help="folder kept between runs (default: a new temporary one)")
    args = parser.parse_args()
    root = args.data or tempfile.mkdtemp(prefix="task-queue-demo-")
    models = os.path.join(root, "models")
    os.makedirs(models, exist_ok=True)
    for seed, name in enumerate(("modelA", "modelB")):
        path = os.path.join(models, f"{name}.safetensors")
        if not os.path.exists(path):
            make_checkpoint(path, seed=seed)
    print(f"demo: http://127.0.0.1:{args.port}/queue/ (API /queue/v1, docs /docs); data in {root}", flush=True)
    os.execv(sys.executable, [
        sys.executable, os.path.join(STANDIN, "server.py"), "--port", str(args.port),
        "--ckpt-dir", models, "--data-dir", os.path.join(root, "data"),
        "--extension-dir", os.path.dirname(HERE), "--step-seconds", str(args.step_seconds),
    ])


if __name__ == "__main__":
    main()
