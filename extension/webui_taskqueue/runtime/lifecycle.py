"""Wiring: one start() that builds store, worker and routes, safe to call again when
webui rebuilds its app (UI reload), and one stop() that undoes it. Never two workers."""

from __future__ import annotations

import dataclasses
import logging
import mimetypes
import os
import threading
import time
import weakref
from typing import Any, Dict, Optional, Tuple

from fastapi.staticfiles import StaticFiles

from ..api import doors
from ..api.routes import Services, build_router, events, lean, native, starting
from ..api.routes.common import Links
from ..api.routes.events import task_object
from ..boxes.images import BoxImages
from ..boxes.live import Publisher
from ..boxes.name import NameWait
from ..boxes.view import Boxes, ThisBox
from ..host import webui_page
from ..host.contract import Host
from ..intake.payload import Limits
from ..people.accounts import Accounts
from ..people import read_rate
from ..people import settings as personal
from ..people.settings import PageSettings
from ..people.auth import Authenticator
from ..push.events import EventHub
from ..push.webhooks import Policy as WebhookPolicy
from ..push.webhooks import Sender
from ..records.tasks import InvalidTransition, TaskStatus
from ..running.worker import Worker
from ..scheduling.planner import Planner
from ..scheduling.policy import Policy
from ..scheduling.readahead import ReadAhead
from ..service.queue import QueueService
from ..store import choose as stores
from ..store import recovery
from ..store.contract import Store
from ..store.images import ImageStore

log = logging.getLogger(__name__)

# the web page: plain files next to the package (extension/../frontend)
_REPOSITORY = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
FRONTEND_DIR = os.path.join(_REPOSITORY, "frontend")

# webui Settings > Task queue: key -> (default, label)
SETTINGS: Dict[str, Tuple[Any, str]] = {
    "task_queue_dir": ("", "Folder for the queue's database and images (empty: task-queue in webui's data folder; restart to apply)"),
    "task_queue_max_width": (2048, "Largest width a task may ask for"),
    "task_queue_max_height": (2048, "Largest height a task may ask for"),
    "task_queue_max_steps": (150, "Most sampling steps a task may ask for"),
    "task_queue_max_batch_size": (8, "Largest batch size a task may ask for"),
    "task_queue_max_n_iter": (16, "Most batches (n_iter) a task may ask for"),
    "task_queue_max_body_mb": (50, "Largest request body, in MB"),
    # defaults of the per-user limits (0 or empty: no limit); admins are never limited
    "task_queue_user_max_queued": (20, "Per user: tasks queued at once (0: no limit)"),
    "task_queue_user_max_per_hour": (0, "Per user: tasks submitted per hour (0: no limit)"),
    "task_queue_user_max_steps": (0, "Per user: most sampling steps (0: no limit beyond the one above)"),
    "task_queue_user_max_pixels": (0, "Per user: largest width x height (0: no limit beyond the ones above)"),
    "task_queue_user_max_images": (0, "Per user: most images per task, batch size x batch count (0: no limit)"),
    "task_queue_user_checkpoints": ("", "Per user: checkpoints allowed, comma-separated titles or names (empty: all)"),
    # the scheduler: fair turns, and grouping by the loaded model within these bounds
    "task_queue_max_overtaken": (12, "Fewer model switches: most times a task may be overtaken by one on the loaded model (0: never)"),
    "task_queue_max_delay": (120, "Fewer model switches: most seconds a task may wait beyond its fair turn"),
    "task_queue_readahead": (True, "Read the next task's checkpoint into memory while a task runs"),
    "task_queue_pause_after_failures": (5, "Pause the queue after this many tasks failed in a row, until an admin resumes it (0: never)"),
    # webhooks (callback_url): where they may go, and how hard they are tried
    "task_queue_callback_hosts": ("", "Webhooks: allowed callback hosts, comma-separated names, *.domains, addresses or networks; listed hosts may be private (empty: any public host)"),
    "task_queue_callback_tries": (8, "Webhooks: tries per delivery before giving up"),
    "task_queue_callback_retry_seconds": (10.0, "Webhooks: seconds before the second try, doubled for each try after it (at most an hour)"),
    "task_queue_callback_timeout": (10.0, "Webhooks: seconds one try may wait for the receiver"),
    **doors.SETTINGS,  # webui's own API: the guard, and the door into the queue
    **personal.SETTINGS,  # what each person keeps for themselves
    **read_rate.SETTINGS,  # how often a person may read the queue's API
    **stores.SETTINGS,  # a queue shared by several boxes through Redis
}


