"""The shared store: one Redis server that several boxes (webui processes) use as one
queue. The same contract as the SQLite store (store.contract.Store), the same contract
tests.

Every multi-key change is one Lua script (`lua/`, loaded by scripts.py), so a claim, a
quota check, a final state with its event and webhook happen whole or not at all,
whichever box runs them. A task is a hash of its fields as JSON; sorted sets by submission number index it
by status, owner and both. The queued tasks' light records are a hash that the scripts
keep current, with a version counter and a log of which tasks changed: a box keeps them
in memory and catches up with the changes since the version it holds.
All keys start with a prefix, so one server can hold several queues (and tests)."""

from __future__ import annotations

import dataclasses
import json
import logging
import secrets
import threading
import time
from typing import Any, Dict, List, Optional

from ...records.tasks import TRANSITIONS, InvalidTransition, Queued, Task, TaskStatus, TaskType, check_transition
from ...records.users import Usage
from .. import push as push_store
from ..contract import HOUR, Store, check_quota
from ..inputs import split as split_inputs
from . import scripts
from .boxes import ALIVE_SECONDS, RedisBoxes
from .live import RedisLive
from .push import RedisPush
from .users import RedisUsers

log = logging.getLogger(__name__)
FIELDS = [f.name for f in dataclasses.fields(Task)]
DEFAULT_PREFIX = "taskqueue:"  # one Redis server can hold several queues, each under its own prefix


