"""The read-ahead thread: it reads what it is asked for, works out a deferred wish on
its own thread, and lets a newer wish win."""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "extension"))

from webui_taskqueue.scheduling.readahead import ReadAhead  # noqa: E402


def settled(readahead, seconds=10.0):
    deadline = time.monotonic() + seconds
    while readahead.last is None and time.monotonic() < deadline:
        time.sleep(0.01)
    return readahead.last


def test_a_deferred_wish_is_worked_out_on_the_read_ahead_thread_and_read_whole(tmp_path):
    path = tmp_path / "model.safetensors"
    path.write_bytes(os.urandom(3 * 1024 * 1024))
    readahead, asked_on = ReadAhead(pause=0, memory=lambda: 10 ** 12), []
    readahead.want(lambda: asked_on.append(threading.current_thread().name) or str(path))
    try:
        assert settled(readahead)["read"] == 3 * 1024 * 1024
        assert asked_on == ["task-queue-readahead"]
    finally:
        readahead.stop()


def test_nothing_is_read_when_the_wish_resolves_to_nothing_or_memory_is_short(tmp_path):
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"x" * 1024)
    readahead = ReadAhead(pause=0, memory=lambda: 10 ** 12)
    readahead.want(lambda: None)
    time.sleep(0.2)
    assert readahead.last is None
    readahead.stop()
    short = ReadAhead(pause=0, memory=lambda: 1024)
    short.want(str(path))
    try:
        assert settled(short)["read"] == 0 and "available" in short.last["skipped"]
    finally:
        short.stop()
