"""The stand-in webui reproduces the webui v1.10.1 behaviours (and traps) the extension is
designed around; see shared/WEBUI_FACTS.md for what was seen on a real instance."""

import base64
import importlib.metadata
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # makes `standin` importable

import standin  # noqa: E402
from standin import api, checkpoints  # noqa: E402
from modules import call_queue, devices, processing, progress, sd_models, sd_vae, shared  # noqa: E402

STANDIN_SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "standin", "server.py")


@pytest.fixture
def webui(tmp_path):
    """Two checkpoints (a, b) and a VAE; the stand-in booted on a, steps without delay."""
    ckpt_dir = tmp_path / "models" / "Stable-diffusion"
    hashes = {name: checkpoints.make_checkpoint(str(ckpt_dir / f"{name}.safetensors"), seed) for seed, name in [(1, "a"), (2, "b")]}
    hashes["vae"] = checkpoints.make_vae(str(tmp_path / "models" / "VAE" / "other.safetensors"), 3)
    standin.boot(str(ckpt_dir), str(tmp_path / "data"), step_seconds=0.0)
    return hashes


def job(**kwargs):
    params = dict(prompt="a photo of a cat", steps=4, width=64, height=64, seed=1, sampler_name="Euler",
                  do_not_save_samples=True, do_not_save_grid=True, outpath_samples=shared.opts.outdir_txt2img_samples,
                  outpath_grids=shared.opts.outdir_txt2img_grids)
    params.update(kwargs)
    return processing.StableDiffusionProcessingTxt2Img(**params)


def generate(**kwargs):
    p = job(**kwargs)
    try:
        return processing.process_images(p)
    finally:
        p.close()


def infotext_value(processed, key):
    params = processed.infotexts[processed.index_of_first_image].splitlines()[-1]
    return dict(item.split(": ", 1) for item in params.split(", "))[key]


def loaded_name():
    return sd_models.model_data.sd_model.sd_checkpoint_info.name


def title(name):
    return sd_models.checkpoint_aliases[name].title


def pixels(image):
    return image.tobytes()


def colours(image):
    """The distinct colours of an image (works on Pillow 9.5, webui's pin, and on today's)."""
    return {c for _, c in image.getcolors(maxcolors=image.width * image.height)}


def wait_for(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.002)


# ---- checkpoints ------------------------------------------------------------------


def test_title_is_the_name_until_the_first_load_computes_the_hash(webui, tmp_path):
    b = sd_models.checkpoint_aliases["b.safetensors"]
    assert (b.title, b.shorthash, b.sha256) == ("b.safetensors", None, None)
    assert list(sd_models.checkpoints_list) == [f"a.safetensors [{webui['a']}]", "b.safetensors"]

    sd_models.reload_model_weights(info=b)

    assert b.title == f"b.safetensors [{webui['b']}]"
    assert list(sd_models.checkpoints_list) == [f"a.safetensors [{webui['a']}]", b.title]  # order kept
    assert sd_models.checkpoint_aliases["b.safetensors"] is b  # the old title still resolves
    assert sd_models.checkpoint_aliases[webui["b"]] is b

    # the hash is cached in the data dir: a restart lists b with its hashed title at once
    standin.boot(shared.cmd_opts.ckpt_dir, shared.cmd_opts.data_dir, step_seconds=0.0, load_model=False)
    assert sd_models.checkpoint_aliases["b.safetensors"].title == f"b.safetensors [{webui['b']}]"


def test_get_closet_checkpoint_match_as_webui(webui):
    a = sd_models.checkpoint_aliases["a.safetensors"]
    b = sd_models.checkpoint_aliases["b.safetensors"]
    match = sd_models.get_closet_checkpoint_match
    assert match(a.title) is a
    assert match("b.safetensors") is b
    assert match("b") is b  # model_name
    assert match(webui["a"]) is a  # shorthash, known once hashed (a was loaded at boot)
    assert match(webui["b"]) is None  # b not hashed yet
    assert match("b.safetensors [0123456789]") is b  # a wrong checksum is stripped
    assert match("b.safe") is b  # substring of a title
    assert match("c.safetensors") is None
    assert match("") is None


