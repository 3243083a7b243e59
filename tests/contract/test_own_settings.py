"""Each person's own settings (checkpoint, VAE, CLIP skip): what one person picks is
theirs alone, through the queue's /me and through webui's own options API as the
popular clients call it (webuiapi, Open WebUI, SillyTavern); webui's default never
moves for a person who is not an admin, with the door open or closed."""

import os
import time

import pytest
import webuiapi

from .client import native_images
from .held import paused  # noqa: F401 (a fixture)
from .test_native import native, set_door, short

Q = "/queue/v1"


@pytest.fixture(params=["door closed", "door open"])
def door_state(request, admin):
    set_door(admin, request.param == "door open")
    yield request.param
    set_door(admin, False)


@pytest.fixture
def default_model(admin, models):
    """The box's default is the first model for the test, as it was found after it."""
    before = admin.options()["sd_model_checkpoint"]
    admin.set_options(sd_model_checkpoint=models[0][0])
    yield models[0]
    admin.set_options(sd_model_checkpoint=before)


def webuiapi_client(client):
    """webuiapi's client, as `client`'s person (their queue key on its session)."""
    host, port = client.url.rsplit("//", 1)[1].rsplit(":", 1)
    api = webuiapi.WebUIApi(host=host, port=int(port), sampler="Euler", steps=2 if client.real else 4)
    api.session.headers["X-API-Key"] = client.key
    return api


def model_of(infotext):
    """The model's name as webui's infotext writes it (`Model: <name>`)."""
    for part in infotext.split("\n")[-1].split(", "):
        if part.startswith("Model: "):
            return part[len("Model: "):]
    return None


def name_of(title):
    """A checkpoint's name, as infotexts write it, from its title ("x.safetensors [hash]")."""
    return os.path.splitext(os.path.basename(title.split(" [")[0]))[0]


def made_with(info):
    return model_of(info["infotexts"][0])


def test_webuiapi_util_set_model_picks_a_model_for_its_person_only(admin, people, models, default_model, door_state):
    ann, bob = people
    (a_title, _), (b_title, _) = models
    a_name, b_name = name_of(a_title), name_of(b_title)
    ann_api, bob_api = webuiapi_client(ann), webuiapi_client(bob)
    ann_api.util_set_model(b_title)
    assert name_of(ann_api.util_get_current_model()) == name_of(b_title)
    assert name_of(bob_api.util_get_current_model()) == name_of(a_title)
    assert name_of(admin.options()["sd_model_checkpoint"]) == name_of(a_title)  # the box's default did not move

    for api, expected in ((bob_api, a_name), (ann_api, b_name), (bob_api, a_name)):
        result = api.txt2img(prompt="whose model", width=64, height=64, seed=5)
        assert model_of(result.info["infotexts"][0]) == expected, (door_state, result.info["infotexts"][0])
    assert name_of(admin.options()["sd_model_checkpoint"]) == name_of(a_title)
    assert name_of(ann.get(f"{Q}/me").json()["settings"]["sd_model_checkpoint"]) == name_of(b_title)
    assert name_of(bob.get(f"{Q}/me").json()["settings"]["sd_model_checkpoint"]) == name_of(a_title)


def test_open_webui_writes_the_whole_options_object_back_with_its_model_changed(admin, people, models, default_model):
    ann, bob = people
    (a_title, _), (b_title, _) = models
    a_name, b_name = name_of(a_title), name_of(b_title)
    with native(ann) as http:
        options = http.get("/sdapi/v1/options").json()
        assert name_of(options["sd_model_checkpoint"]) == name_of(a_title)
        options["sd_model_checkpoint"] = b_title
        r = http.post("/sdapi/v1/options", json=options)
        assert r.status_code == 200 and r.json() is None, r.text
        assert name_of(http.get("/sdapi/v1/options").json()["sd_model_checkpoint"]) == name_of(b_title)
        r = http.post("/sdapi/v1/txt2img", json=short(admin))
        assert r.status_code == 200, r.text
        assert made_with(native_images(r)[1]) == b_name
    with native(bob) as http:
        r = http.post("/sdapi/v1/txt2img", json=short(admin))
        assert made_with(native_images(r)[1]) == a_name
    assert name_of(admin.options()["sd_model_checkpoint"]) == name_of(a_title)


