"""Webhooks without a server: which URLs may be called, the signature, and the sender's
policy (retries, backoff, giving up) with a fake clock and a recording POST."""

import json

import pytest

from webui_taskqueue.push import webhooks
from webui_taskqueue.records.errors import PayloadError
from webui_taskqueue.store.memory import MemoryStore
from webui_taskqueue.records.tasks import Task, TaskType
from webui_taskqueue.push.webhooks import Policy, Sender, backoff, sign, url_problem, verify


@pytest.mark.parametrize("url, hosts, allowed", [
    ("https://hooks.example.org/x?a=1", "", True),
    ("http://93.184.216.34:8080/", "", True),
    ("http://127.0.0.1:9/x", "", False),  # loopback: only when listed
    ("http://[::1]/x", "", False),
    ("http://10.0.0.5/x", "", False),
    ("http://169.254.169.254/latest", "", False),  # link-local (cloud metadata)
    ("http://127.0.0.1:9/x", "127.0.0.1", True),
    ("http://10.0.0.5/x", "10.0.0.0/8", True),
    ("http://a.hooks.example.org/", "*.example.org", True),
    ("http://example.com/", "*.example.org, 127.0.0.1", False),  # a list allows only what it lists
    ("ftp://example.org/", "", False),
    ("http://user:pw@example.org/", "", False),
    ("http://exa mple.org/", "", False),
    ("HTTP://example.org/", "", False),
    ("http://example.org:70000/", "", False),
    ("http://" + "a" * 2050, "", False),
    (None, "", False),
])
def test_which_urls_may_be_callbacks(url, hosts, allowed):
    assert (url_problem(url, hosts) is None) == allowed


def test_a_name_is_judged_by_its_addresses_before_each_try():
    assert webhooks.resolved_problem("http://localhost:9/x", "") is not None  # resolves to loopback
    assert webhooks.resolved_problem("http://localhost:9/x", "localhost") is None


def test_take_callback_leaves_the_body_as_it_was_and_names_the_field():
    body = {"prompt": "p", "callback_url": "https://example.org/h"}
    rest, url = webhooks.take_callback(body, "")
    assert rest == {"prompt": "p"} and url == "https://example.org/h" and "callback_url" in body
    assert webhooks.take_callback({"prompt": "p", "callback_url": None}, "") == ({"prompt": "p"}, None)
    with pytest.raises(PayloadError) as e:
        webhooks.take_callback({"callback_url": "http://127.0.0.1/"}, "")
    assert e.value.errors[0]["loc"] == ["body", "callback_url"]


def test_the_signature_verifies_and_a_changed_body_old_time_or_other_secret_does_not():
    body = b'{"task_id":"t1","status":"done"}'
    header = sign("s3cret", body, 1000)
    assert header.startswith("t=1000,v1=") and verify("s3cret", header, body, now=1100)
    assert not verify("s3cret", header, body + b" ", now=1100)
    assert not verify("other", header, body, now=1100)
    assert not verify("s3cret", header, body, now=1000 + 301)
    assert not verify("s3cret", "garbage", body, now=1000)


def test_backoff_doubles_and_is_capped():
    assert [backoff(n, 10) for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert backoff(30, 10) == webhooks.MAX_DELAY


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def setup_sender(answers, tries=3, hosts="127.0.0.1"):
    store, clock, sent = MemoryStore(), Clock(), []
    store.add(Task(task_id="t1", type=TaskType.TXT2IMG, owner="ann", checkpoint="c", params={}, created_at=1.0,
                   callback_url="http://127.0.0.1:9/hook"))
    store.cancel("t1", clock.now)

    def post(url, body, headers, timeout):
        sent.append((url, body, headers, timeout))
        return answers.pop(0)

    sender = Sender(store, lambda owner, task_id: {"task_id": task_id, "owner": owner}, clock=clock, send=post,
                    policy=lambda: Policy(hosts=hosts, tries=tries, retry_seconds=5.0, timeout=2.0))
    return store, clock, sent, sender


def test_the_sender_retries_with_backoff_and_records_each_try():
    store, clock, sent, sender = setup_sender([(500, None), (None, "ConnectionRefusedError"), (204, None)])
    assert sender.run_once() == 1
    found = store.delivery("t1")
    assert (found.attempts, found.last_status, found.next_try_at) == (1, 500, 105.0)
    assert sender.run_once() == 0  # not due yet
    clock.now = 105.0
    sender.run_once()
    assert store.delivery("t1").next_try_at == 115.0 and store.delivery("t1").last_error == "ConnectionRefusedError"
    clock.now = 115.0
    sender.run_once()
    done = store.delivery("t1")
    assert (done.attempts, done.last_status, done.delivered_at, done.next_try_at) == (3, 204, 115.0, None)
    url, body, headers, timeout = sent[-1]
    assert json.loads(body) == {"task_id": "t1", "owner": "ann"} and timeout == 2.0
    assert verify(store.webhook_secret("ann"), headers["X-Queue-Signature"], body, now=115.0)
    assert headers["X-Queue-Task"] == "t1" and headers["X-Queue-Attempt"] == "3"


def test_the_sender_gives_up_after_the_tries_and_at_once_on_a_host_no_longer_allowed():
    store, clock, sent, sender = setup_sender([(500, None), (500, None)], tries=2)
    sender.run_once()
    clock.now = 105.0
    sender.run_once()
    gone = store.delivery("t1")
    assert gone.attempts == 2 and gone.gave_up_at == 105.0 and gone.next_try_at is None and len(sent) == 2
    store, clock, sent, sender = setup_sender([], hosts="")  # loopback, no longer on the list
    sender.run_once()
    gone = store.delivery("t1")
    assert gone.gave_up_at == 100.0 and "loopback" in gone.last_error and sent == []


def test_a_real_post_reports_no_answer_as_an_error():
    status, error = webhooks.post("http://127.0.0.1:9/x", b"{}", {}, timeout=1.0)  # port 9: nobody listens
    assert status is None and "Error" in error
    status, error = webhooks.post("http://127.0.0.1:9/\u0100", b"{}", {}, timeout=1.0)  # not sendable
    assert status is None and error


def test_a_name_that_cannot_be_resolved_or_spelled_is_a_problem_not_an_error():
    assert "cannot be resolved" in webhooks.resolved_problem("http://" + "\u0100" * 70 + "/", "")
    assert webhooks.url_problem("http://example.org/\n", "") is not None


def test_the_push_guides_verification_snippet_accepts_ours_and_refuses_forgeries_and_replays():
    import os
    import re

    guide = open(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "push.md")).read()
    snippet = next(block for block in re.findall(r"```python\n(.*?)```", guide, re.S) if "def verify" in block)
    scope = {}
    exec(snippet, scope)
    body = json.dumps({"task_id": "t1", "status": "done"}).encode()
    header = sign("s3cret", body, 1000)
    assert scope["verify"]("s3cret", header, body, now=1010)
    assert not scope["verify"]("s3cret", header, body.replace(b"done", b"failed"), now=1010)
    assert not scope["verify"]("s3cret", header, body, now=1000 + 301)
    assert not scope["verify"]("other", header, body, now=1010)