def test_sd_models_api_lists_titles_and_hashes(webui):
    listed = {m["model_name"]: m for m in api.get_sd_models()}
    assert listed["a"]["title"] == f"a.safetensors [{webui['a']}]" and listed["a"]["hash"] == webui["a"]
    assert listed["b"]["title"] == "b.safetensors" and listed["b"]["hash"] is None


# ---- the revert trap and SkipWritingToConfig -------------------------------------------


def test_override_with_restore_leaves_the_override_model_loaded_and_the_next_job_reverts(webui):
    a_title = shared.opts.sd_model_checkpoint
    processed = generate(override_settings={"sd_model_checkpoint": "b.safetensors"})

    assert infotext_value(processed, "Model hash") == webui["b"]
    assert loaded_name() == "b.safetensors"  # b stays loaded...
    assert shared.opts.sd_model_checkpoint == a_title  # ...while opts (and GET options) say a
    assert api.get_config()["sd_model_checkpoint"] == a_title

    processed = generate()  # a job without an override reloads opts' model
    assert infotext_value(processed, "Model hash") == webui["a"]
    assert loaded_name() == "a.safetensors"


def test_override_without_restore_keeps_opts_on_the_override(webui):
    generate(override_settings={"sd_model_checkpoint": "b.safetensors"}, override_settings_restore_afterwards=False)
    assert shared.opts.sd_model_checkpoint == f"b.safetensors [{webui['b']}]"  # set, then retitled by the load
    assert infotext_value(generate(), "Model hash") == webui["b"]


def test_unknown_checkpoint_override_is_dropped_and_opts_model_used(webui):
    p = job(override_settings={"sd_model_checkpoint": "nope.safetensors"})
    processed = processing.process_images(p)
    assert infotext_value(processed, "Model hash") == webui["a"]
    assert "sd_model_checkpoint" not in p.override_settings


def test_reload_model_weights_rewrites_opts_unless_inside_skip_writing_to_config(webui):
    a_title = shared.opts.sd_model_checkpoint
    sd_models.reload_model_weights(info=sd_models.checkpoint_aliases["b.safetensors"])
    assert loaded_name() == "b.safetensors"
    assert shared.opts.data["sd_model_checkpoint"] == f"b.safetensors [{webui['b']}]"
    assert not os.path.exists(shared.config_filename)  # in memory only

    with sd_models.SkipWritingToConfig():
        sd_models.reload_model_weights(info=sd_models.checkpoint_aliases[a_title])
    assert loaded_name() == "a.safetensors"
    assert shared.opts.data["sd_model_checkpoint"] == f"b.safetensors [{webui['b']}]"


def test_naive_reload_then_process_images_generates_with_the_global_model(webui):
    b = sd_models.checkpoint_aliases["b.safetensors"]
    with sd_models.SkipWritingToConfig():
        sd_models.reload_model_weights(info=b)
        processed = generate()
    assert infotext_value(processed, "Model hash") == webui["a"]  # the explicit load was wasted
    assert loaded_name() == "a.safetensors"

    sd_models.reload_model_weights(info=b)  # without Skip: everyone's default silently becomes b
    assert infotext_value(generate(), "Model hash") == webui["b"]
    assert shared.opts.sd_model_checkpoint == b.title


def test_the_sd_model_argument_is_ignored(webui):
    model_a = sd_models.model_data.sd_model
    sd_models.reload_model_weights(info=sd_models.checkpoint_aliases["b.safetensors"])
    p = job(sd_model=model_a)
    assert p.sd_model is shared.sd_model and p.sd_model.sd_checkpoint_info.name == "b.safetensors"