def test_sillytavern_sets_the_model_waits_on_progress_and_generates(admin, people, models, default_model):
    ann, _ = people
    (a_title, _), (b_title, _) = models
    b_name = name_of(b_title)
    with native(ann) as http:
        r = http.post("/sdapi/v1/options", json={"sd_model_checkpoint": b_title})
        assert r.status_code == 200, r.text
        deadline = time.monotonic() + 30  # SillyTavern waits for the model to load: nothing loads
        while http.get("/sdapi/v1/progress").json()["state"]["job_count"] != 0:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        r = http.post("/sdapi/v1/txt2img", json=short(admin))
        assert r.status_code == 200, r.text
        assert made_with(native_images(r)[1]) == b_name
    assert name_of(admin.options()["sd_model_checkpoint"]) == name_of(a_title)


def test_a_person_s_settings_apply_to_their_queue_tasks_and_a_task_s_own_value_wins(admin, people, models, default_model):
    ann, bob = people
    (a_title, _), (b_title, _) = models
    b_name = name_of(b_title)
    r = ann.patch(f"{Q}/me", json={"settings": {"sd_model_checkpoint": b_title, "CLIP_stop_at_last_layers": 2}})
    assert r.status_code == 200, r.text
    assert name_of(r.json()["settings"]["sd_model_checkpoint"]) == name_of(b_title)
    assert r.json()["settings"]["CLIP_stop_at_last_layers"] == 2
    base = {"prompt": "settings of mine", "width": 64, "height": 64, "steps": 2 if admin.real else 4, "seed": 3}
    theirs = ann.wait(ann.submit(base))
    named = ann.wait(ann.submit({**base, "checkpoint": a_title, "override_settings": {"CLIP_stop_at_last_layers": 3}}))
    others = bob.wait(bob.submit(base))
    assert name_of(theirs["checkpoint"]) == name_of(b_title) and model_of(theirs["infotexts"][0]) == b_name
    assert "Clip skip: 2" in theirs["infotexts"][0]
    assert name_of(named["checkpoint"]) == name_of(a_title) and "Clip skip: 3" in named["infotexts"][0]
    assert name_of(others["checkpoint"]) == name_of(a_title) and "Clip skip" not in others["infotexts"][0]
    r = ann.patch(f"{Q}/me", json={"settings": {"sd_model_checkpoint": None}})
    assert r.status_code == 200 and name_of(r.json()["settings"]["sd_model_checkpoint"]) == name_of(a_title), r.text
    assert r.json()["settings"]["CLIP_stop_at_last_layers"] == 2  # the other one stays


def test_bad_settings_are_refused_by_name_and_nothing_is_kept(admin, people, models, default_model):
    ann, _ = people
    (a_title, _), (b_title, _) = models
    before = ann.get(f"{Q}/me").json()["settings"]
    r = ann.patch(f"{Q}/me", json={"settings": {"sd_model_checkpoint": "no-such-model", "CLIP_stop_at_last_layers": 2}})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "settings", "sd_model_checkpoint"], r.text
    r = ann.patch(f"{Q}/me", json={"settings": {"CLIP_stop_at_last_layers": "two"}})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "settings", "CLIP_stop_at_last_layers"]
    r = ann.patch(f"{Q}/me", json={"settings": {"samples_format": "jpg"}, "callback_url": None})
    assert r.status_code == 403 and "samples_format" in r.json()["detail"], r.text
    assert ann.get(f"{Q}/me").json()["settings"] == before
    with native(ann) as http:
        r = http.post("/sdapi/v1/options", json={"sd_model_checkpoint": "no-such-model"})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "sd_model_checkpoint"], r.text
        r = http.post("/sdapi/v1/options", json={"sd_model_checkpoint": b_title, "samples_format": "jpg"})
        assert r.status_code == 403 and "samples_format" in r.json()["detail"], r.text
        assert name_of(http.get("/sdapi/v1/options").json()["sd_model_checkpoint"]) == name_of(a_title)  # not half-written
    assert admin.options().get("samples_format", "png") == "png"
    r = admin.patch(f"{Q}/me", json={"settings": {"sd_model_checkpoint": b_title}})
    assert r.status_code == 403, r.text  # an admin's settings are the box's


