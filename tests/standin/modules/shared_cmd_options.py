"""webui's command line flags that the stand-in honours, with webui's defaults."""

import argparse

parser = argparse.ArgumentParser(add_help=False)
parser.add_argument("--data-dir", type=str, default=None)
parser.add_argument("--ckpt-dir", type=str, default=None)
parser.add_argument("--vae-dir", type=str, default=None)
parser.add_argument("--vae-path", type=str, default=None)
parser.add_argument("--ui-settings-file", type=str, default=None)
parser.add_argument("--freeze-settings", action="store_true")
parser.add_argument("--nowebui", action="store_true")
parser.add_argument("--api", action="store_true")
parser.add_argument("--api-auth", type=str, default=None)
parser.add_argument("--gradio-auth", type=str, default=None)
parser.add_argument("--gradio-auth-path", type=str, default=None)
parser.add_argument("--api-log", action="store_true")
parser.add_argument("--no-hashing", action="store_true")
parser.add_argument("--disable-nan-check", action="store_true")
parser.add_argument("--port", type=int, default=None)
parser.add_argument("--api-server-stop", action="store_true")
parser.add_argument("--embeddings-dir", type=str, default=None)  # webui: <data dir>/embeddings
parser.add_argument("--lora-dir", type=str, default=None)  # webui's Lora preload.py: <data dir>/models/Lora
# stand-in only: how long one sampling step takes (the tiny model itself needs ~1 ms)
parser.add_argument("--step-seconds", type=float, default=0.05)
# stand-in only: how long loading a checkpoint takes (a real SD1.5 load is seconds)
parser.add_argument("--load-seconds", type=float, default=0.0)
# stand-in only: behave as Forge (dfdcbab6) where it differs from webui (forge_mode.py)
parser.add_argument("--forge", action="store_true")

cmd_opts = parser.parse_args([])