def test_checkpoints_limit_keeps_models_in_ram(webui):
    shared.opts.sd_checkpoints_limit = 2
    model_a = sd_models.model_data.sd_model
    sd_models.reload_model_weights(info=sd_models.checkpoint_aliases["b.safetensors"])
    model_b = sd_models.model_data.sd_model
    assert model_b is not model_a
    sd_models.reload_model_weights(info=sd_models.checkpoint_aliases["a.safetensors"])
    assert sd_models.model_data.sd_model is model_a
    assert shared.opts.data["sd_model_checkpoint"] == model_a.sd_checkpoint_info.title


def test_vae_override_is_used_and_named_in_the_infotext(webui):
    plain = generate()
    with_vae = generate(override_settings={"sd_vae": "other.safetensors"})
    assert infotext_value(with_vae, "VAE") == "other.safetensors"
    assert infotext_value(with_vae, "VAE hash") == webui["vae"]
    assert pixels(with_vae.images[0]) != pixels(plain.images[0])
    assert sd_vae.loaded_vae_file is not None  # sd_vae was not in opts.data: nothing restored


def test_freeze_settings_makes_overrides_raise(webui, tmp_path):
    standin.boot(shared.cmd_opts.ckpt_dir, str(tmp_path / "frozen"), step_seconds=0.0, freeze_settings=True)
    current = shared.opts.sd_model_checkpoint
    with pytest.raises(AssertionError, match="changing settings is disabled"):
        generate(override_settings={"sd_model_checkpoint": "b.safetensors"})
    # even an unchanged value raises: restoring it afterwards is a setattr too
    with pytest.raises(AssertionError, match="changing settings is disabled"):
        generate(override_settings={"sd_model_checkpoint": current})
    # an unchanged value without the restore passes (set() returns before setattr)
    processed = generate(override_settings={"sd_model_checkpoint": current}, override_settings_restore_afterwards=False)
    assert infotext_value(processed, "Model hash") == webui["a"]
    with pytest.raises(AssertionError):
        shared.opts.sd_vae = "None"


# ---- images -------------------------------------------------------------------------


def test_images_are_real_and_differ_per_checkpoint_and_seed(webui):
    first = generate(seed=1)
    again = generate(seed=1)
    other_seed = generate(seed=2)
    other_model = generate(seed=1, override_settings={"sd_model_checkpoint": "b.safetensors"})

    image = first.images[0]
    assert image.mode == "RGB" and image.size == (64, 64)
    assert len(colours(image)) > 50  # not a flat colour
    assert pixels(again.images[0]) == pixels(image)
    assert pixels(other_seed.images[0]) != pixels(image)
    assert pixels(other_model.images[0]) != pixels(image)
    assert first.infotexts[0] == (
        f"a photo of a cat\nSteps: 4, Sampler: Euler, Schedule type: Automatic, CFG scale: 7.0, Seed: 1, "
        f"Size: 64x64, Model hash: {webui['a']}, Model: a, Version: standin"
    )


def test_batches_get_a_grid_first_only_when_grids_are_saved(webui):
    no_grid = generate(batch_size=2, n_iter=2)
    assert len(no_grid.images) == 4 and no_grid.index_of_first_image == 0
    assert [s for s in json.loads(no_grid.js())["all_seeds"]] == [1, 2, 3, 4]

    with_grid = generate(batch_size=2, n_iter=2, do_not_save_grid=False)
    assert len(with_grid.images) == 5 and with_grid.index_of_first_image == 1
    assert with_grid.images[0].size == (128, 128)
    assert os.listdir(shared.opts.outdir_txt2img_grids)


def test_saved_samples_carry_the_infotext(webui):
    processed = generate(do_not_save_samples=False)
    folder = os.path.join(shared.opts.outdir_txt2img_samples, os.listdir(shared.opts.outdir_txt2img_samples)[0])
    (saved,) = os.listdir(folder)
    assert saved == "00000-1.png"
    assert Image.open(os.path.join(folder, saved)).info["parameters"] == processed.infotexts[0]