def limits_from(host: Host) -> Limits:
    def get(name: str):
        key = f"task_queue_{name}"
        return host.option(key, SETTINGS[key][0])

    return Limits(
        max_width=get("max_width"), max_height=get("max_height"), max_steps=get("max_steps"),
        max_batch_size=get("max_batch_size"), max_n_iter=get("max_n_iter"), max_body_mb=get("max_body_mb"),
    )


def policy_from(host: Host) -> Policy:
    def get(name: str):
        key = f"task_queue_{name}"
        return host.option(key, SETTINGS[key][0])

    return Policy(max_overtaken=max(0, int(get("max_overtaken"))), max_delay=max(0.0, float(get("max_delay"))))


def user_limits_from(host: Host) -> Dict[str, Any]:
    """The default limits of every user (webui Settings > Task queue)."""
    def get(name: str):
        key = f"task_queue_user_{name}"
        return host.option(key, SETTINGS[key][0])

    allowed = [c.strip() for c in str(get("checkpoints")).split(",") if c.strip()]
    return {**{name: get(name) for name in ("max_queued", "max_per_hour", "max_steps", "max_pixels", "max_images")},
            "checkpoints": allowed or None}


def read_limits(host: Host) -> Tuple[float, float]:
    """(reads per second, burst) of each person (webui Settings > Task queue)."""
    return tuple(float(host.option(key, read_rate.SETTINGS[key][0]) or 0) for key in (read_rate.PER_SECOND, read_rate.BURST))


def webhook_policy_from(host: Host) -> WebhookPolicy:
    def get(name: str):
        key = f"task_queue_callback_{name}"
        return host.option(key, SETTINGS[key][0])

    return WebhookPolicy(hosts=get("hosts"), tries=max(1, int(get("tries"))),
                         retry_seconds=max(0.0, float(get("retry_seconds"))), timeout=max(0.1, float(get("timeout"))))


@dataclasses.dataclass
class Runtime:
    store: Store
    worker: Worker
    services: Services
    root: str
    apps: weakref.WeakSet = dataclasses.field(default_factory=weakref.WeakSet)  # apps the routes are on
    sender: Optional[Sender] = None  # webhooks
    name_wait: Optional[NameWait] = None  # the box's name held by another box: waits for it
    publisher: Optional[Publisher] = None  # the running task's progress, for the other boxes


_lock = threading.Lock()
_runtime: Optional[Runtime] = None

STOP_SECONDS = 5.0
STOP_MESSAGE = "webui was stopped or restarted while this task ran"


def prepare(app) -> None:
    """webui set up an app it serves (gradio's launch, before webui's API): until start(app)
    the queue answers that it is starting, and webui's own middleware goes in safely."""
    starting.hold(app)


def start(app, host: Host, demo: Any = None) -> Runtime:
    """The queue on webui's `app` (again after a UI reload: the same queue, on the new
    app); `demo`: webui's page (None under --nowebui), whose settings become each
    person's own (host/webui_page.py)."""
    global _runtime
    with _lock:
        if _runtime is None:
            _runtime = _build(host)
        services = _runtime.services
        services.login = lambda cookies: webui_page.login_name(app, cookies)
        if demo is not None:
            host.share_page(demo, PageSettings(services.queue.personal))
        if app not in _runtime.apps:
            runtime = _runtime
            starting.release(app)
            app.include_router(build_router(lambda: runtime.services))
            native.install(app, lambda: runtime.services if _runtime is runtime else None)  # ahead of webui's
            events.keep_uncompressed(app)
            lean.serve_polls_lean(app)
            # ES modules need this type; webui registers it only when its gradio UI loads
            mimetypes.add_type("application/javascript", ".js")
            # after the API routes, so that /queue/v1/... never reaches the static files
            app.mount("/queue", StaticFiles(directory=FRONTEND_DIR, html=True), name="task-queue-frontend")
            app.openapi_schema = None  # rebuilt on the next /docs with our routes in it
            runtime.apps.add(app)
        return _runtime