def test_an_admin_changes_the_box_s_default_as_before(admin, people, models, default_model):
    ann, _ = people
    (_, _), (b_title, _) = models
    admin.set_options(sd_model_checkpoint=b_title)
    assert name_of(admin.options()["sd_model_checkpoint"]) == name_of(b_title)
    assert name_of(ann.get(f"{Q}/me").json()["settings"]["sd_model_checkpoint"]) == name_of(b_title)  # people without a pick follow it


def test_the_queue_s_whole_number_settings_read_back_as_whole_numbers(admin):
    options = admin.options()
    listed = [k for k in ("task_queue_max_width", "task_queue_max_steps", "task_queue_max_body_mb") if k in options]
    if not listed:  # Forge builds its answer's model before extensions add their settings
        pytest.skip("this webui's options answer lists none of the queue's settings")
    assert all(type(options[k]) is int for k in listed), {k: options[k] for k in listed}


def test_a_keyless_caller_is_the_keyless_person_and_moves_no_default(admin, standin_factory, models):
    server = standin_factory(step_seconds=0.02, admin_key="tq_own-settings-admin-key-012345").start()
    owner = server.client()
    (a_title, _), (b_title, _) = [(c["title"], c["hash"]) for c in owner.get(f"{Q}/checkpoints").json()["data"][:2]]
    with native(owner, key=None) as anonymous:
        assert anonymous.post("/sdapi/v1/options", json={"sd_model_checkpoint": b_title}).status_code == 200
        assert name_of(anonymous.get("/sdapi/v1/options").json()["sd_model_checkpoint"]) == name_of(b_title)
        r = anonymous.post("/sdapi/v1/options", json={"task_queue_native_door": True})
        assert r.status_code == 403, r.text
        r = anonymous.post("/sdapi/v1/txt2img", json=short(owner))
        assert made_with(native_images(r)[1]) == name_of(b_title)
    assert name_of(owner.options()["sd_model_checkpoint"]) == name_of(a_title)
    assert owner.get(f"{Q}/users/api").json()["role"] == "user"  # the keyless person, made on first use


def test_own_settings_outlive_a_restart_and_a_deleted_checkpoint_gives_way_with_a_note(standin_factory):
    server = standin_factory(step_seconds=0.02, admin_key="tq_own-settings-admin-key-012345").start()
    owner = server.client()
    ann = owner.add_user("ann")
    (a_title, _), (b_title, _) = [(c["title"], c["hash"]) for c in owner.get(f"{Q}/checkpoints").json()["data"][:2]]
    assert ann.patch(f"{Q}/me", json={"settings": {"sd_model_checkpoint": b_title}}).status_code == 200
    server.stop()
    server.start()
    assert name_of(ann.get(f"{Q}/me").json()["settings"]["sd_model_checkpoint"]) == name_of(b_title)
    os.remove(os.path.join(server.ckpt_dir, "modelB.safetensors"))
    assert owner.post("/sdapi/v1/refresh-checkpoints").status_code == 200
    me = ann.get(f"{Q}/me").json()
    assert name_of(me["settings"]["sd_model_checkpoint"]) == name_of(a_title)
    assert "modelB" in me["settings_notes"]["sd_model_checkpoint"], me
    task = ann.wait(ann.submit({"prompt": "after the model went", "width": 64, "height": 64, "steps": 3}))
    assert task["status"] == "done" and model_of(task["infotexts"][0]) == name_of(a_title)