def test_img2img_with_a_mask_keeps_the_unmasked_area(webui):
    init = Image.new("RGB", (64, 64), (200, 30, 30))
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (32, 0, 64, 64))  # repaint the right half only
    p = processing.StableDiffusionProcessingImg2Img(init_images=[init], mask=mask, prompt="a cat", steps=4, width=64,
                                                    height=64, seed=1, denoising_strength=0.9, do_not_save_samples=True)
    processed = processing.process_images(p)
    image = processed.images[0]
    assert image.size == (64, 64)
    assert "Denoising strength: 0.9" in processed.infotexts[0]
    left, right = image.crop((0, 0, 24, 64)), image.crop((40, 0, 64, 64))
    assert len(colours(left)) < len(colours(right))


def test_a_nan_prompt_fails_inside_generation_after_some_steps(webui):
    shared.state.begin()
    with pytest.raises(devices.NansException, match="A tensor with NaNs was produced in Unet"):
        generate(prompt="nan", steps=6)
    assert shared.state.sampling_step == 5  # all steps ran; webui checks after sampling
    assert generate(prompt="banana").images  # a word containing "nan" is fine


# ---- state, interrupt, progress --------------------------------------------------------


def test_interrupt_is_a_flag_checked_each_step_and_cleared_only_by_begin(webui):
    full = generate(steps=200)
    shared.cmd_opts.step_seconds = 0.01
    shared.state.begin()
    result = {}
    worker = threading.Thread(target=lambda: result.update(processed=generate(steps=200)))
    worker.start()
    wait_for(lambda: shared.state.sampling_step >= 3)
    shared.state.interrupt()
    worker.join(timeout=5)

    interrupted = result["processed"]
    assert len(interrupted.images) == 1  # the partial image comes back
    assert "Steps: 200," in interrupted.infotexts[0]  # with the requested step count
    assert pixels(interrupted.images[0]) != pixels(full.images[0])  # sampling stopped early
    assert shared.state.interrupted  # still set after the job

    started = time.perf_counter()
    after = generate()  # a job started without begin(): no image, at once
    assert after.images == [] and time.perf_counter() - started < 0.5

    shared.state.begin()
    assert not shared.state.interrupted
    assert len(generate().images) == 1


def test_state_fields_during_and_around_a_job(webui):
    shared.cmd_opts.step_seconds = 0.05
    generate(steps=3)
    shared.state.begin(job="next")
    assert shared.state.job_count == -1
    assert shared.state.sampling_steps == 3  # the previous job's value until sampling starts

    seen = []
    worker = threading.Thread(target=generate, kwargs=dict(steps=4))
    worker.start()
    while worker.is_alive():
        seen.append((shared.state.job_count, shared.state.sampling_steps, shared.state.sampling_step))
        time.sleep(0.005)
    worker.join()
    shared.state.end()

    assert (1, 4, 1) in seen and (1, 4, 2) in seen
    assert shared.state.job_count == 0 and shared.state.job_no == 1


def test_step_seconds_paces_the_steps(webui):
    shared.cmd_opts.step_seconds = 0.05
    shared.state.begin()
    started = time.perf_counter()
    generate(steps=4)
    assert 0.18 < time.perf_counter() - started < 5


def test_preview_is_decoded_only_when_asked_and_due(webui):
    shared.cmd_opts.step_seconds = 0.02
    shared.state.begin()
    worker = threading.Thread(target=generate, kwargs=dict(steps=200))
    worker.start()
    wait_for(lambda: shared.state.sampling_step >= 2)
    shared.state.set_current_image()
    assert shared.state.current_image is None  # default: every 10 steps

    shared.opts.show_progress_every_n_steps = 1
    shared.state.set_current_image()
    first_id = shared.state.id_live_preview
    assert shared.state.current_image.size == (64, 64) and first_id == 1
    wait_for(lambda: shared.state.sampling_step >= shared.state.current_image_sampling_step + 1)
    shared.state.set_current_image()
    assert shared.state.id_live_preview == first_id + 1
    shared.state.interrupt()
    worker.join()