class RedisStore(RedisLive, RedisBoxes, RedisUsers, RedisPush, Store):
    reads_wait = True

    def __init__(self, url: str, prefix: str = DEFAULT_PREFIX, box: Optional[str] = None,
                 alive: float = ALIVE_SECONDS, box_url: Optional[str] = None, password: Optional[str] = None,
                 box_id: Optional[str] = None) -> None:
        """`box`: this process's name among the boxes sharing the queue; `alive`: seconds
        after which a box that has not said it is alive counts as stopped (redis/boxes.py);
        `box_url`: where the other boxes reach this one (boxes/images.py); `password`: the
        server's, when the URL has none (stores.PASSWORD_ENV); `box_id`: this box's lasting
        id (stores.box_id; None: this process's own)."""
        try:
            import redis  # only a queue on Redis needs the client
        except ImportError:
            raise RuntimeError("a Redis URL is set, but the Python package `redis` is missing: "
                               "pip install redis, or clear the Redis URL to use SQLite") from None
        extra = {} if password is None else {"password": password}  # (a password in the URL wins)
        self._redis = redis.Redis.from_url(url, decode_responses=True, health_check_interval=30, **extra)
        self._redis.ping()  # a wrong URL fails now, not at the first submit
        self._errors = redis.exceptions
        self._token = box_id or secrets.token_hex(8)  # this box, among any that use the same name
        self.prefix, self.box, self.alive, self.box_url = prefix, box, alive, box_url
        self._scripts = {name: self._redis.register_script(lua) for name, lua in scripts.sources().items()}
        # the queued tasks' light records as this box last read them, at `_version`
        self._lock = threading.Lock()
        self._queued: Dict[str, Queued] = {}
        self._version = -1
        self._listener = None  # the thread that hears of other boxes' work (attach)
        self._heart: Optional[threading.Thread] = None  # the one that says this box is alive
        self._stopping = threading.Event()

    def _k(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    def _run(self, script: str, *args: Any) -> Any:
        """A script with the prefix and the event window first, as every script expects."""
        return self._scripts[script](args=[self.prefix, push_store.EVENTS_KEPT, *args])

    def _watched(self, key: str, change) -> Any:
        """Optimistic: `change(pipe)` reads under WATCH, queues its writes after
        pipe.multi(); run again if `key` changed meanwhile."""
        with self._redis.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    result = change(pipe)
                    pipe.execute()
                    return result
                except self._errors.WatchError:
                    continue

    def attach(self, wake, describe=dict):
        """A task queued or the queue resumed on any box: Redis publishes it, a thread
        of ours hears it. After a lost connection, `wake` too: what was said meanwhile
        went unheard, and the worker looks at the store itself. A named box also starts
        saying it is alive, with `describe()`, and looking for boxes that stopped
        (redis/boxes.py)."""
        self._describe = describe

        def failed(error, pubsub, thread):
            log.warning("task queue: lost Redis while listening for work (%s); listening again", error)
            time.sleep(1.0)
            try:
                pubsub.ping()  # connects and subscribes again, before the worker looks
            except self._errors.RedisError:
                return  # still away: the next read fails here again
            wake()

        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(**{self._k("work"): lambda message: wake()})
        self._listener = pubsub.run_in_thread(sleep_time=1.0, daemon=True, exception_handler=failed)
        if self.box:
            self._heart = threading.Thread(target=self._keep_alive, args=(self._stopping,),
                                           name="task-queue-heartbeat", daemon=True)
            self._heart.start()

    def close(self) -> None:
        self._stopping.set()
        if self._listener is not None:
            self._listener.stop()
            self._listener.join(5)
        if self._heart is not None:
            self._heart.join(5)
            self._forget_box()
        self._redis.close()

    # ---- tasks -------------------------------------------------------------------------

    def add(self, task, max_queued=None, max_per_hour=None):
        params, blobs = split_inputs(task.params)
        pairs = _encode(dataclasses.replace(task, params=params))
        now = task.created_at
        found = self._run("add", task.task_id, task.owner, task.status.value, _json(now), repr(now - HOUR),
                          max_queued or 0, max_per_hour or 0, len(pairs) // 2, *pairs, *blobs)
        if found[0] == "exists":
            raise KeyError(f"task {task.task_id} exists")
        if found[0] == "quota":
            oldest = float(found[3]) if found[3] else None
            check_quota(Usage(queued=found[1], last_hour=found[2]), max_queued, max_per_hour, oldest, now)
            raise RuntimeError("the store refused a task within its limits")  # check_quota raised above

    def inputs(self, task_id):
        return self._redis.lrange(self._k("in", task_id), 0, -1)

    def usage(self, owner, now):
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.zcard(self._k("os", "queued", owner))
            pipe.zcount(self._k("subs", owner), f"({now - HOUR!r}", "+inf")
            queued, last_hour = pipe.execute()
        return Usage(queued=queued, last_hour=last_hour)

    def get(self, task_id):
        return _decode(self._redis.hgetall(self._k("t", task_id)))

    def _read(self, ids: List[str]) -> List[Task]:
        with self._redis.pipeline(transaction=False) as pipe:
            for task_id in ids:
                pipe.hgetall(self._k("t", task_id))
            found = [_decode(fields) for fields in pipe.execute()]
        return [t for t in found if t is not None]  # (deleted meanwhile)

    def list(self, owner=None, statuses=(), limit=50, offset=0):
        statuses = [TaskStatus(s).value for s in statuses]
        if limit <= 0:
            return [], self.list(owner, statuses, 1, 0)[1]
        if statuses:
            keys = [self._k("os", s, owner) if owner is not None else self._k("s", s) for s in statuses]
        else:
            keys = [self._k("o", owner) if owner is not None else self._k("all")]
        with self._redis.pipeline(transaction=True) as pipe:
            for key in keys:
                pipe.zcard(key)
                pipe.zrevrange(key, 0 if len(keys) > 1 else offset, offset + limit - 1, withscores=True)
            answers = pipe.execute()
        count = sum(answers[0::2])
        ranked = sorted((pair for found in answers[1::2] for pair in found), key=lambda p: -p[1])
        page = ranked[offset:offset + limit] if len(keys) > 1 else ranked
        return self._read([task_id for task_id, _ in page]), count

    def count(self, status):
        return self._redis.zcard(self._k("s", status.value))

    def _with_status(self, status):
        return self._read(self._redis.zrange(self._k("s", status.value), 0, -1))

    def delete(self, task_id):
        found = self._run("delete", task_id)
        if found[0] == "missing":
            raise KeyError(task_id)
        if found[0] == "invalid":
            raise ValueError(f"task {task_id} is {found[1]}")

    def images_of(self, task_ids):
        task_ids, out = list(task_ids), {}
        for start in range(0, len(task_ids), 500):
            chunk = task_ids[start:start + 500]
            with self._redis.pipeline(transaction=False) as pipe:
                for task_id in chunk:
                    pipe.hget(self._k("t", task_id), "images")
                out.update((t, json.loads(v)) for t, v in zip(chunk, pipe.execute()) if v is not None)
        return out

    def start(self, task_id, now, overtaken=(), due=(), box=None):
        return self._transition(task_id, TaskStatus.RUNNING, _overtaken=list(overtaken), _due=list(due),
                                started_at=now, box=box)

    def _transition(self, task_id, new, _overtaken=(), _due=(), **changes):
        allowed = [old.value for old, targets in TRANSITIONS.items() if new in targets]
        at = changes.get("started_at") if new == TaskStatus.RUNNING else changes.get("finished_at")
        found = self._run("transition", task_id, new.value, json.dumps(allowed), _json(at or 0.0),
                          json.dumps(list(_overtaken)), json.dumps(list(_due)), *_encode_values(changes))
        if found[0] == "missing":
            raise KeyError(task_id)
        if found[0] == "invalid":
            mine = self._claimed(task_id, changes) if new == TaskStatus.RUNNING else None
            if mine is not None:
                return mine
            check_transition(TaskStatus(found[1]), new)  # raises InvalidTransition with its message
        return _decode(_pairs(found[1]))

    def _claimed(self, task_id: str, changes: Dict[str, Any]) -> Optional[Task]:
        """The task, if this very claim took it already: the client sends a command
        again when the connection drops before its answer (a Redis restart), and the
        claim that ran must not read as lost, or the task stays `running` on no box."""
        task = self.get(task_id)
        if (task is not None and task.status == TaskStatus.RUNNING and changes.get("box") is not None
                and task.box == changes.get("box") and task.started_at == changes.get("started_at")):
            return task
        return None

    def reorder(self, task_id, sort_order=None, priority=None):
        changes = {name: value for name, value in (("sort_order", sort_order), ("priority", priority))
                   if value is not None}
        found = self._run("reorder", task_id, *_encode_values(changes))
        if found[0] == "missing":
            raise KeyError(task_id)
        if found[0] == "invalid":
            raise InvalidTransition(f"task {task_id} is {found[1]}, not queued")
        return _decode(_pairs(found[1]))

    # ---- the scheduler's reads ---------------------------------------------------------

    def queued_light(self):
        with self._lock:
            self._sync()
            return list(self._queued.values())

    def version(self):
        return int(self._redis.get(self._k("version")) or 0)

    def _sync(self) -> None:
        """Catch up with the queued tasks' changes since the version held (any box's)."""
        found = self._run("queued", self._version)
        version, how, rest = found[0], found[1] if len(found) > 1 else None, found[2:]
        if how == "reload":
            with self._redis.pipeline(transaction=True) as pipe:
                pipe.get(self._k("version"))
                pipe.zrange(self._k("s", "queued"), 0, -1)
                pipe.hgetall(self._k("light"))
                version, ids, lights = pipe.execute()
            version, self._queued, rest = int(version or 0), {}, [x for i in ids for x in (i, lights.get(i))]
        for task_id, light in zip(rest[0::2], rest[1::2]):
            if light is None:
                self._queued.pop(task_id, None)
            else:
                self._queued[task_id] = Queued(*json.loads(light))  # a changed one keeps its place
        self._version = version

    def served(self):
        return {owner: json.loads(at) for owner, at in self._redis.hgetall(self._k("served")).items()}

    def get_state(self, name):
        found = self._redis.hget(self._k("state"), name)
        return None if found is None else json.loads(found)

    def set_state(self, name, value):
        self._redis.hset(self._k("state"), name, json.dumps(value))

    def get_flag(self, name):
        return self._redis.hget(self._k("flags"), name) == "1"

    def set_flag(self, name, value):
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._k("flags"), name, "1" if value else "0")
            pipe.publish(self._k("work"), "")  # (a resumed queue has work for every box)
            pipe.execute()

    def secret(self, name):
        self._redis.hsetnx(self._k("secrets"), name, secrets.token_hex(32))
        return self._redis.hget(self._k("secrets"), name)


def _json(value: Any) -> str:
    return json.dumps(value.value if isinstance(value, (TaskStatus, TaskType)) else value)


def _encode_values(values: Dict[str, Any]) -> List[str]:
    out = []
    for name, value in values.items():
        if name not in FIELDS:
            raise TypeError(f"unknown task field {name}")
        out += [name, _json(value)]
    return out


def _encode(task: Task) -> List[str]:
    return _encode_values({name: getattr(task, name) for name in FIELDS})


def _pairs(flat: List[str]) -> Dict[str, str]:
    return dict(zip(flat[0::2], flat[1::2]))


def _decode(fields: Dict[str, str]) -> Optional[Task]:
    if not fields:
        return None
    values = {name: json.loads(fields[name]) for name in FIELDS if name in fields}
    values["status"] = TaskStatus(values["status"])
    values["type"] = TaskType(values["type"])
    return Task(**values)
