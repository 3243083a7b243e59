"""What the routes call: submit, look at, stop and forget tasks, on behalf of a user.

Ownership is checked here, once: another user's task answers exactly like an unknown
id. Limits are checked here too, before anything is stored. Routes stay thin: they
parse HTTP, call one method, shape the answer."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import time
import uuid
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ..boxes.live import LiveView
from ..host.contract import Host
from ..intake import fields as request_fields
from ..intake.images import decode_input
from ..intake.payload import Limits, check
from ..people.auth import Forbidden
from ..people.settings import Personal
from ..push.webhooks import Policy as WebhookPolicy
from ..push.webhooks import default_callback, take_callback
from ..records import quotas
from ..records.errors import Conflict, NotFound, PayloadError, error
from ..records.tasks import InvalidTransition, Queued, Task, TaskStatus, TaskType
from ..records.users import User
from ..running.worker import PAUSED, Worker
from ..scheduling.planner import Planner
from ..scheduling.policy import Plan
from ..scheduling.speeds import work_of
from ..store.contract import Store
from ..store.images import ImageStore
from ..store.inputs import join as join_inputs
from ..store.push import Delivery
from .ordering import Ordering
from .task_view import TaskView

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENT_SECONDS = 24 * 3600.0
IDEMPOTENT_TURNS = 100
_KEY = re.compile(r"[\x21-\x7e]{1,255}\Z")  # printable ASCII, no spaces: what clients send (UUIDs)


def idempotency_key_problem(key: str) -> Optional[str]:
    if not _KEY.match(key):
        return "must be 1 to 255 printable ASCII characters without spaces (a UUID, say)"
    return None


class QueueService(Ordering):
    def __init__(
        self,
        store: Store,
        host: Host,
        worker: Worker,
        images: ImageStore,
        planner: Planner,
        limits: Callable[[], Limits],
        user_limits: Callable[[], Dict[str, Any]],
        clock: Callable[[], float] = time.time,
        webhooks: Callable[[], WebhookPolicy] = WebhookPolicy,
        box_images: Any = None,
    ) -> None:
        """`limits`: the bounds for every request; `user_limits`: the default per-user
        limits (both from webui's Settings, read on each call so changes apply at once);
        `box_images`: boxes.images.BoxImages, images made on other boxes (None: one box)."""
        self.store, self.host, self.worker, self.images, self.planner = store, host, worker, images, planner
        self.limits, self.user_limits, self.clock, self.webhooks = limits, user_limits, clock, webhooks
        self.live, self.box_images = LiveView(store, worker), box_images
        self.personal = Personal(store, host)
        self._fields: Dict[str, request_fields.Fields] = {}

    # ---- submit ------------------------------------------------------------------------

    def submit(self, user: User, kind: TaskType, body, idempotency_key: Optional[str] = None) -> TaskView:
        """Queue a task. With an `idempotency_key`, the same key from the same person within
        a day answers with the task its first submit made (`replayed`): a client whose
        connection died before the answer retries without making two. A retry is checked
        as any submit is (a request that could not be queued is refused, replayed or not);
        its limits are not counted again."""
        problem = None if idempotency_key is None else idempotency_key_problem(idempotency_key)
        if problem:
            raise PayloadError([{"loc": ["header", IDEMPOTENCY_HEADER], "msg": problem, "type": "value_error"}])
        if isinstance(body, dict):
            body = self.personal.fill(user, body)
        body, callback_url = take_callback(body, self.webhooks().hosts, default_callback(self.store, user.name))
        params = check(kind.value, body, self.limits(), self.fields(kind.value), self.host.setting,
                       lambda given: self.host.apply_infotext(kind.value, given))
        checkpoint, vae = self._resolve(kind, params)
        task_id, earlier = uuid.uuid4().hex, None
        if idempotency_key is not None:
            task_id, earlier = self._idempotent(user, idempotency_key)
            if earlier is not None:
                return self._replayed(earlier)
        now = self.clock()
        limits = self.limits_of(user)
        loads = [checkpoint] + [self.host.resolve_checkpoint(params[k]) or params[k]
                                for k in ("hr_checkpoint_name", "refiner_checkpoint") if params.get(k)]
        errors = quotas.request_errors(params, loads, limits, lambda title: self._allowed(limits, title),
                                       self.store.usage(user.name, now))
        if errors:
            raise PayloadError(errors)
        task = Task(task_id=task_id, type=kind, owner=user.name, checkpoint=checkpoint, vae=vae,
                    params=params, created_at=now, sort_order=now, work=work_of(params),
                    size=f"{params.get('width', 512)}x{params.get('height', 512)}", callback_url=callback_url)
        try:
            self.store.add(task, max_queued=limits["max_queued"], max_per_hour=limits["max_per_hour"])
        except KeyError:  # the same key's first submit, a moment ahead of this one
            earlier = self.store.get(task_id)
            if idempotency_key is None or earlier is None:
                raise
            return self._replayed(earlier)
        self.planner.invalidate()
        view = self._view(task)  # its place at submission, before the worker may take it
        if view.position is None:  # a free worker took it that moment: it runs
            view = self._view(self.store.get(task_id) or task)
        self.worker.notify()
        return view

    def fields(self, kind: str) -> request_fields.Fields:
        """The fields a request of this tab may have: webui's request model's, read once
        (webui builds its models at start; the routes ask when they are built)."""
        if kind not in self._fields:
            self._fields[kind] = request_fields.from_model(self.host.request_model(kind))
        return self._fields[kind]

    def limits_of(self, user: User) -> Dict[str, Any]:
        return quotas.effective(user, self.user_limits())

    def _allowed(self, limits: Dict[str, Any], title: str) -> bool:
        allowed = limits["checkpoints"]
        return not allowed or any(self.host.resolve_checkpoint(name) == title for name in allowed)

    def _resolve(self, kind: TaskType, params: dict) -> Tuple[str, Optional[str]]:
        """Names that only webui can check; normalizes them in `params` as accepted."""
        errors = []
        requested = params.pop("checkpoint", None)
        checkpoint = self.host.resolve_checkpoint(requested) if requested else self.host.default_checkpoint()
        if checkpoint is None:
            errors.append(error("checkpoint", f"unknown checkpoint {requested!r}" if requested else "webui has no checkpoint"))
        vae = params.pop("vae", None)
        try:
            if vae is not None and self.host.resolve_vae(vae) is None:
                errors.append(error("vae", f"unknown VAE {vae!r}"))
        except ValueError as e:  # a choice this host cannot make (Forge: "Automatic")
            errors.append(error(*e.args))
        # webui's API defaults to its request model's sampler_index (Euler), not samplers[0]
        named, by_index = params.pop("sampler_name", None), params.pop("sampler_index", None)
        default = self.fields(kind.value).get("sampler_index")
        sampler = named or by_index or (default.default if default else None)
        try:
            params["sampler_name"], params["scheduler"] = self.host.resolve_sampler(sampler, params.get("scheduler"))
        except ValueError as e:
            field, reason = e.args
            errors.append(error(field, reason))
        if params.get("hr_sampler_name") == "Use same sampler":  # what webui's UI sends; its API takes None
            del params["hr_sampler_name"]
        errors += [error(field, reason) for field, reason in self.host.name_errors(params)]
        if params.get("script_name") or params.get("alwayson_scripts"):
            errors += [error(field, reason) for field, reason in
                       self.host.script_errors(kind.value, params.get("script_name"), params.get("alwayson_scripts") or {})]
        if errors:
            raise PayloadError(errors)
        return checkpoint, vae

    # ---- read ----------------------------------------------------------------------------

    def get(self, user: User, task_id: str) -> TaskView:
        return self._mine(user, self._view(self._owned(user, task_id)))

    def get_at_once(self, user: User, task_id: str) -> Optional[TaskView]:
        """`get`, or None when answering would have to plan the queue first (a task
        just submitted) or read a store whose reads may wait on a network
        (Store.reads_wait): what a status poll on the event loop may do without stalling it."""
        if self.store.reads_wait:
            return None
        task = self._owned(user, task_id)
        if task.status == TaskStatus.QUEUED and not self.planner.holds(task_id):
            return None
        return self._mine(user, self._view(task))

    def list(self, user: User, statuses: Sequence[TaskStatus], limit: int, offset: int,
             owner: Optional[str] = None, everyone: bool = False) -> Tuple[List[TaskView], int]:
        if not user.is_admin:
            owner, everyone = user.name, False
        elif owner is None and not everyone:
            owner = user.name
        tasks, count = self.store.list(owner=owner, statuses=statuses, limit=limit, offset=offset)
        return [self._mine(user, self._view(t)) for t in tasks], count

    def queue(self, user: User, limit: int = 500, offset: int = 0) -> dict:
        """Running and queued tasks in run order (a page of them), other people's
        anonymous, from the scheduler's light records: never the stored parameters."""
        running = self.store.running()
        plan, left = self.planner.current(), self._running_left()
        views = [self._view(t) for t in running] if offset == 0 else []
        for light in plan.waiting(offset - len(running), offset + limit - len(running)):
            views.append(self._view(_light_task(light), plan, left))
        for view in views:
            view.mine = view.task.owner == user.name
            view.anonymous = not (user.is_admin or view.mine)
        queued = len(plan)
        return {"paused": self.store.get_flag(PAUSED), "running": len(running), "data": views[:limit],
                "count": len(running) + queued, "eta_seconds": self._eta_all(plan, len(running))}

    def preview(self, user: User, task_id: str) -> Optional[Tuple[str, bytes]]:
        return self.live.preview(self._owned(user, task_id))

    def image_path(self, user: User, task_id: str, index: int, thumb: bool = False):
        """A result's file (or its thumbnail's), or boxes.images.Fetched from the box that made it."""
        return self.image_of(self._owned(user, task_id), index, thumb)

    def image_of(self, task: Task, index: int, thumb: bool = False):
        """`image_path` of a task the caller may see."""
        task_id = task.task_id
        if not 0 <= index < len(task.images):
            raise NotFound(f"task {task_id} has no image {index}")
        path = self.images.path(task_id, task.images[index])
        if path:
            return self.images.thumbnail(task_id, task.images[index]) if thumb else path
        if self.box_images is None:
            raise NotFound(f"task {task_id} has no image {index}")
        return self.box_images.fetch(task, "thumb" if thumb else "image", index)

    def input_image(self, user: User, task_id: str, index: int) -> Tuple[bytes, str]:
        """An img2img task's init image as it was sent: (bytes, media type)."""
        task = self._owned(user, task_id)
        inputs = join_inputs(task.params, self.store.inputs(task_id)).get("init_images") or []
        if not 0 <= index < len(inputs):
            raise NotFound(f"task {task_id} has no input image {index}")
        return decode_input(inputs[index])

    def checkpoints(self, user: User) -> dict:
        """What webui knows, less what `user` may not use; `default`: the one a task of
        theirs runs on when it names none (their own pick, else the box's)."""
        found, loaded = self.host.checkpoints()
        limits = self.limits_of(user)
        own = self.personal.own(user).values.get("sd_model_checkpoint")
        return {
            "data": [{**dataclasses.asdict(c), "loaded": c.title == loaded}
                     for c in found if self._allowed(limits, c.title)],
            "loaded": loaded,
            "default": own or self.host.default_checkpoint(),
        }

    def scripts(self) -> dict:
        """What each tab offers, as webui's API names it."""
        return {kind: [dataclasses.asdict(s) for s in self.host.scripts(kind)] for kind in ("txt2img", "img2img")}

    def prompt_extras(self, kind: str) -> dict:
        """webui's styles, LoRAs, embeddings or hires upscalers, as the API lists them."""
        host = self.host
        found = {
            "styles": lambda: [dataclasses.asdict(s) for s in host.styles()],
            "loras": lambda: [dataclasses.asdict(x) for x in host.loras()],
            "embeddings": lambda: [{"name": name} for name in host.embeddings()],
            "upscalers": lambda: [dataclasses.asdict(u) for u in host.upscalers()],
        }[kind]()
        return {"data": found}

    def health(self) -> dict:
        return {
            "status": "ok",
            "queued": self.store.count(TaskStatus.QUEUED),
            "running": self.store.count(TaskStatus.RUNNING),
            "paused": self.store.get_flag(PAUSED),
            "worker": "running" if self.worker.is_alive() else (
                "refused" if self.host.refusal else "waiting" if self.store.box_error else "stopped"),
            "host": self.host.name,
            "host_error": self.host.refusal,
            "box_error": self.store.box_error,  # another live box has this box's name
            **self.worker.failures.summary(),  # why it paused itself, the last errors
        }

    # ---- act ------------------------------------------------------------------------------

    def interrupt(self, user: User, task_id: str) -> TaskView:
        """Queued: cancel. Running: interrupt (it ends `interrupted`). Final: Conflict."""
        task = self._owned(user, task_id)
        if task.status == TaskStatus.QUEUED:
            try:
                task = self.store.cancel(task_id, self.clock())
                self.planner.invalidate()
                return self._view(task)
            except InvalidTransition:
                pass  # the worker took it a moment ago: interrupt it instead
        if self.live.interrupt(task_id):
            return self._view(self.store.get(task_id) or task)
        task = self.store.get(task_id) or task
        raise Conflict(f"task {task_id} is {task.status.value}")

    def delete(self, user: User, task_id: str) -> None:
        task = self._owned(user, task_id)
        try:
            self.store.delete(task_id)
        except ValueError:
            raise Conflict(f"task {task_id} is {task.status.value}; interrupt it first") from None
        self.images.delete(task_id)
        if self.box_images is not None:  # made on another box: it deletes them
            self.box_images.forget(task)

    def set_paused(self, user: User, paused: bool) -> dict:
        if not user.is_admin:
            raise Forbidden("only an admin may pause or resume the queue")
        if not paused:
            self.worker.failures.clear()  # a resume starts the failure streak anew
        self.store.set_flag(PAUSED, paused)
        if not paused:
            self.worker.notify()
        return {"paused": paused}

    # ---- helpers ---------------------------------------------------------------------------

    def _replayed(self, earlier: Task) -> TaskView:
        return dataclasses.replace(self._view(earlier), replayed=True)

    def _idempotent(self, user: User, key: str) -> Tuple[str, Optional[Task]]:
        """(the task id this person's key names, the task its first submit made within a
        day, if it is still there). The id is derived from the person and the key, so two
        submits with one key can never both be stored, on any store or box."""
        now = self.clock()
        for turn in range(IDEMPOTENT_TURNS):  # a key used again after a day names a new task
            task_id = hashlib.sha256(f"{user.name}\0{key}\0{turn}".encode()).hexdigest()[:32]
            task = self.store.get(task_id)
            if task is None:
                return task_id, None
            if task.owner == user.name and now - task.created_at < IDEMPOTENT_SECONDS:
                return task_id, task
        raise Conflict(f"{IDEMPOTENCY_HEADER} {key!r} was used for {IDEMPOTENT_TURNS} days of tasks: take a new one")

    def _owned(self, user: User, task_id: str) -> Task:
        task = self.store.get(task_id)
        if task is None or not (user.is_admin or task.owner == user.name):
            raise NotFound(f"no task {task_id}")
        return task

    @staticmethod
    def _mine(user: User, view: TaskView) -> TaskView:
        view.mine = view.task.owner == user.name
        return view

    def _view(self, task: Task, plan: Optional[Plan] = None, left: Optional[float] = None, fresh: bool = False) -> TaskView:
        """`plan` and `left` (the running task's seconds left), when the caller has them
        already for many tasks; `fresh`: the caller just reordered the queue."""
        callback = self._callback(task)
        if task.status == TaskStatus.QUEUED:
            plan = self.planner.current(needs=task.task_id, fresh=fresh) if plan is None else plan
            position = plan.position(task.task_id)
            running = (self.worker.running_id() is not None) + self.live.others().running
            view = TaskView(task, position=position, ahead=None if position is None else position - 1 + running,
                            callback=callback)
            end = plan.end(task.task_id) if position is not None and self.planner.speeds.known else None
            if end is not None:
                view.eta = self._eta(self._running_left() if left is None else left, end)
            return view
        if task.status == TaskStatus.RUNNING:
            progress = self.live.progress(task)
            return TaskView(task, progress=progress, eta=progress.eta_seconds if progress else None, callback=callback)
        return TaskView(task, callback=callback)

    def _callback(self, task: Task) -> Optional[Delivery]:
        """Its webhook: a delivery exists from the final state on; before, one to come
        (no store read on the poll of a queued or running task)."""
        if not task.callback_url:
            return None
        found = self.store.delivery(task.task_id) if task.is_final else None
        return found or Delivery(task.task_id, task.owner, task.callback_url)

    def _running_left(self) -> float:
        """Seconds until the running task (if any) is expected to end."""
        running = self.worker.running_id()
        progress = self.worker.progress(running) if running else None
        if progress is None:
            return 0.0
        return progress.eta_seconds if progress.eta_seconds is not None else 0.0

    def _eta(self, left: float, end: float) -> float:
        """Seconds until a queued task ends: `end` (from the plan) after this box's running
        task, `left` seconds to go. Boxes that share the queue work through it side by
        side: the time left on every box's running task and the work up to this one's
        end, spread over the boxes."""
        others = self.live.others()
        return round((left + others.seconds_left + end) / (1 + others.boxes), 1)

    def _eta_all(self, plan, running: int) -> Optional[float]:
        """Seconds until everything queued and running now is done."""
        last = plan.waiting(len(plan) - 1)
        if not last:
            return round(max(self._running_left(), self.live.others().longest_left), 1) if running else 0.0
        end = plan.end(last[0].task_id) if self.planner.speeds.known else None
        return None if end is None else self._eta(self._running_left(), end)


def _light_task(light: Queued) -> Task:
    """A queued task as the queue view shows it: what the light record holds."""
    return Task(task_id=light.task_id, type=TaskType(light.type), owner=light.owner, checkpoint=light.checkpoint,
                vae=light.vae, params={}, created_at=light.created_at, size=light.size)
