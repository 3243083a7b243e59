"""The decisions behind webui's own routes (doors.py), over a memory store: who calls,
what of a running task they may see or stop, and a native request as the queue's."""

import base64
import types
from typing import Optional

import pydantic
import pytest

from webui_taskqueue.people.auth import Authenticator
from webui_taskqueue.api.doors import DOOR, DOOR_USER, Native, credentials, http_error, task_error
from webui_taskqueue.records.errors import PayloadError
from webui_taskqueue.api.routes.native import _idle
from webui_taskqueue.store.memory import MemoryStore
from webui_taskqueue.records.tasks import Task, TaskType
from webui_taskqueue.records.users import Role, User, digest


class Host:
    def __init__(self, options=None, api_auth=None):
        self.options, self.api_auth = dict(options or {}), dict(api_auth or {})

    def option(self, name, default):
        return self.options.get(name, default)

    def api_credentials(self):
        return self.api_auth


class Worker:
    def __init__(self):
        self.held = None

    def with_holder(self, act):
        return act(self.held)


def make(options=None, api_auth=None):
    store = MemoryStore()
    for name, role in (("ann", Role.USER), ("bob", Role.USER), ("boss", Role.ADMIN)):
        store.add_user(User(name, role))
        store.add_key(name, digest(f"tq_{name}-key-0000000000"), f"tq_{name}-ke", 1.0)
    store.add(Task(task_id="a" * 32, type=TaskType.TXT2IMG, owner="ann", checkpoint="m", params={}, created_at=1.0))
    host, worker = Host(options, api_auth), Worker()
    queue = types.SimpleNamespace(host=host, worker=worker, store=store)
    native = Native(types.SimpleNamespace(queue=queue, auth=Authenticator(store, host.api_credentials)))
    return native, store, worker


def user(store, name):
    return store.get_user(name)


def test_credentials_as_a_request_sends_them():
    basic = "Basic " + base64.b64encode(b"carol:pa:ss").decode()
    assert credentials({"authorization": "Bearer tq_x"}) == ("tq_x", None)
    assert credentials({"x-api-key": "tq_y"}) == ("tq_y", None)
    assert credentials({"authorization": basic, "x-api-key": "tq_y"}) == ("tq_y", ("carol", "pa:ss"))
    assert credentials({"authorization": "Basic %%%"}) == (None, None)
    assert credentials({}) == (None, None)


def test_the_caller_is_the_key_else_the_api_auth_name_else_the_keyless_person():
    native, store, _ = make(api_auth={"carol": "pw"})
    assert native.caller("tq_ann-key-0000000000", ("carol", "pw")).name == "ann"  # the key says who
    assert native.caller(None, ("carol", "pw")) == User("carol", Role.USER)
    assert native.caller("tq_wrong-key-000000000", None) is None
    assert native.caller(None, ("carol", "nope")) is None
    assert native.caller(None, None) == User("api", Role.USER)  # the door open or closed
    native, store, _ = make(options={DOOR: True})
    assert native.caller(None, None) == User("api", Role.USER)
    assert native.caller("tq_wrong-key-000000000", None) is None  # a wrong key is never anyone
    native, _, _ = make(options={DOOR: True, DOOR_USER: "boss"})
    keyless = native.caller(None, None)  # a user of that name: their limits, never an admin's power
    assert keyless.name == "boss" and not keyless.is_admin
    native, _, _ = make(options={DOOR: True, DOOR_USER: ""})
    assert native.caller(None, None) is None


def test_webui_refuses_what_its_api_auth_refuses():
    native, _, _ = make()
    assert not native.webui_refuses(None)
    native, _, _ = make(api_auth={"carol": "pw"})
    assert native.webui_refuses(None) and native.webui_refuses(("carol", "PW")) and native.webui_refuses(("dan", "pw"))
    assert not native.webui_refuses(("carol", "pw"))


