"""A multi-user task queue for stable-diffusion-webui.

One folder per concern; each folder's docstring says what it holds and which folders it
may import (tests/test_layers.py holds them to it). From the bottom up:

    records     the vocabulary: tasks, queued records, checkpoints, users, errors
    intake      checking a request before anything is queued
    host        the boundary with webui and Forge (the only code that imports them)
    store       tasks, results, people and events: memory, SQLite, Redis
    scheduling  whose turn: the policy, its plan, speeds, read-ahead
    running     the worker, progress, failures in a row
    people      keys, logins, accounts, the owner's command line
    push        event streams and webhooks
    boxes       several boxes on one queue
    service     what a caller may do, apart from HTTP
    api         the routes, their schemas, webui's own API (doors)
    runtime     start and stop inside webui: settings and wiring

Importing this package has no side effects: nothing opens a database or starts a
thread until `runtime.lifecycle.start()` is called by the entry script.
"""

__version__ = "0.1.0"
