"""A box whose Redis server is away answers 503 with Retry-After and says why, in one
log line rather than a traceback per request; once Redis is back, the same requests
answer as before, and the queue goes on. A Redis server that hangs (answers nothing)
never stalls webui's event loop: webui's other routes answer meanwhile. A stand-in on a
redis-server of its own."""

import os
import socket
import threading
import time

import httpx

from redis_server import RedisServer, require

ADMIN_KEY = "tq_store-outage-admin-key-012345"
TASK = {"prompt": "before", "steps": 2, "width": 64, "height": 64}


def test_requests_while_redis_is_away_answer_503_and_work_again_after(standin_factory, tmp_path):
    require()
    redis = RedisServer(tmp_path / "redis", persist=True).start()
    box = standin_factory(step_seconds=0.02, admin_key=ADMIN_KEY, redis_url=redis.url, box="box-a").start()
    try:
        client = box.client()
        done = client.submit(TASK)
        assert client.wait(done)["status"] == "done"
        redis.stop()

        asked = {"GET /tasks/{id}": lambda: client.get(f"/queue/v1/tasks/{done}"),
                 "GET /tasks": lambda: client.get("/queue/v1/tasks"),
                 "GET /queue": lambda: client.get("/queue/v1/queue"),
                 "GET /boxes": lambda: client.get("/queue/v1/boxes"),
                 "POST /txt2img": lambda: client.post("/queue/v1/txt2img", json=TASK)}
        for _ in range(3):
            for what, ask in asked.items():
                r = ask()
                assert r.status_code == 503, (what, r.status_code, r.text[:300])
                assert "Redis" in r.json()["detail"] and r.headers["Retry-After"].isdigit(), (what, r.text)

        redis.start()
        deadline = time.monotonic() + 30
        while client.get(f"/queue/v1/tasks/{done}").status_code != 200:
            assert time.monotonic() < deadline, "still not answering with Redis back"
            time.sleep(0.2)
        after = client.submit({**TASK, "prompt": "after"})
        assert client.wait(after)["status"] == "done"
        assert client.get(f"/queue/v1/tasks/{done}").json()["status"] == "done"  # nothing lost
    finally:
        box.stop()
        redis.stop()
    with open(os.path.join(box.folder, "server.log"), errors="replace") as f:
        log = f.read()
    said = [line for line in log.splitlines() if "requests answer 503" in line]
    assert 1 <= len(said) <= 3, said  # 15 requests answered 503: said once, not once each
    assert "Traceback" not in log.split("requests answer 503", 1)[1], log[-3000:]


class Freezer:
    """A TCP relay in front of redis-server that can stop relaying: a server that hangs
    (a machine gone without a word, a stuck process), not one that refuses."""

    def __init__(self, port):
        self.target, self.frozen = port, threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"redis://127.0.0.1:{self.listener.getsockname()[1]}/0"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            client, _ = self.listener.accept()
            server = socket.create_connection(("127.0.0.1", self.target))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._relay, args=(a, b), daemon=True).start()

    def _relay(self, source, sink):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    return
                while self.frozen.is_set():
                    time.sleep(0.05)
                sink.sendall(data)
        except OSError:
            return


def test_a_redis_server_that_hangs_never_stalls_webuis_other_routes(standin_factory, tmp_path):
    require()
    redis = RedisServer(tmp_path / "redis").start()
    relay = Freezer(redis.port)
    box = standin_factory(step_seconds=0.02, admin_key=ADMIN_KEY, redis_url=relay.url, box="box-a").start()
    try:
        client = box.client()
        done = client.submit(TASK)
        assert client.wait(done)["status"] == "done"
        relay.frozen.set()
        answers = []

        def poll():
            with httpx.Client(base_url=box.url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=60) as http:
                answers.append(http.get(f"/queue/v1/tasks/{done}").status_code)

        polls = [threading.Thread(target=poll) for _ in range(4)]
        for thread in polls:
            thread.start()
        time.sleep(0.5)  # the polls wait for Redis now
        started = time.monotonic()
        other = httpx.get(box.url + "/sdapi/v1/loras", timeout=60)  # webui's own route: no store
        took = time.monotonic() - started
        assert other.status_code == 200 and took < 2.0, took
        relay.frozen.clear()
        for thread in polls:
            thread.join(60)
        assert set(answers) <= {200, 503} and len(answers) == 4, answers
        assert client.get(f"/queue/v1/tasks/{done}").status_code == 200
    finally:
        box.stop()
        redis.stop()