def test_task_records_queued_active_completed(webui):
    progress.add_task_to_queue("t1")
    progress.add_task_to_queue("t2")
    assert progress.progressapi("t2")["textinfo"] == "In queue: 2/2"
    shared.state.begin()
    progress.start_task("t1")
    assert progress.progressapi("t1")["active"] and progress.progressapi("t1")["progress"] == 0
    progress.finish_task("t1")
    shared.state.end()
    assert progress.progressapi("t1")["completed"]
    assert list(progress.pending_tasks) == ["t2"]  # never started: stays pending


# ---- queue_lock ----------------------------------------------------------------------


def test_queue_lock_serves_waiters_in_arrival_order(webui):
    lock = call_queue.queue_lock
    order = []

    def waiter(i):
        with lock:
            order.append(i)

    lock.acquire()
    threads = []
    for i in range(5):
        threads.append(threading.Thread(target=waiter, args=(i,)))
        threads[-1].start()
        wait_for(lambda: len(lock._waiters) == i + 1)  # queued before the next one arrives
    lock.release()
    for t in threads:
        t.join(timeout=5)
    assert order == [0, 1, 2, 3, 4]


def test_queue_lock_is_not_reentrant(webui):
    lock = call_queue.queue_lock
    events = []

    def holder():
        with lock:
            events.append(lock.acquire(blocking=False))  # False: held, even by this thread
            lock.acquire()  # blocks: the same thread cannot take it twice
            events.append("re-acquired")
        events.append("released")

    t = threading.Thread(target=holder, daemon=True)
    t.start()
    wait_for(lambda: events == [False])
    time.sleep(0.2)
    assert t.is_alive() and events == [False]  # deadlocked, as in webui
    lock.release()  # let it go (any thread may release)
    t.join(timeout=5)
    assert events == [False, "re-acquired", "released"]


def test_checkpoint_change_through_options_waits_for_queue_lock(webui):
    done = threading.Event()
    with call_queue.queue_lock:
        t = threading.Thread(target=lambda: (api.set_config({"sd_model_checkpoint": "b.safetensors"}), done.set()))
        t.start()
        time.sleep(0.2)
        assert not done.is_set() and loaded_name() == "a.safetensors"
    t.join(timeout=5)
    assert loaded_name() == "b.safetensors"
    with open(shared.config_filename) as file:
        assert json.load(file)["sd_model_checkpoint"] == f"b.safetensors [{webui['b']}]"


# ---- the native API ------------------------------------------------------------------


def version(package):
    return tuple(int(x) for x in importlib.metadata.version(package).split(".")[:3])


@pytest.fixture
def client(webui):
    from fastapi.testclient import TestClient
    from standin import server

    return TestClient(server.create_app(nowebui=False))


def test_native_txt2img(client, webui):
    response = client.post("/sdapi/v1/txt2img", json={"prompt": "a cat", "steps": 3, "width": 64, "height": 64, "seed": 5,
                                                        "override_settings": {"sd_model_checkpoint": "b.safetensors"}})
    assert response.status_code == 200
    body = response.json()
    image = Image.open(io.BytesIO(base64.b64decode(body["images"][0])))
    assert image.size == (64, 64)
    info = json.loads(body["info"])
    assert info["sd_model_hash"] == webui["b"] and info["seed"] == 5
    assert image.info["parameters"] == info["infotexts"][0]
    assert body["parameters"]["override_settings_restore_afterwards"] is True
    assert body["parameters"]["sampler_index"] == "Euler"  # the request default
    assert "Sampler: Euler," in info["infotexts"][0]
    assert client.get("/sdapi/v1/options").json()["sd_model_checkpoint"] == f"a.safetensors [{webui['a']}]"
    assert progress.current_task is None


