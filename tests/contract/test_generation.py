"""Submit to done, on the checkpoint each task asked for, beside native webui jobs."""

import threading

from .client import FINAL, model_hash, native_images


def small(**kw):
    # Random-weight checkpoints on a real webui give NaNs (and webui raises) for some
    # prompts and seeds; this one is known to work on both test models.
    return {"prompt": "a house", "steps": 2, "width": 64, "height": 64, "seed": 1, **kw}


def test_submit_returns_at_once_and_the_task_ends_done_with_a_png(target, models):
    title, short_hash = models[0]
    r = target.post("/queue/v1/txt2img", json=small(checkpoint=title))
    assert r.status_code == 202
    accepted = r.json()
    # its place in the queue; or running, when a free worker took it in that moment
    assert (accepted["status"] == "queued" and accepted["position"] >= 1
            or accepted["status"] == "running" and accepted["position"] is None), accepted
    task = target.wait(accepted["task_id"])
    assert task["status"] == "done", task
    assert task["checkpoint"] == target.task(accepted["task_id"])["checkpoint"]
    assert task["owner"] and task["created_at"].endswith("Z") and task["finished_at"]
    assert len(task["images"]) == 1 and len(task["infotexts"]) == 1
    image = target.image(task)
    assert image.size == (64, 64)
    assert image.info["parameters"] == task["infotexts"][0]  # webui's infotext in the PNG
    assert model_hash(task["infotexts"][0]) == short_hash or short_hash is None
    assert task["params"]["prompt"] == "a house"


def test_checkpoint_by_short_hash_and_default(target, models):
    first = target.wait(target.submit(small(checkpoint=models[1][0])))
    hash_b = model_hash(first["infotexts"][0])
    by_hash = target.wait(target.submit(small(checkpoint=hash_b)))
    assert by_hash["status"] == "done" and model_hash(by_hash["infotexts"][0]) == hash_b
    default = target.wait(target.submit(small()))
    assert default["status"] == "done" and default["checkpoint"]


def test_three_submitters_interleaving_two_checkpoints_get_their_own_model(target, models):
    # learn each checkpoint's hash from an image made on it (titles gain the hash on first load)
    hashes = {}
    for title, _ in models:
        task = target.wait(target.submit(small(checkpoint=title)))
        hashes[title] = model_hash(task["infotexts"][0])
    assert len(set(hashes.values())) == 2
    per_user = 4
    submitted, lock = [], threading.Lock()

    def submitter(n):
        for i in range(per_user):
            title = models[(n + i) % 2][0]
            task_id = target.submit(small(checkpoint=title, comments={"user": n, "image": i}))
            with lock:
                submitted.append((task_id, title))

    threads = [threading.Thread(target=submitter, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wrong = []
    for task_id, title in submitted:
        task = target.wait(task_id)
        assert task["status"] == "done", task
        if model_hash(task["infotexts"][0]) != hashes[title]:
            wrong.append((task_id, title, task["infotexts"][0]))
    assert wrong == [] and len(submitted) == 3 * per_user


def test_native_jobs_mixed_in_are_serialized_and_leave_our_models_alone(target, models):
    default_before = target.options()["sd_model_checkpoint"]
    hashes = {t: model_hash(target.wait(target.submit(small(checkpoint=t)))["infotexts"][0]) for t, _ in models}
    _, info = native_images(target.post("/sdapi/v1/txt2img", json=small()))
    default_hash = model_hash(info["infotexts"][0])
    ours = [target.submit(small(checkpoint=models[i % 2][0])) for i in range(4)]
    native_results = []

    def native():
        r = target.post("/sdapi/v1/txt2img", json=small())
        native_results.append(r)

    threads = [threading.Thread(target=native) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, task_id in enumerate(ours):
        task = target.wait(task_id)
        assert task["status"] == "done"
        assert model_hash(task["infotexts"][0]) == hashes[models[i % 2][0]]
    for r in native_results:
        assert r.status_code == 200, r.text
        _, info = native_images(r)
        assert model_hash(info["infotexts"][0]) == default_hash  # the global default, not ours
    assert target.options()["sd_model_checkpoint"] == default_before


def test_our_tasks_never_change_webuis_default_model(target, models):
    before = target.options()["sd_model_checkpoint"]
    for title, _ in reversed(models):
        assert target.wait(target.submit(small(checkpoint=title)))["status"] == "done"
        assert target.options()["sd_model_checkpoint"] == before


def base_name(title):
    return title.split(" [")[0]


def test_the_model_a_task_used_stays_loaded(target, models):
    default = base_name(target.options()["sd_model_checkpoint"])
    other = next(t for t, _ in models if base_name(t) != default)
    target.wait(target.submit(small(checkpoint=other)))
    assert base_name(target.get("/queue/v1/checkpoints").json()["loaded"]) == base_name(other)


def test_img2img_runs_on_its_checkpoint(target, models):
    import base64
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(out, format="PNG")
    payload = small(checkpoint=models[1][0], init_images=[base64.b64encode(out.getvalue()).decode()],
                    denoising_strength=0.5)
    task = target.wait(target.submit(payload, kind="img2img"))
    assert task["status"] == "done", task
    assert task["type"] == "img2img" and target.image(task).size == (64, 64)
    assert task["params"]["init_images"][0].startswith("<base64 image")


def test_webuis_options_name_the_default_model_while_a_task_runs_on_another(target, models):
    default = target.options()["sd_model_checkpoint"]
    other, other_hash = next((t, h) for t, h in models if base_name(t) != base_name(default))
    task_id = target.submit(small(checkpoint=other, steps=20))
    seen = []
    while True:
        task = target.task(task_id)
        if task["status"] in FINAL:
            break
        if task["status"] == "running" and (task.get("progress") or {}).get("step", 0) >= 1:
            seen.append(target.options()["sd_model_checkpoint"])  # sampling: the task's model is in use
    assert seen, "the task ended before it could be watched while sampling"
    assert set(seen) == {default}
    assert task["status"] == "done" and (model_hash(task["infotexts"][0]) == other_hash or other_hash is None)
    assert target.options()["sd_model_checkpoint"] == default


def test_an_img2img_tasks_poll_carries_no_image_and_its_input_comes_back_byte_for_byte(target, models):
    import base64
    import io
    import os

    from PIL import Image

    out = io.BytesIO()
    Image.frombytes("RGB", (200, 200), os.urandom(200 * 200 * 3)).save(out, format="PNG")  # ~120 KB, noise
    sent = out.getvalue()
    task_id = target.submit(small(init_images=[base64.b64encode(sent).decode()], denoising_strength=0.5,
                                  checkpoint=models[0][0]), kind="img2img")
    polled = target.get(f"/queue/v1/tasks/{task_id}")
    assert len(polled.content) < 8000
    assert polled.json()["params"]["init_images"] == [f"<base64 image, {len(base64.b64encode(sent))} chars>"]
    assert target.get(polled.json()["inputs"][0]).content == sent
    done = target.wait(task_id)
    assert done["status"] == "done" and target.image(done).size == (64, 64)
