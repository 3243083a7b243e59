"""The live records in the Redis store (store/live.py): keys that expire unless written
again. `lv:<task>` the running task's progress, written by its box about twice a
second; `want:<task>` someone polls its preview; `pv:<task>` the preview its box last
published while wanted; `int:<task>` an interrupt asked for; `mark:<task>:<kind>` the
last live event of the task that some box logged; `info:<task>` webui's info JSON of a
task that ended, for a door waiting on any box. And one list that lasts:
`forget:<box>`, tasks deleted through other boxes whose images that box keeps."""

from __future__ import annotations

import base64
import dataclasses
import json

from ..live import Asks, Live, LiveStore

# KEYS[1]: the mark; ARGV: mark, now, every. 1: log it (and it is marked), 0: not now.
CLAIM_EVENT = """
local found = redis.call('HMGET', KEYS[1], 'mark', 'at')
if found[1] == ARGV[1] then return 0 end
if found[2] and tonumber(ARGV[2]) - tonumber(found[2]) < tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'mark', ARGV[1], 'at', ARGV[2])
redis.call('PEXPIRE', KEYS[1], 600000)
return 1
"""


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


class RedisLive(LiveStore):
    """Mixed into RedisStore: uses its `_redis` and `_k`."""

    shared = True
    _claim_script = None

    def publish_live(self, live, seconds):
        with self._redis.pipeline(transaction=False) as pipe:
            pipe.set(self._k("lv", live.task_id), json.dumps(dataclasses.asdict(live)), px=_ms(seconds))
            pipe.exists(self._k("want", live.task_id))
            pipe.exists(self._k("int", live.task_id))
            _, wanted, interrupt = pipe.execute()
        return Asks(preview=bool(wanted), interrupt=bool(interrupt))

    def live(self, task_id):
        return _live(self._redis.get(self._k("lv", task_id)))

    def live_elsewhere(self, box):
        ids = self._redis.zrange(self._k("s", "running"), 0, -1)
        if not ids:
            return []
        found = [_live(raw) for raw in self._redis.mget([self._k("lv", task_id) for task_id in ids])]
        return [live for live in found if live is not None and live.box != box]

    def ask_preview(self, task_id, seconds):
        with self._redis.pipeline(transaction=False) as pipe:
            pipe.set(self._k("want", task_id), "1", px=_ms(seconds))
            pipe.get(self._k("pv", task_id))
            _, found = pipe.execute()
        if found is None:
            return None
        tag, data = json.loads(found)
        return tag, base64.b64decode(data)

    def publish_preview(self, task_id, tag, data, seconds):
        record = json.dumps([tag, base64.b64encode(data).decode("ascii")])
        self._redis.set(self._k("pv", task_id), record, px=_ms(seconds))

    def ask_interrupt(self, task_id, seconds):
        self._redis.set(self._k("int", task_id), "1", px=_ms(seconds))

    def claim_event(self, task_id, kind, mark, now, every):
        if self._claim_script is None:
            self._claim_script = self._redis.register_script(CLAIM_EVENT)
        return bool(self._claim_script(keys=[self._k("mark", task_id, kind)], args=[mark, repr(float(now)), repr(float(every))]))

    def publish_info(self, task_id, info, seconds):
        self._redis.set(self._k("info", task_id), info, px=_ms(seconds))

    def info(self, task_id):
        return self._redis.get(self._k("info", task_id))

    def forget_images(self, box, task_id):
        self._redis.rpush(self._k("forget", box), task_id)

    def images_forgotten(self, box, limit=100):
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.lrange(self._k("forget", box), 0, limit - 1)
            pipe.ltrim(self._k("forget", box), limit, -1)
            taken, _ = pipe.execute()
        return taken


def _live(raw):
    return None if raw is None else Live(**json.loads(raw))
