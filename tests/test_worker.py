"""The worker and the webui boundary, in-process on the stand-in webui: run_once is
called directly, no thread and no HTTP."""

import os
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # makes `standin` importable

import standin  # noqa: E402
from standin import checkpoints  # noqa: E402
from modules import sd_models, shared  # noqa: E402

from webui_taskqueue.runtime import lifecycle as runtime  # noqa: E402
from webui_taskqueue.store.images import ImageStore  # noqa: E402
from webui_taskqueue.store.sqlite.store import SQLiteStore  # noqa: E402
from webui_taskqueue.records.tasks import Task, TaskStatus, TaskType  # noqa: E402
from webui_taskqueue.host.webui import WebuiHost  # noqa: E402
from webui_taskqueue.scheduling.planner import Planner  # noqa: E402
from webui_taskqueue.scheduling.policy import Policy  # noqa: E402
from webui_taskqueue.running.worker import EXTERNAL_INTERRUPT, Worker  # noqa: E402


@pytest.fixture
def setup(tmp_path, request):
    ckpt_dir = tmp_path / "models" / "Stable-diffusion"
    hashes = {n: checkpoints.make_checkpoint(str(ckpt_dir / f"{n}.safetensors"), s) for s, n in [(1, "a"), (2, "b")]}
    checkpoints.make_vae(str(tmp_path / "models" / "VAE" / "other.safetensors"), 3)
    flags = getattr(request, "param", {})
    standin.boot(str(ckpt_dir), str(tmp_path / "data"), step_seconds=0.0, **flags)
    store = SQLiteStore(str(tmp_path / "q" / "tasks.sqlite3"))
    host = WebuiHost()
    worker = Worker(store, host, ImageStore(str(tmp_path / "q" / "images")), Planner(store, host, Policy))
    yield worker, hashes
    store.close()


def add(worker, task_id, checkpoint, **params):
    task = Task(task_id=task_id, type=TaskType.TXT2IMG, owner="ann", checkpoint=checkpoint,
                vae=params.pop("vae", None),
                params={"prompt": "a house", "steps": 3, "width": 64, "height": 64, "seed": 1, **params},
                created_at=time.time(), sort_order=time.time())
    worker.store.add(task)
    return task


def model_hash(task):
    return task.infotexts[0].split("Model hash: ")[1].split(",")[0]


def test_nothing_queued_runs_nothing(setup):
    worker, _ = setup
    assert worker.run_once() is None


def test_tasks_run_first_come_first_served_on_their_own_checkpoint(setup):
    worker, hashes = setup
    add(worker, "1", "b")
    add(worker, "2", "a")
    first, second = worker.run_once(), worker.run_once()
    assert (first.task_id, second.task_id) == ("1", "2")
    assert first.status == second.status == TaskStatus.DONE
    assert (model_hash(first), model_hash(second)) == (hashes["b"], hashes["a"])
    assert first.process_started_at <= first.process_finished_at <= second.process_started_at
    assert os.path.isfile(worker.images.path("1", "0.png"))


def test_a_task_never_changes_the_default_model_and_its_model_stays_loaded(setup):
    worker, hashes = setup
    default = shared.opts.data["sd_model_checkpoint"]
    add(worker, "1", "b")
    assert worker.run_once().status == TaskStatus.DONE
    assert shared.opts.data["sd_model_checkpoint"] == default
    assert sd_models.model_data.sd_model.sd_checkpoint_info.name == "b.safetensors"  # no reload to restore


def test_a_setting_changed_during_a_task_is_kept(setup):
    worker, _ = setup
    shared.cmd_opts.step_seconds = 0.01
    add(worker, "1", "b", steps=30, override_settings={"CLIP_stop_at_last_layers": 2})

    def change_during_sampling():
        while shared.state.sampling_step < 5:
            time.sleep(0.001)
        shared.opts.data.update(CLIP_stop_at_last_layers=3)  # someone in webui's Settings

    changer = threading.Thread(target=change_during_sampling)
    changer.start()
    assert worker.run_once().status == TaskStatus.DONE
    changer.join()
    assert shared.opts.data["CLIP_stop_at_last_layers"] == 3


def test_a_failing_task_fails_alone(setup):
    worker, _ = setup
    add(worker, "bad", "a", prompt="nan")
    add(worker, "good", "a")
    bad, good = worker.run_once(), worker.run_once()
    assert bad.status == TaskStatus.FAILED and "NaN" in bad.error and bad.images == []
    assert good.status == TaskStatus.DONE


