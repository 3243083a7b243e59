"""Polls that cost little: a task and the queue view name their answer with an ETag and
answer 304 while it is unchanged; a person's reads over their rate are refused 429 with
Retry-After, the answer held until then; admins are never limited."""

import time
import uuid

import pytest

from .held import paused  # noqa: F401

Q = "/queue/v1"
TINY = {"prompt": "a lighthouse", "steps": 2, "width": 64, "height": 64}


def settled(admin):
    """Nothing runs (the queue is paused): the queue view changes only when a test changes it."""
    deadline = time.monotonic() + 120
    while admin.get(f"{Q}/queue").json()["running"] and time.monotonic() < deadline:
        time.sleep(0.1)


@pytest.mark.parametrize("path", ["task", "queue"])
def test_an_unchanged_answer_is_304_without_a_body_and_a_changed_one_is_200_with_a_new_etag(admin, paused, path):
    ann = admin.add_user(f"ann-{uuid.uuid4().hex[:6]}")
    task_id = paused.track(ann.submit(TINY))
    settled(admin)
    url = f"{Q}/tasks/{task_id}" if path == "task" else f"{Q}/queue"
    first = ann.get(url)
    tag = first.headers["etag"]
    assert first.status_code == 200 and tag.startswith('W/"') and "no-cache" in first.headers["cache-control"]
    again = ann.get(url, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    assert ann.get(url, headers={"If-None-Match": f'W/"other", {tag}'}).status_code == 304  # one of several
    assert ann.post(f"{Q}/tasks/{task_id}/interrupt").json()["status"] == "cancelled"
    deadline = time.monotonic() + 10  # the queue view shows a change after one plan (docs/turns.md)
    changed = ann.get(url, headers={"If-None-Match": tag})
    while changed.status_code == 304 and time.monotonic() < deadline:
        time.sleep(0.2)
        changed = ann.get(url, headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag
    assert changed.json() == ann.get(url).json()


def test_an_etag_is_the_answer_of_its_caller_alone(admin, paused):
    ann, bob = admin.add_user(f"ann-{uuid.uuid4().hex[:6]}"), admin.add_user(f"bob-{uuid.uuid4().hex[:6]}")
    paused.track(ann.submit(TINY))
    settled(admin)
    tag = ann.get(f"{Q}/queue").headers["etag"]
    # bob sees ann's task anonymous: another answer, so his tag is another one too
    assert bob.get(f"{Q}/queue", headers={"If-None-Match": tag}).status_code == 200


@pytest.fixture
def read_rate(admin):
    """Two reads a second with a burst of three, for the test's length."""
    before = admin.options()
    admin.set_options(task_queue_user_reads_per_second=2, task_queue_user_reads_burst=3)
    yield
    admin.set_options(task_queue_user_reads_per_second=before.get("task_queue_user_reads_per_second", 5),
                      task_queue_user_reads_burst=before.get("task_queue_user_reads_burst", 30))


def test_reads_over_a_persons_rate_are_429_with_retry_after_held_until_then(admin, read_rate):
    ann = admin.add_user(f"ann-{uuid.uuid4().hex[:6]}")
    for _ in range(3):
        assert ann.get(f"{Q}/me").status_code == 200
    started = time.monotonic()
    refused = ann.http.get(f"{Q}/queue")  # as sent, not sent again as the client's get does
    held = time.monotonic() - started
    assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
    assert "2 reads a second" in refused.json()["detail"] and "task_queue_user_reads_per_second" in refused.json()["detail"]
    assert held >= 0.3  # the answer came when the next read is allowed: ignoring Retry-After gains nothing
    assert ann.get(f"{Q}/me").status_code == 200  # and then it is
    # a write is not a read: a submit still goes through while reads are spent
    for _ in range(3):
        ann.http.get(f"{Q}/me")
    task_id = ann.submit(TINY)
    assert ann.wait(task_id)["status"] == "done"


def test_admins_read_without_limit(admin, read_rate):
    answers = [admin.get(f"{Q}/queue").status_code for _ in range(12)]
    assert answers == [200] * 12


def test_the_read_rate_and_the_304_are_documented_on_every_read(target):
    paths = target.get("/openapi.json").json()["paths"]
    reads = {path: ops["get"] for path, ops in paths.items() if path.startswith(Q) and "get" in ops}
    assert reads and all("429" in op["responses"] for op in reads.values())
    assert "304" in reads[f"{Q}/tasks/{{task_id}}"]["responses"] and "304" in reads[f"{Q}/queue"]["responses"]
