"""Submits with an Idempotency-Key: a client whose connection died before the answer
retries with the same key and gets the task its first submit made, never a second one;
at once or a moment later, from one client or several at the same time."""

import threading
import uuid

KEY = "Idempotency-Key"


def small(**kw):
    return {"prompt": "a house", "steps": 2, "width": 64, "height": 64, "seed": 1, **kw}


def count(client):
    return client.get("/queue/v1/tasks").json()["count"]


def test_the_same_key_answers_with_the_first_task_and_makes_no_second(people):
    ann, _ = people
    key = str(uuid.uuid4())
    first = ann.post("/queue/v1/txt2img", json=small(), headers={KEY: key})
    assert first.status_code == 202 and "idempotent-replayed" not in first.headers, first.text
    before = count(ann)
    again = ann.post("/queue/v1/txt2img", json=small(prompt="a retry with another body"), headers={KEY: key})
    assert again.status_code == 202 and again.headers["idempotent-replayed"] == "true", again.text
    assert again.json()["task_id"] == first.json()["task_id"]
    assert count(ann) == before
    assert ann.task(first.json()["task_id"])["params"]["prompt"] == "a house"  # the first submit's
    # a retry that could not be queued is refused as any submit is
    refused = ann.post("/queue/v1/txt2img", json=small(width=100), headers={KEY: key})
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "width"], refused.text
    assert count(ann) == before


def test_a_key_is_each_persons_own(people):
    ann, bob = people
    key = str(uuid.uuid4())
    mine = ann.post("/queue/v1/txt2img", json=small(), headers={KEY: key}).json()["task_id"]
    theirs = bob.post("/queue/v1/txt2img", json=small(), headers={KEY: key}).json()["task_id"]
    assert mine != theirs
    assert bob.get(f"/queue/v1/tasks/{mine}").status_code == 404


def test_submits_with_one_key_at_the_same_time_make_one_task(people):
    ann, _ = people
    key, answers = str(uuid.uuid4()), []
    before = count(ann)

    def send():
        answers.append(ann.post("/queue/v1/txt2img", json=small(), headers={KEY: key}))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {r.status_code for r in answers} == {202}, [r.text for r in answers if r.status_code != 202]
    assert len({r.json()["task_id"] for r in answers}) == 1
    assert count(ann) == before + 1


def test_a_key_that_is_not_printable_ascii_is_refused_naming_the_header(people):
    ann, _ = people
    for bad in ("with spaces", "x" * 256):
        before = count(ann)
        r = ann.post("/queue/v1/txt2img", json=small(), headers={KEY: bad})
        assert r.status_code == 422, r.text
        assert r.json()["detail"][0]["loc"] == ["header", KEY]
        assert count(ann) == before
