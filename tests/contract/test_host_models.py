"""Every task on its own model and every native job on the host's default, whatever ran
before, on webui and on Forge alike. Forge loads what its loading parameters name, not
what its options say, and skips a value equal to the options as "nothing to do": a host
boundary that only writes the option back leaves Forge on the last task's model, for
the next tasks and for everyone's native jobs."""

from .client import model_hash, native_images


def small(**kw):
    return {"prompt": "a house", "steps": 2, "width": 64, "height": 64, "seed": 1, **kw}


def native_hash(target, **payload):
    r = target.post("/sdapi/v1/txt2img", json=small(**payload))
    assert r.status_code == 200, r.text
    _, info = native_images(r)
    return model_hash(info["infotexts"][0])


def other_than(models, default):
    base = default.split(" [")[0].rsplit(".", 1)[0]
    return next(t for t, _ in models if t.split(" [")[0].rsplit(".", 1)[0] != base)


def hashes_by_native_jobs(target, titles):
    """Each checkpoint's hash as webui's own API makes images with it (an override,
    restored afterwards)."""
    found = {t: native_hash(target, override_settings={"sd_model_checkpoint": t}) for t in titles}
    assert len(set(found.values())) == len(titles), f"webui's own jobs ran on one model for all: {found}"
    return found


def test_interleaved_tasks_and_native_jobs_each_run_on_their_own_model(target, models):
    default = target.options()["sd_model_checkpoint"]
    other = other_than(models, default)
    hashes = hashes_by_native_jobs(target, [default, other])
    wrong, natives = [], []
    for i in range(6):  # default, other, default, ...: each task after one on the other model
        title = (default, other)[i % 2]
        task = target.wait(target.submit(small(checkpoint=title)))
        assert task["status"] == "done", task
        if model_hash(task["infotexts"][0]) != hashes[title]:
            wrong.append((i, title))
        natives.append(native_hash(target))  # a native job right after each task
        assert target.options()["sd_model_checkpoint"] == default
    assert wrong == [], f"{len(wrong)} of 6 tasks ran on the wrong model: {wrong}"
    assert natives == [hashes[default]] * 6, "native jobs must run on the default model"


def test_after_a_task_on_another_model_the_default_is_the_default_for_everyone(target, models):
    default = target.options()["sd_model_checkpoint"]
    other = other_than(models, default)
    hashes = hashes_by_native_jobs(target, [default, other])
    assert target.wait(target.submit(small(checkpoint=other)))["status"] == "done"
    assert target.options()["sd_model_checkpoint"] == default
    assert native_hash(target) == hashes[default]
    target.set_options(sd_model_checkpoint=default)  # choosing the default again changes nothing
    assert native_hash(target) == hashes[default]
    task = target.wait(target.submit(small()))  # a task without a checkpoint: the default
    assert model_hash(task["infotexts"][0]) == hashes[default]