def test_native_api_unknown_sampler_falls_back_to_the_default(client):
    response = client.post("/sdapi/v1/txt2img", json={"prompt": "a", "steps": 2, "width": 64, "height": 64, "sampler_name": "Nope"})
    assert response.status_code == 200
    assert "Sampler: DPM++ 2M," in json.loads(response.json()["info"])["infotexts"][0]


def test_native_api_failure_is_a_500_and_leaves_current_task_set(client):
    response = client.post("/sdapi/v1/txt2img", json={"prompt": "nan", "steps": 4, "width": 64, "height": 64, "force_task_id": "t1"})
    assert response.status_code == 500
    # webui's two http middlewares: webui's pin, starlette 0.26, on anyio 4 hands the outer
    # one the inner one's ExceptionGroup (as a real webui on anyio 4 does); on anyio 3, the error
    wrapped = version("anyio")[0] >= 4 and version("starlette")[:2] == (0, 26)
    assert response.json()["error"] == ("ExceptionGroup" if wrapped else "NansException")
    assert progress.current_task == "t1"
    assert client.get("/sdapi/v1/progress").json()["state"]["job_count"] == 0


def test_native_options_and_lists(client, webui):
    assert client.post("/sdapi/v1/options", json={"sd_model_checkpoint": "zzz"}).status_code == 500
    assert client.post("/sdapi/v1/options", json={"sd_model_checkpoint": "b.safetensors"}).status_code == 200
    assert loaded_name() == "b.safetensors"
    assert [m["title"] for m in client.get("/sdapi/v1/sd-models").json()][1] == f"b.safetensors [{webui['b']}]"
    assert "Euler a" in [s["name"] for s in client.get("/sdapi/v1/samplers").json()]
    assert "Karras" in [s["label"] for s in client.get("/sdapi/v1/schedulers").json()]
    assert client.post("/sdapi/v1/interrupt").json() == {} and shared.state.interrupted
    assert client.get("/internal/pending-tasks").json() == {"size": 0, "tasks": []}


# ---- the server process ----------------------------------------------------------------


def test_server_process_serves_the_api_and_loads_extension_scripts(tmp_path):
    ckpt_dir = tmp_path / "ckpt"
    checkpoints.make_checkpoint(str(ckpt_dir / "a.safetensors"), 1)
    scripts_dir = tmp_path / "ext" / "scripts"
    scripts_dir.mkdir(parents=True)
    (scripts_dir / "hello.py").write_text(
        "import sys\n"
        "from modules import script_callbacks\n"
        "loaded_with_path = sys.path[0]\n"
        "def started(demo, app):\n"
        "    app.add_api_route('/hello', lambda: {'demo': demo, 'path': loaded_with_path}, methods=['GET'])\n"
        "script_callbacks.on_app_started(started)\n"
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, STANDIN_SERVER, "--port", str(port), "--ckpt-dir", str(ckpt_dir), "--data-dir", str(tmp_path / "data"),
         "--extension-dir", str(tmp_path / "ext"), "--step-seconds", "0", "--nowebui"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                hello = json.load(urllib.request.urlopen(f"{base}/hello", timeout=1))
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, server.stderr.read().decode()
                time.sleep(0.1)
        assert hello == {"demo": None, "path": str(tmp_path / "ext")}

        payload = json.dumps({"prompt": "a cat", "steps": 2, "width": 64, "height": 64}).encode()
        request = urllib.request.Request(f"{base}/sdapi/v1/txt2img", data=payload, headers={"Content-Type": "application/json"})
        body = json.load(urllib.request.urlopen(request, timeout=30))
        assert Image.open(io.BytesIO(base64.b64decode(body["images"][0]))).size == (64, 64)
        assert json.loads(body["info"])["sd_model_name"] == "a"
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{base}/internal/progress", data=b"{}", timeout=5)  # no UI under --nowebui
        assert missing.value.code == 404
        assert os.path.exists(tmp_path / "data" / "config.json")
    finally:
        server.terminate()
        server.wait(timeout=10)