def test_only_the_owner_and_admins_see_a_task_hold_webui_s_state():
    native, store, _ = make()
    ann, bob, boss, task = user(store, "ann"), user(store, "bob"), user(store, "boss"), "a" * 32
    idle, held = (3, None), (4, task)
    assert not native.hidden(bob, idle, idle)  # no task: webui's answer as it is
    assert native.hidden(bob, held, held) and native.hidden(None, held, held)
    assert not native.hidden(ann, held, held) and not native.hidden(boss, held, held)
    assert native.hidden(bob, idle, held)  # it began while webui answered
    assert not native.hidden(ann, idle, held)  # ... the caller's own
    assert native.hidden(ann, idle, (5, task))  # two began: the first one's unknown
    assert native.hidden(ann, idle, (4, None))  # one began and ended: whose?
    assert not native.hidden(boss, idle, (9, None))
    assert native.hidden_task(bob, task) and not native.hidden_task(ann, task)
    assert not native.hidden_task(bob, "task(abc)") and not native.hidden_task(bob, "b" * 32)  # not the queue's


def test_interrupt_and_skip_act_natively_between_tasks_and_only_for_the_owner_or_an_admin_during_one():
    native, store, worker = make()
    acted = []
    act = lambda: acted.append(1) or {}  # noqa: E731
    assert native.stop(user(store, "bob"), act) == ("native", {}) and acted == [1]
    worker.held = "a" * 32
    assert native.stop(user(store, "bob"), act) == ("refused", "a" * 32)
    assert native.stop(None, act) == ("refused", "a" * 32)
    assert native.stop(user(store, "ann"), act) == ("task", "a" * 32)
    assert native.stop(user(store, "boss"), act) == ("task", "a" * 32)
    assert acted == [1]
    assert "/queue/v1/tasks/{task_id}/interrupt" in native.refusal()


def test_a_native_request_as_the_queue_s():
    parameters = {"prompt": "", "steps": 50, "override_settings": None, "send_images": True, "seed": -1}
    body = {"prompt": "a", "steps": 4, "seed": None, "send_images": False, "not_webui_s": 1,
            "override_settings": {"sd_model_checkpoint": "modelB", "sd_vae": "x.pt", "CLIP_stop_at_last_layers": 2}}
    assert Native.queue_body(body, parameters) == {
        "prompt": "a", "steps": 4, "checkpoint": "modelB", "vae": "x.pt", "override_settings": {"CLIP_stop_at_last_layers": 2}}
    assert Native.queue_body({"override_settings": {"sd_model_checkpoint": "m"}}, parameters) == {"checkpoint": "m"}


def test_the_request_as_webui_s_model_takes_it_and_echoes_it():
    native, _, _ = make()
    fields = {"prompt": (Optional[str], ""), "steps": (Optional[int], 50), "init_images": (Optional[list], None),
              "mask": (Optional[str], None), "include_init_images": (Optional[bool], False)}
    native.host.request_model = lambda kind: pydantic.create_model(f"M{kind}", **fields)
    assert native.parameters("txt2img", {"prompt": "a", "junk": 1}) == {
        "prompt": "a", "steps": 50, "init_images": None, "mask": None, "include_init_images": False}
    assert native.parameters("img2img", {"init_images": ["x"]})["init_images"] is None  # as webui echoes it
    assert native.parameters("img2img", {"init_images": ["x"], "include_init_images": True})["init_images"] == ["x"]
    with pytest.raises(PayloadError) as refused:
        native.parameters("txt2img", {"steps": "many"})
    assert refused.value.errors[0]["loc"] == ["body", "steps"]


def test_errors_in_webui_s_shapes():
    assert task_error("NansException: A tensor with all NaNs") == {
        "error": "NansException", "detail": "", "body": "", "errors": "NansException: A tensor with all NaNs"}
    assert task_error("the GPU ran out of memory: x")["error"] == "RuntimeError"
    body = http_error(409, "no")
    assert body["error"] == "HTTPException" and body["detail"] == "no" and set(body) == {"error", "detail", "body", "errors"}


def test_progress_as_webui_answers_it_with_no_job_running():
    answer = {"progress": 0.5, "eta_relative": 3.2, "current_image": "iVBOR", "textinfo": "x", "current_task": "t",
              "state": {"skipped": False, "interrupted": True, "job": "task-queue " + "a" * 32, "job_count": 1,
                        "job_timestamp": "20261122", "job_no": 0, "sampling_step": 5, "sampling_steps": 20}}
    idle = _idle(answer)
    assert idle == {"progress": 0, "eta_relative": 0, "current_image": None, "textinfo": None, "current_task": None,
                    "state": {"skipped": False, "interrupted": False, "job": "", "job_count": 0,
                              "job_timestamp": "20261122", "job_no": 0, "sampling_step": 0, "sampling_steps": 0}}

