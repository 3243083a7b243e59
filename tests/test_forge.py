"""The Forge boundary, in-process on the stand-in in Forge mode (its loading parameters,
set_config skipping unchanged values, the global unload), and which host runs."""

import json
import os
import sys
import time

import pytest
from fastapi import FastAPI

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # makes `standin` importable

import standin  # noqa: E402
from standin import api, checkpoints  # noqa: E402
from modules import shared  # noqa: E402

from webui_taskqueue.host import choose as hosts
from webui_taskqueue.runtime import lifecycle as runtime  # noqa: E402
from webui_taskqueue.store.images import ImageStore  # noqa: E402
from webui_taskqueue.scheduling.planner import Planner  # noqa: E402
from webui_taskqueue.scheduling.policy import Policy  # noqa: E402
from webui_taskqueue.store.sqlite.store import SQLiteStore  # noqa: E402
from webui_taskqueue.records.tasks import Task, TaskStatus, TaskType  # noqa: E402
from webui_taskqueue.running.worker import Worker  # noqa: E402


@pytest.fixture
def forge(tmp_path):
    ckpt_dir = tmp_path / "models" / "Stable-diffusion"
    hashes = {n: checkpoints.make_checkpoint(str(ckpt_dir / f"{n}.safetensors"), s) for s, n in [(1, "a"), (2, "b")]}
    checkpoints.make_vae(str(tmp_path / "models" / "VAE" / "other.safetensors"), 3)
    standin.boot(str(ckpt_dir), str(tmp_path / "data"), step_seconds=0.0, forge=True)
    host = hosts.select()
    store = SQLiteStore(str(tmp_path / "q" / "tasks.sqlite3"))
    worker = Worker(store, host, ImageStore(str(tmp_path / "q" / "images")), Planner(store, host, Policy))
    yield worker, hashes
    store.close()


def run(worker, checkpoint, **params):
    task = Task(task_id=f"t{time.monotonic_ns()}", type=TaskType.TXT2IMG, owner="ann", checkpoint=checkpoint,
                vae=params.pop("vae", None),
                params={"prompt": "a house", "steps": 2, "width": 64, "height": 64, "seed": 1, "sampler_name": "Euler",
                        **params},
                created_at=time.time(), sort_order=time.time())
    worker.store.add(task)
    done = worker.run_once()
    assert done.status == TaskStatus.DONE, done.error
    return done.infotexts[0]


def native(**payload):
    payload = {"prompt": "a house", "steps": 2, "width": 64, "height": 64, "seed": 1, "sampler_name": "Euler", **payload}
    info = json.loads(api.text2imgapi(payload)["info"])
    return info["infotexts"][0]


def model_hash(infotext):
    return infotext.split("Model hash: ")[1].split(",")[0]


def unloads():
    from backend import memory_management

    return memory_management.unloads


def test_forge_is_detected_from_what_the_process_imported(forge):
    worker, _ = forge
    assert worker.host.name == "forge" and worker.host.refusal is None
    assert type(worker.host).__name__ == "ForgeHost"


def test_each_task_on_its_model_and_native_jobs_on_the_default_with_no_needless_unload(forge):
    worker, hashes = forge
    title = {n: worker.host.resolve_checkpoint(n) for n in hashes}
    assert worker.host.loaded_checkpoint() is None  # Forge loads nothing until the first job
    for name in ["a", "b", "a", "b", "b"]:
        assert model_hash(run(worker, title[name])) == hashes[name]
        assert shared.opts.data["sd_model_checkpoint"] == "a.safetensors"  # Forge's settings name the default
        assert worker.host.loaded_checkpoint() == worker.host.resolve_checkpoint(name)  # until a job needs another
    before = unloads()
    assert model_hash(run(worker, title["b"])) == hashes["b"]
    assert unloads() == before  # the model in memory was the task's: Forge unloaded nothing
    assert model_hash(native()) == hashes["a"]  # Forge's own job: its default, loaded again
    assert model_hash(run(worker, title["a"])) == hashes["a"]
    assert unloads() == before + 1  # the one switch back to a, nothing more


def test_a_hires_task_that_names_no_hires_modules_runs_with_forges_same_choices(forge):
    """Forge's own API fails a hires request without hr_additional_modules; a task runs."""
    worker, hashes = forge
    with pytest.raises(TypeError):
        native(enable_hr=True, hr_scale=1)
    run(worker, worker.host.resolve_checkpoint("a"), enable_hr=True, hr_scale=1)


def test_a_tasks_vae_is_one_of_forges_modules_and_native_jobs_keep_the_checkpoints_own(forge):
    worker, hashes = forge
    assert worker.host.resolve_vae("other.safetensors") == "other.safetensors"
    assert worker.host.resolve_vae("missing.safetensors") is None
    with pytest.raises(ValueError) as refused:
        worker.host.resolve_vae("Automatic")
    assert refused.value.args[0] == "vae"
    title = worker.host.resolve_checkpoint("a")
    plain = native()
    with_vae = run(worker, title, vae="other.safetensors")
    assert model_hash(with_vae) == hashes["a"] and "VAE: other.safetensors" in with_vae and "VAE:" not in plain
    assert shared.opts.data.get("forge_additional_modules") == []  # everyone's modules, untouched
    assert native() == plain  # Forge's own job: the checkpoint's own VAE again
    assert run(worker, title, vae="None") == plain


def test_an_unknown_host_answers_but_runs_nothing_and_says_why(tmp_path):
    kind, seen = hosts.detect({"modules": 1, "ldm_patched": 1})
    assert kind is None and "ldm_patched" in seen
    assert hosts.detect({"modules": 1})[0] == "webui"
    assert hosts.detect({"modules": 1, "modules_forge": 1, "backend": 1})[0] == "forge"
    assert hosts.detect({"modules": 1, "modules_forge": 1})[0] is None  # Forge 1.x: not this backend
    assert hosts.detect({})[0] is None
    ckpt_dir = tmp_path / "models"
    checkpoints.make_checkpoint(str(ckpt_dir / "a.safetensors"), 1)
    standin.boot(str(ckpt_dir), str(tmp_path / "data"), step_seconds=0.0, load_model=False)
    host = hosts.select({**sys.modules, "ldm_patched": sys})
    assert host.name == "unknown" and "unknown host" in host.refusal and "ldm_patched" in host.refusal
    started = runtime.start(FastAPI(), host)
    try:
        health = started.services.queue.health()
        assert not started.worker.is_alive()
        assert health["worker"] == "refused" and health["host_error"] == host.refusal
    finally:
        runtime.stop()
