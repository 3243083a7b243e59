"""Box names are unique among the live boxes sharing a queue: a box started under a
name another live box holds does not start its worker (it would fail that box's running
task as its own, left over from a crash), says why in its log and /health, and answers
its routes; it starts once the name is free."""

import time


ADMIN_KEY = "tq_boxnames-admin-0123456789abcd"
PREFIX = "names:"


def health(server):
    return server.client().get("/queue/v1/health").json()


def test_a_second_box_with_a_live_boxs_name_waits_and_says_why(standin_factory, redis):
    first, second = (standin_factory(step_seconds=0.05, admin_key=ADMIN_KEY, redis_url=redis.url, redis_prefix=PREFIX,
                                     box="gpu-1") for _ in range(2))
    first.start()
    client = first.client()
    long = client.submit({"prompt": "long", "steps": 60, "width": 64, "height": 64})
    client.wait(long, until={"running"})
    second.start()
    found = health(second)
    assert found["worker"] == "waiting" and "another box named 'gpu-1' is alive" in found["box_error"]
    assert found["host_error"] is None and health(first)["box_error"] is None
    with open(second.log.name, encoding="utf-8", errors="replace") as f:
        assert "another box named 'gpu-1' is alive" in f.read()
    other = second.client()  # its routes answer; the task runs on the first box
    quick = other.submit({"prompt": "quick", "steps": 2, "width": 64, "height": 64})
    assert client.wait(long)["status"] == "done"  # the second box's start did not fail it as its own
    assert other.wait(quick)["status"] == "done"
    first.stop()  # a clean stop frees the name at once
    deadline = time.monotonic() + 30
    while health(second)["worker"] != "running" and time.monotonic() < deadline:
        time.sleep(0.2)
    found = health(second)
    assert found["worker"] == "running" and found["box_error"] is None
    after = other.submit({"prompt": "after", "steps": 2, "width": 64, "height": 64})
    assert other.wait(after)["status"] == "done" and other.task(after)["box"] == "gpu-1"
