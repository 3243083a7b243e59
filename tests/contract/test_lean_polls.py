"""A task's status poll without an Origin header skips webui's per-request middleware
(routes/lean.py) and answers exactly as through it: same body, same errors. What it
lacks is webui's X-Process-Time header and gzip; every other request keeps both."""

import re

import pytest

GZIP = {"Accept-Encoding": "gzip"}
ORIGIN = {**GZIP, "Origin": "http://elsewhere.example"}
LONG_PROMPT = "a lighthouse at dawn, " * 80  # the answer is over GZip's 1000 bytes


def unsigned(value):
    """The answer without the links' signatures (they carry the time of the request)."""
    if isinstance(value, dict):
        return {k: unsigned(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unsigned(v) for v in value]
    return re.sub(r"\?.*", "", value) if isinstance(value, str) and value.startswith("/queue/v1/") else value


@pytest.fixture(scope="module")
def done_task(target, models):
    task_id = target.submit({"prompt": LONG_PROMPT, "steps": 2, "width": 64, "height": 64, "checkpoint": models[0][0]})
    target.wait(task_id)
    return task_id


def test_a_poll_answers_the_same_on_both_lanes_and_only_the_full_one_has_webuis_middleware(target, done_task):
    lean = target.get(f"/queue/v1/tasks/{done_task}", headers=GZIP)
    full = target.get(f"/queue/v1/tasks/{done_task}", headers=ORIGIN)
    assert lean.status_code == full.status_code == 200
    assert unsigned(lean.json()) == unsigned(full.json())
    assert len(lean.content) > 1000
    assert "x-process-time" in full.headers and full.headers.get("content-encoding") == "gzip"
    assert "x-process-time" not in lean.headers and "content-encoding" not in lean.headers


def test_errors_answer_the_same_on_both_lanes(target, done_task):
    for client in (target, target.as_user(None)):  # 404 for an unknown task; 401 without a key (in open mode: 404)
        lean = client.get("/queue/v1/tasks/no-such-task")
        full = client.get("/queue/v1/tasks/no-such-task", headers=ORIGIN)
        assert lean.status_code == full.status_code and lean.status_code in (401, 404)
        assert lean.json() == full.json()
        assert lean.headers.get("www-authenticate") == full.headers.get("www-authenticate")


def test_every_other_request_keeps_webuis_middleware(target, done_task):
    for path in ("/queue/v1/tasks", f"/queue/v1/tasks/{done_task}/images/0", "/queue/v1/health"):
        r = target.get(path, headers=GZIP)
        assert r.status_code == 200 and "x-process-time" in r.headers, path
