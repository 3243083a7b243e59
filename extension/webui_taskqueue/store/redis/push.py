"""The event log and the webhook outbox in the Redis store. The scripts that change a
task log its events and make its webhook due in the same step (`lua/`); this
reads them. Events are Redis streams with the event's number as its id (0-N): one for
everyone, one per owner, both cut to the same window."""

from __future__ import annotations

import dataclasses
import json
import secrets

from ..push import Delivery, Event, PushStore, attempted

_DELIVERY = [f.name for f in dataclasses.fields(Delivery)]


class RedisPush(PushStore):
    """Mixed into RedisStore: uses its `_redis`, `_k`, `_run` and `_watched`."""

    def append_events(self, events, now):
        args = [value for owner, task_id, kind, data in events for value in (owner, task_id, kind, json.dumps(data))]
        return self._run("append_events", json.dumps(now), *args)

    def events_after(self, after, owner=None, limit=500):
        key = self._k("events") if owner is None else self._k("ev", owner)
        found = self._redis.xrange(key, f"(0-{int(after)}" if after >= 0 else "-", "+", count=limit)
        return [Event(int(entry_id.split("-")[1]), f["owner"], f["task_id"], f["kind"], json.loads(f["data"]),
                      json.loads(f["at"])) for entry_id, f in found]

    def event_bounds(self):
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.get(self._k("event_id"))
            pipe.xrange(self._k("events"), "-", "+", count=1)
            newest, first = pipe.execute()
        newest = int(newest or 0)
        return (int(first[0][0].split("-")[1]) if first else newest + 1), newest

    def delivery(self, task_id):
        return _delivery(self._redis.hgetall(self._k("d", task_id)))

    def claim_deliveries(self, now, lease, limit=20):
        ids = self._run("claim_deliveries", repr(float(now)), repr(float(now + lease)), int(limit))
        with self._redis.pipeline(transaction=False) as pipe:
            for task_id in ids:
                pipe.hgetall(self._k("d", task_id))
            return [d for d in map(_delivery, pipe.execute()) if d is not None]

    def next_delivery_at(self):
        first = self._redis.zrange(self._k("due"), 0, 0, withscores=True)
        return first[0][1] if first else None

    def record_attempt(self, task_id, now, status, error, delivered, next_try_at):
        key = self._k("d", task_id)

        def change(pipe):
            found = _delivery(pipe.hgetall(key))
            if found is None:
                raise KeyError(task_id)
            found = attempted(found, now, status, error, delivered, next_try_at)
            pipe.multi()
            pipe.hset(key, mapping={name: json.dumps(getattr(found, name)) for name in _DELIVERY})
            if found.next_try_at is None:
                pipe.zrem(self._k("due"), task_id)
            else:
                pipe.zadd(self._k("due"), {task_id: found.next_try_at})
            return found

        return self._watched(key, change)

    def rotate_webhook_secret(self, owner):
        value = secrets.token_hex(32)
        self._redis.hset(self._k("secrets"), f"webhook:{owner}", value)
        return value


def _delivery(fields):
    if not fields:
        return None
    return Delivery(**{name: json.loads(fields[name]) for name in _DELIVERY})