def stop(timeout: float = STOP_SECONDS) -> None:
    """webui stops, or reloads its scripts: nothing new starts, the running task is
    interrupted and recorded as stopped, queued tasks stay queued for the next start.
    Waits at most `timeout` for the worker to let go of the task (webui's interrupt
    acts at the next sampling step); whatever it leaves, the next start settles."""
    global _runtime
    with _lock:
        runtime, _runtime = _runtime, None
    if runtime is None:
        return
    worker, store = runtime.worker, runtime.store
    if runtime.name_wait is not None:
        runtime.name_wait.stop()
    worker.stop(timeout=0)  # nothing new starts
    runtime.services.events.close()  # open event streams end: the server waits for them
    task_id = worker.running_id()
    if task_id is not None:
        try:
            store.finish(task_id, TaskStatus.INTERRUPTED, time.time(), error=STOP_MESSAGE)
        except (InvalidTransition, KeyError):
            pass  # it ended meanwhile, as it was
        worker.interrupt(task_id)
    deadline = time.monotonic() + timeout
    mine = store.box_error is None  # (else the running tasks under this name are another box's)
    while worker.progress(task_id) is not None or (mine and any(t.box == worker.box for t in store.running())):
        if time.monotonic() > deadline:
            log.warning("task queue: the worker did not let go within %.0f s of stopping", timeout)
            return  # the store stays open for it; the process is ending or a new runtime starts
        time.sleep(0.02)
    if not worker.join(max(0.0, deadline - time.monotonic())):
        log.warning("task queue: the worker did not end within %.0f s of stopping", timeout)
        return  # the store stays open for it
    if worker.readahead is not None:
        worker.readahead.stop()
    if runtime.sender is not None:  # a delivery cut short is due again at the next start
        runtime.sender.stop(max(0.0, deadline - time.monotonic()))
    if runtime.publisher is not None:
        runtime.publisher.stop()
    store.close()


def _recover(store: Store, images: ImageStore) -> None:
    recovered = recovery.recover(store, images, time.time())
    if recovered.failed:
        log.warning("task queue: %d task(s) were running when webui stopped; marked failed", len(recovered.failed))
    if recovered.removed or recovered.partial:
        log.info("task queue: removed %d image folder(s) no task lists and %d cut-short write(s)",
                 len(recovered.removed), recovered.partial)


def _build(host: Host) -> Runtime:
    root = host.option("task_queue_dir", "") or host.data_dir()
    box = stores.box_name(host.option)
    store = stores.open_store(root, host.option, box)
    shared_images = stores.shared_images_dir(host.option)  # several boxes: each stages its writes apart
    images = ImageStore(shared_images or os.path.join(root, "images"), box if shared_images else None)
    held = store.claim_box(time.time())  # None: the box's name is this process's (box_name.py)
    if held is None:
        _recover(store, images)
    planner = Planner(store, host, policy=lambda: policy_from(host))
    readahead = ReadAhead() if host.option("task_queue_readahead", True) else None
    worker = Worker(store, host, images, planner, readahead, pause_after=lambda: host.option(
        "task_queue_pause_after_failures", SETTINGS["task_queue_pause_after_failures"][0]),
        box=box)
    this_box = ThisBox(box, worker, planner)
    store.attach(worker.notify, this_box.describe)  # a task queued on another box (a shared store)
    user_limits = lambda: user_limits_from(host)  # noqa: E731
    webhooks = lambda: webhook_policy_from(host)  # noqa: E731
    auth = Authenticator(store, host.api_credentials, host.page_login)
    box_images = BoxImages(store, box, lambda task_id, kind, index: Links(auth, time.time()).url(task_id, kind, index))
    service = QueueService(store, host, worker, images, planner, limits=lambda: limits_from(host),
                           user_limits=user_limits, webhooks=webhooks, box_images=box_images)
    services = Services(queue=service, accounts=Accounts(store, user_limits),
                        auth=auth, events=EventHub(store, worker, planner),
                        boxes=Boxes(store, this_box), reads=read_rate.ReadRate(lambda: read_limits(host)))
    sender = Sender(store, lambda owner, task_id: task_object(services, owner, task_id), webhooks)
    name_wait = None
    if host.refusal:  # routes answer, nothing runs
        log.error("%s", host.refusal)
    elif held is not None:  # routes answer; the worker starts once the name is free
        log.error("%s", held)
        name_wait = NameWait(store, lambda: (_recover(store, images), worker.start()))
        name_wait.start()
    else:
        worker.start()
    sender.start()
    publisher = Publisher(store, worker, images)  # the running task, told to the other boxes
    publisher.start()
    return Runtime(store=store, worker=worker, services=services, root=root, sender=sender, publisher=publisher,
                   name_wait=name_wait)
