"""`nox -s bench -- switch`: what a checkpoint switch costs with and without the queue's
read-ahead, on a webui running on this machine (TASK_QUEUE_WEBUI_URL, and
TASK_QUEUE_ADMIN_KEY when its queue has users; without the URL: the stand-in).

Each round: checkpoint A is loaded; B's file is dropped from the page cache
(posix_fadvise DONTNEED, so B must come from disk); then
- cold: a task on B runs on an idle queue: nothing reads B ahead;
- ahead: a task on A runs first (read-ahead reads B meanwhile), then the task on B.
The switch cost of a B task is its time in webui's process_images minus the time of
the same B task with B already loaded. Last line JSON."""

import json
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from bench.target import target  # noqa: E402

ROUNDS = int(os.environ.get("SWITCH_ROUNDS", "3"))


def seconds(task):
    from datetime import datetime

    def t(s):
        return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()

    return t(task["process_finished_at"]) - t(task["process_started_at"])


def drop_from_page_cache(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def main():
    with target("switch", step_seconds=0.05) as (client, _):
        models = client.get("/sdapi/v1/sd-models").json()
        (a, b) = models[0], models[1]
        small = {"prompt": "a house", "seed": 1, "steps": 2, "width": 64, "height": 64}
        long = {**small, "steps": int(os.environ.get("SWITCH_LONG_STEPS", "12"))}

        def run(payload, model):
            return client.wait(client.submit({**payload, "checkpoint": model["title"]}), every=0.2)

        # B's generation time without a switch: B loaded, B again
        run(small, b)
        warm = statistics.median(seconds(run(small, b)) for _ in range(2))
        cold, ahead = [], []
        for _ in range(ROUNDS):
            run(small, a)
            drop_from_page_cache(b["filename"])
            cold.append(seconds(run(small, b)) - warm)
            run(small, a)
            drop_from_page_cache(b["filename"])
            first = client.submit({**long, "checkpoint": a["title"]})
            second = client.submit({**small, "checkpoint": b["title"]})
            client.wait(first, every=0.2)
            ahead.append(seconds(client.wait(second, every=0.2)) - warm)
        result = {
            "file_mb": round(os.path.getsize(b["filename"]) / 2 ** 20),
            "switch_cold_s": round(statistics.median(cold), 3),
            "switch_with_readahead_s": round(statistics.median(ahead), 3),
            "readahead_vs_cold": round(statistics.median(ahead) / statistics.median(cold), 3) if statistics.median(cold) > 0 else None,
            "cold_all": [round(x, 3) for x in cold], "ahead_all": [round(x, 3) for x in ahead],
            "b_warm_s": round(warm, 3),
        }
        print(json.dumps(result))


if __name__ == "__main__":
    main()
