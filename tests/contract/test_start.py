"""Starting while people poll. With its UI, webui serves HTTP from gradio's launch on, sets
its middleware up, adds its API and only then runs the extensions' app_started: a request
in that window made starlette build the app's middleware stack, and webui's next
`add_middleware` raised "Cannot add middleware after an application has started": webui
exited. The stand-in's --start-window reproduces that window; clients poll the queue
and webui's own API throughout each start."""

import threading
import time

import httpx

STARTS = 5
WINDOW_SECONDS = 1.0
PATHS = [("GET", "/queue/v1/health"), ("GET", "/queue/v1/queue"), ("GET", "/queue/v1/tasks"),
         ("GET", "/sdapi/v1/progress"), ("GET", "/sdapi/v1/options"), ("POST", "/queue/v1/txt2img")]


def poll(url, method, path, stop, answers):
    with httpx.Client(timeout=5) as client:
        while not stop.is_set():
            try:
                r = client.request(method, url + path, json={"prompt": "start", "steps": 1, "width": 64, "height": 64}
                                   if method == "POST" else None)
                answers.append((path, r.status_code, r.headers.get("retry-after")))
            except httpx.HTTPError:
                time.sleep(0.01)  # not serving yet


def test_starting_while_clients_poll_never_crashes_and_the_queue_answers_503_until_it_is_ready(standin_factory):
    server = standin_factory(step_seconds=0.01, extra_args=["--start-window", str(WINDOW_SECONDS)])
    answers = []
    for _ in range(STARTS):
        stop = threading.Event()
        pollers = [threading.Thread(target=poll, args=(server.url, method, path, stop, answers), daemon=True)
                   for method, path in PATHS * 2]
        for thread in pollers:
            thread.start()
        try:
            server.start()  # raises when the stand-in exits, as webui did on that refusal
            assert httpx.get(server.url + "/queue/v1/health", timeout=5).json()["status"] == "ok"
        finally:
            stop.set()
            for thread in pollers:
                thread.join()
        server.stop()
    starting = [a for a in answers if a[1] == 503]
    assert starting, "no request landed while the queue was starting"
    assert all(path.startswith("/queue/v1/") and retry == "2" for path, _, retry in starting), starting[:5]
    assert not [a for a in answers if a[1] >= 500 and a[1] != 503], "a server error while starting"
