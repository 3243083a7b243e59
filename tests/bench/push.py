"""What push costs the generation, measured side by side in one run.

Blocks of 5 small tasks, in three arms taken in turn (rotated each round, so that
machine noise and drift hit all three):
  plain     nothing attached;
  webhooks  every task has a callback_url to a receiver that takes 30 s to answer
            (the sender waits on it, one delivery after another, all through the run);
  streams   100 event streams open at once, of a user with no tasks (idle: they get
            keep-alives only).
The stand-in by default (loopback callbacks allowed through its settings file); a
real webui with TASK_QUEUE_WEBUI_URL, whose owner allowed 127.0.0.1 as a callback host.
The last line printed is a JSON object: for each arm the median seconds of webui's own
generation per task (process_images, from the task records) and the end-to-end time of
its blocks, with the ratios of each arm over plain:
  webhooks_vs_plain_generation, webhooks_vs_plain_end_to_end,
  streams_vs_plain_generation, streams_vs_plain_end_to_end"""

import json
import os
import statistics
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from bench.target import queue_block, seconds, target  # noqa: E402

ROUNDS, BLOCK, STREAMS, RECEIVER_SECONDS = 4, 5, 100, 30.0
ARMS = ("plain", "webhooks", "streams")


class SlowReceiver:
    """Answers every webhook after 30 s."""

    def __init__(self):
        self.received = 0

        class Handler(BaseHTTPRequestHandler):
            def do_POST(handler):
                handler.rfile.read(int(handler.headers["Content-Length"]))
                self.received += 1
                time.sleep(RECEIVER_SECONDS)
                handler.send_response(200)
                handler.send_header("Content-Length", "0")
                handler.end_headers()

            def log_message(handler, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class IdleStreams:
    """`n` event streams held open, each read on its own thread."""

    def __init__(self, url, key, n):
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.clients = [httpx.Client(base_url=url, headers=headers, timeout=httpx.Timeout(30, read=None))
                        for _ in range(n)]
        self.opened = threading.Semaphore(0)
        self.threads = [threading.Thread(target=self._read, args=(c,), daemon=True) for c in self.clients]
        for thread in self.threads:
            thread.start()
        for _ in self.clients:
            assert self.opened.acquire(timeout=60), "a stream did not open"

    def _read(self, client):
        try:
            with client.stream("GET", "/queue/v1/events") as r:
                assert r.status_code == 200, r.status_code
                self.opened.release()
                for _ in r.iter_raw():
                    pass
        except Exception:
            pass

    def close(self):
        for client in self.clients:
            client.close()


def main():
    options = {"task_queue_callback_hosts": "127.0.0.1", "task_queue_callback_timeout": RECEIVER_SECONDS * 2,
               "task_queue_callback_tries": 1}
    with target("push", step_seconds=0.05) as (client, real):
        before = client.options()
        client.set_options(**options)
        receiver = SlowReceiver()
        idle_key = None
        if client.key:  # a user with no tasks, whose streams stay idle
            idle_key = client.add_user(f"idle-{uuid.uuid4().hex[:6]}").key
        payload = {"prompt": "a house", "steps": 2 if real else 8, "width": 64, "height": 64}
        client.wait(client.submit(payload))  # warm up outside the measurement
        totals = {arm: 0.0 for arm in ARMS}
        generation = {arm: [] for arm in ARMS}
        try:
            for round_no in range(ROUNDS):
                order = ARMS[round_no % 3:] + ARMS[:round_no % 3]
                for arm in order:
                    payloads = [dict(payload, seed=round_no * 100 + i) for i in range(BLOCK)]
                    if arm == "webhooks":
                        payloads = [dict(p, callback_url=receiver.url) for p in payloads]
                    streams = IdleStreams(client.url, idle_key, STREAMS) if arm == "streams" else None
                    try:
                        elapsed, tasks = queue_block(client, payloads)
                    finally:
                        if streams:
                            streams.close()
                    totals[arm] += elapsed
                    generation[arm] += [seconds(t["process_finished_at"]) - seconds(t["process_started_at"])
                                        for t in tasks]
                print(f"round {round_no}: " + ", ".join(f"{a} {totals[a]:.3f}s" for a in ARMS)
                      + f" (running totals; webhooks received {receiver.received})", flush=True)
        finally:
            client.set_options(**{k: before.get(k, v) for k, v in
                                  {"task_queue_callback_hosts": "", "task_queue_callback_timeout": 10.0,
                                   "task_queue_callback_tries": 8}.items()})
    median = {arm: statistics.median(generation[arm]) for arm in ARMS}
    result = {
        "benchmark": "push",
        "target": "webui" if real else "standin",
        "tasks_per_arm": ROUNDS * BLOCK,
        "streams": STREAMS,
        "receiver_seconds": RECEIVER_SECONDS,
        "webhooks_received": receiver.received,
        **{f"{arm}_generation_s_median": round(median[arm], 4) for arm in ARMS},
        **{f"{arm}_end_to_end_s": round(totals[arm], 3) for arm in ARMS},
        "webhooks_vs_plain_generation": round(median["webhooks"] / median["plain"], 4),
        "webhooks_vs_plain_end_to_end": round(totals["webhooks"] / totals["plain"], 4),
        "streams_vs_plain_generation": round(median["streams"] / median["plain"], 4),
        "streams_vs_plain_end_to_end": round(totals["streams"] / totals["plain"], 4),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
