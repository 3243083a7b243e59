"""A property-based fuzzer (schemathesis) over the OpenAPI document the server serves:
every route of the queue, with data that fits the document and data that does not,
with made-up ids and with the ids of real tasks, users and keys.

What must hold: no answer is a 5xx; every answer's status, media type and body are
those the document gives for its route; what breaks the document is refused (4xx);
and every task the fuzzer got accepted is listed, shown and run to the end.

It runs on a stand-in of its own, never against a real webui: it pauses the queue,
makes users and deletes tasks. Bounded: FUZZ_EXAMPLES cases (default 25) per route
and kind of data, about two minutes in all."""

import base64
import io
import os
import time

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from .client import FINAL, StandIn
from .conftest import URL_ENV

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
ADMIN_KEY = "tq_fuzz-admin-key-0123456789abcdef"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]
# Headers that frame the HTTP message: a fuzzed one (content-length "z<") is refused by
# the HTTP server itself (400 "Invalid HTTP request received.") before any route runs.
FRAMING = {"content-length", "transfer-encoding", "host", "connection"}
# Small limits, so that the fuzzer's accepted tasks run in moments.
LIMITS = {"task_queue_max_width": 128, "task_queue_max_height": 128, "task_queue_max_steps": 4,
          "task_queue_max_batch_size": 2, "task_queue_max_n_iter": 2, "task_queue_max_body_mb": 2}
# Names only webui can resolve: a fuzzed string never names a real checkpoint or sampler.
WEBUI_NAMES = ("checkpoint", "vae", "sampler_name", "sampler_index", "scheduler", "hr_checkpoint_name",
               "refiner_checkpoint", "hr_sampler_name", "hr_scheduler", "hr_upscaler", "override_settings",
               "script_name", "script_args", "alwayson_scripts", "infotext")


def png_b64(size=(32, 32)):
    out = io.BytesIO()
    Image.new("RGB", size, "teal").save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if os.environ.get(URL_ENV):
        pytest.skip(f"the fuzzer pauses the queue and deletes what it finds: stand-in only ({URL_ENV} is set)")
    folder = tmp_path_factory.mktemp("fuzz")
    standin = StandIn(folder, step_seconds=0.005, admin_key=ADMIN_KEY)
    with open(os.path.join(standin.data_dir, "config.json"), "w") as f:
        import json

        json.dump(LIMITS, f)
    standin.start()
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def real(server):
    """Ids of things that exist, for the cases "with valid data"."""
    admin = server.client()
    done = admin.submit({"prompt": "fuzz", "steps": 2, "width": 64, "height": 64})
    img = admin.submit({"init_images": [png_b64()], "steps": 2, "width": 64, "height": 64}, kind="img2img")
    for task_id in (done, img):
        assert admin.wait(task_id)["status"] == "done"
    r = admin.post("/queue/v1/users", json={"name": "fuzz-user", "role": "user"})
    assert r.status_code == 201, r.text
    user = r.json()
    return {"task_id": [done, img], "index": [0], "name": ["fuzz-user"], "prefix": [user["prefix"]], "key": user["key"]}


def operations(url):
    # data that breaks the document may also be refused for its size: 413 over max_body_mb
    refusals = SchemathesisConfig().projects.default.checks.negative_data_rejection.expected_statuses + ["413"]
    config = SchemathesisConfig.from_dict({"checks": {"negative_data_rejection": {"expected-statuses": refusals}}})
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json", config=config).include(path_regex="^/queue/v1/")
    found = [result.ok() for result in schema.get_all_operations()]
    # a stream of events never ends: a fuzzer cannot wait for its answer
    return [op for op in found if "text/event-stream" not in str(op.definition.raw.get("responses", {}).get("200", {}))]


def test_fuzzer_finds_no_server_error_and_no_undocumented_answer(server, real):
    # mostly the admin (who may call everything); now and then a plain user (403 on
    # admin routes, 404 on others' tasks), a wrong key and no key (401)
    callers = [{"Authorization": f"Bearer {ADMIN_KEY}"}] * 5 + [
        {"X-API-Key": real["key"]}, {"Authorization": "Bearer tq_not-a-key-of-anyone"}, {}]
    accepted, failures, counts = [], [], {}
    found = operations(server.url)
    assert len(found) >= 20, [op.label for op in found]

    def run(op, mode, path_parameters):
        @given(case=op.as_strategy(generation_mode=mode, path_parameters=path_parameters), fix=st.booleans(),
               headers=st.sampled_from(callers))
        @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck),
                  print_blob=True)
        def fuzz(case, fix, headers):
            for name in [k for k in (case.headers or {}) if k.lower() in FRAMING]:
                del case.headers[name]
            if mode == GenerationMode.POSITIVE and fix and isinstance(case.body, dict) and op.path.endswith("2img"):
                make_runnable(case.body, img2img=op.path.endswith("img2img"))
            response = case.call_and_validate(headers=headers, checks=CHECKS, timeout=60)
            counts[response.status_code] = counts.get(response.status_code, 0) + 1
            if response.status_code == 202:
                accepted.append(response.json()["task_id"])

        try:
            fuzz()
        except Exception as e:  # every route's findings, not only the first one's
            failures.append(f"{op.label} ({mode.value}, {'real ids' if path_parameters else 'made-up ids'}):\n{e}")

    started = time.monotonic()
    for op in found:
        params = [p.name for p in op.path_parameters]
        run(op, GenerationMode.NEGATIVE, None)
        run(op, GenerationMode.POSITIVE, None)
        if params:
            for i in range(max(len(real[p]) for p in params)):
                run(op, GenerationMode.POSITIVE, {p: real[p][i % len(real[p])] for p in params})
    seconds = time.monotonic() - started
    print(f"fuzzed {len(found)} routes in {seconds:.0f}s: answers by status {dict(sorted(counts.items()))}, "
          f"{len(accepted)} tasks accepted")
    assert not failures, "\n\n".join(failures)
    assert accepted, "no fuzzed request was valid enough to be queued: the cases 'with valid data' did not run"
    assert_accepted_tasks_run(server, accepted)


def make_runnable(body, img2img):
    """A fuzzed body that fits the document, with the names only webui knows replaced
    by real ones: with it, valid requests are queued and run, not only refused."""
    for name in WEBUI_NAMES:
        body.pop(name, None)
    if img2img:
        body["init_images"] = [png_b64()]
        body.pop("mask", None)


def assert_accepted_tasks_run(server, accepted):
    """Anything accepted is storable, showable and runnable: it lists, and it ends
    done (or cancelled or interrupted by the fuzzer's own calls), never failed."""
    admin = server.client()
    assert admin.post("/queue/v1/queue/resume").status_code == 200
    deadline = time.monotonic() + 180
    ends = {}
    for task_id in accepted:
        r = admin.get(f"/queue/v1/tasks/{task_id}")
        if r.status_code == 404:
            continue  # the fuzzer may not know its ids, but a valid DELETE is possible in principle
        task = admin.wait(task_id, timeout=max(1, deadline - time.monotonic()), every=0.1)
        ends[task_id] = (task["status"], task["error"], task["params"])
    failed = {k: v for k, v in ends.items() if v[0] == "failed"}
    assert not failed, failed
    assert all(end[0] in FINAL for end in ends.values())
    for path in ("/queue/v1/tasks?all=true&limit=500", "/queue/v1/queue", "/queue/v1/users"):
        r = httpx.get(server.url + path, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=60)
        assert r.status_code == 200, (path, r.text[:500])