def test_a_checkpoint_gone_since_submission_fails_the_task_instead_of_using_another(setup):
    worker, _ = setup
    add(worker, "1", "b")
    sd_models.checkpoint_aliases.clear()
    sd_models.checkpoints_list.clear()
    task = worker.run_once()
    assert task.status == TaskStatus.FAILED and "no longer known" in task.error


def test_vae_override_is_used_and_the_global_setting_restored(setup):
    worker, _ = setup
    shared.opts.data["sd_vae"] = "Automatic"
    add(worker, "1", "a", vae="other.safetensors")
    task = worker.run_once()
    assert task.status == TaskStatus.DONE and "VAE: other" in task.infotexts[0]
    assert shared.opts.data["sd_vae"] == "Automatic"


@pytest.mark.parametrize("setup", [{"freeze_settings": True}], indirect=True)
def test_frozen_settings_allow_the_configured_model_and_refuse_others_clearly(setup):
    worker, hashes = setup
    add(worker, "same", "a")
    add(worker, "other", "b")
    same, other = worker.run_once(), worker.run_once()
    assert same.status == TaskStatus.DONE and model_hash(same) == hashes["a"]
    assert other.status == TaskStatus.FAILED and "--freeze-settings" in other.error


def test_an_interrupt_from_outside_the_queue_is_recorded_as_such(setup):
    worker, _ = setup
    shared.cmd_opts.step_seconds = 0.01
    add(worker, "1", "a", steps=100)
    threading.Timer(0.2, shared.state.interrupt).start()
    task = worker.run_once()
    assert task.status == TaskStatus.INTERRUPTED and task.error == EXTERNAL_INTERRUPT
    assert len(task.images) == 1  # webui's partial image


def test_interrupt_reaches_only_the_running_task(setup):
    worker, _ = setup
    shared.cmd_opts.step_seconds = 0.01
    add(worker, "1", "a", steps=100)
    add(worker, "2", "a")
    assert worker.interrupt("1") is False  # queued, not running: the service cancels instead
    asked = []
    threading.Timer(0.2, lambda: asked.append(worker.interrupt("1"))).start()
    first = worker.run_once()
    assert asked == [True] and first.status == TaskStatus.INTERRUPTED and first.error is None
    assert worker.run_once().status == TaskStatus.DONE
    assert worker.interrupt("1") is False


def test_start_is_idempotent_per_app_and_stop_leaves_no_worker(setup, tmp_path):
    from fastapi import FastAPI

    shared.opts.data["task_queue_dir"] = str(tmp_path / "runtime")
    app, again = FastAPI(), FastAPI()
    try:
        first = runtime.start(app, WebuiHost())
        routes = len(app.router.routes)
        assert runtime.start(app, WebuiHost()) is first and len(app.router.routes) == routes
        assert "/queue/v1/txt2img" in app.openapi()["paths"]
        assert runtime.start(again, WebuiHost()) is first  # a rebuilt app gets the same queue
        assert "/queue/v1/txt2img" in again.openapi()["paths"]
        assert sum(t.name == "task-queue-worker" for t in threading.enumerate()) == 1
    finally:
        runtime.stop()
    assert sum(t.name == "task-queue-worker" for t in threading.enumerate()) == 0
    second = runtime.start(FastAPI(), WebuiHost())
    try:
        assert second is not first and second.worker.is_alive()
    finally:
        runtime.stop()


def test_while_a_tasks_images_are_saved_it_still_runs_complete_and_an_interrupt_is_taken(setup, monkeypatch):
    worker, _ = setup
    add(worker, "1", "a", steps=4)
    seen, save = [], worker.images.save

    def slow_save(task_id, *args, **kwargs):  # the window between the job's end and `done`
        seen.append((worker.progress(task_id), worker.interrupt(task_id), worker.store.get(task_id).status))
        return save(task_id, *args, **kwargs)

    monkeypatch.setattr(worker.images, "save", slow_save)
    done = worker.run_once()
    (progress, interrupted, status), = seen
    assert status == TaskStatus.RUNNING and interrupted is True
    assert (progress.step, progress.steps, progress.fraction) == (4, 4, 1.0)
    assert done.status == TaskStatus.DONE  # nothing was left to stop
