"""Stopping the queue with webui: runtime.stop (webui's UI reload calls it through
on_script_unloaded) and the signal handlers that call it before webui's own."""

import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # makes `standin` importable

import standin  # noqa: E402
from standin import checkpoints  # noqa: E402
from modules import script_callbacks, shared  # noqa: E402

from webui_taskqueue.runtime import lifecycle as runtime  # noqa: E402
from webui_taskqueue.records.tasks import Task, TaskStatus, TaskType  # noqa: E402
from webui_taskqueue.host.webui import WebuiHost  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "extension")


@pytest.fixture
def webui(tmp_path):
    ckpt_dir = tmp_path / "models" / "Stable-diffusion"
    checkpoints.make_checkpoint(str(ckpt_dir / "a.safetensors"), 1)
    standin.boot(str(ckpt_dir), str(tmp_path / "data"), step_seconds=0.02)
    shared.opts.data["task_queue_dir"] = str(tmp_path / "queue")
    yield tmp_path / "queue"
    runtime.stop()


def add(store, task_id, steps):
    now = time.time()
    store.add(Task(task_id=task_id, type=TaskType.TXT2IMG, owner="ann", checkpoint="a.safetensors",
                   params={"prompt": "a house", "steps": steps, "width": 64, "height": 64, "seed": 1},
                   created_at=now, sort_order=now))


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_ui_reload_interrupts_the_running_task_and_the_next_start_runs_the_queue(webui):
    from fastapi import FastAPI

    standin.load_extension_scripts(ROOT)
    first = runtime.start(FastAPI(), WebuiHost())  # as its app_started callback, without the signal handlers
    add(first.store, "long", steps=500)
    add(first.store, "next", steps=2)
    first.worker.notify()
    wait_for(lambda: first.worker.running_id() == "long" and shared.state.sampling_step > 2)

    began = time.monotonic()
    script_callbacks.script_unloaded_callback()  # webui's UI reload, with the entry script's callbacks
    assert time.monotonic() - began < 2  # the interrupt lands at the next step
    wait_for(lambda: not any(t.name == "task-queue-worker" for t in threading.enumerate()), timeout=2)

    second = runtime.start(FastAPI(), WebuiHost())  # webui starts the scripts again
    stopped = second.store.get("long")
    assert (stopped.status, stopped.error, stopped.images) == (TaskStatus.INTERRUPTED, runtime.STOP_MESSAGE, [])
    wait_for(lambda: second.store.get("next").status == TaskStatus.DONE)
    assert not os.path.exists(webui / "images" / "long")  # what the worker saved for it went at start


def run_python(code):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, PYTHONPATH=PACKAGE))


def test_a_signal_stops_the_queue_then_does_what_it_did_before():
    out = run_python("""
        import os, signal
        from webui_taskqueue.runtime import shutdown
        signal.signal(signal.SIGTERM, lambda s, f: print("webui's handler", flush=True))
        shutdown.install(lambda: print("queue stopped", flush=True))
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGTERM)
        print("exit", flush=True)
    """)
    # stopped once; the handler that was there runs every time; atexit does not stop again
    assert out.stdout.splitlines() == ["queue stopped", "webui's handler", "webui's handler", "exit"], out.stderr


def test_the_default_action_of_a_signal_follows_the_stop():
    out = run_python("""
        import os, signal
        from webui_taskqueue.runtime import shutdown
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        shutdown.install(lambda: print("queue stopped", flush=True))
        os.kill(os.getpid(), signal.SIGTERM)
        print("still alive", flush=True)
    """)
    assert out.returncode == -15 and out.stdout.splitlines() == ["queue stopped"], out.stderr


def test_a_second_signal_while_stopping_goes_straight_on():
    out = run_python("""
        import os, signal, time
        from webui_taskqueue.runtime import shutdown
        def stop():
            print("stopping", flush=True)
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl+C again, while the queue stops
            time.sleep(5)
            print("stopped", flush=True)
        signal.signal(signal.SIGINT, lambda s, f: os._exit(3))  # webui's: quits at once
        shutdown.install(stop)
        os.kill(os.getpid(), signal.SIGINT)
    """)
    assert out.returncode == 3 and out.stdout.splitlines() == ["stopping"], out.stderr


def test_exit_without_a_signal_stops_the_queue():
    out = run_python("""
        from webui_taskqueue.runtime import shutdown
        shutdown.install(lambda: print("queue stopped", flush=True))
        print("main ends", flush=True)
    """)
    assert out.returncode == 0 and out.stdout.splitlines() == ["main ends", "queue stopped"], out.stderr
