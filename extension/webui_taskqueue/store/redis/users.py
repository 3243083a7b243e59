"""Users and their keys in the Redis store: a hash per user and per key digest, a set of
names, one per role, and each user's digests. Adding and deleting go through scripts
(`lua/`), so deleting a user takes their keys and cancels their queued tasks at once."""

from __future__ import annotations

import json

from ...records.users import KeyInfo, Role, User, UserExists


class RedisUsers:
    """Mixed into RedisStore: uses its `_redis`, `_k`, `_run` and `_watched`."""

    def add_user(self, user):
        if self._run("add_user", user.name, user.role.value, *_user_fields(user)) == "exists":
            raise UserExists(user.name)

    def get_user(self, name):
        return _user(self._redis.hgetall(self._k("u", name)))

    def users(self):
        names = sorted(self._redis.smembers(self._k("users")))
        with self._redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.hgetall(self._k("u", name))
            return [u for u in map(_user, pipe.execute()) if u is not None]

    def count_users(self, role=None):
        return self._redis.scard(self._k("users") if role is None else self._k("role", role.value))

    def update_user(self, name, role=None, limits=None):
        key = self._k("u", name)

        def change(pipe):
            user = _user(pipe.hgetall(key))
            if user is None:
                raise KeyError(name)
            merged = {k: v for k, v in {**user.limits, **(limits or {})}.items() if v is not None}
            changed = User(name=name, role=role or user.role, limits=merged, created_at=user.created_at)
            pipe.multi()
            pipe.hset(key, mapping=dict(zip(*[iter(_user_fields(changed))] * 2)))
            pipe.srem(self._k("role", user.role.value), name)
            pipe.sadd(self._k("role", changed.role.value), name)
            return changed

        return self._watched(key, change)

    def delete_user(self, name, now):
        found = self._run("delete_user", name, json.dumps(now))
        if found[0] == "missing":
            raise KeyError(name)
        return list(found[1])

    def add_key(self, name, key_digest, prefix, now):
        if self._run("add_key", name, key_digest, json.dumps(prefix), json.dumps(now)) == "missing":
            raise KeyError(name)

    def user_for_key(self, key_digest):
        name = self._redis.hget(self._k("k", key_digest), "user")
        return None if name is None else self.get_user(name)

    def keys(self, name):
        digests = list(self._redis.smembers(self._k("uk", name)))
        with self._redis.pipeline(transaction=False) as pipe:
            for digest in digests:
                pipe.hmget(self._k("k", digest), "prefix", "created_at")
            found = [KeyInfo(json.loads(p), json.loads(c)) for p, c in pipe.execute() if p is not None]
        return sorted(found, key=lambda k: k.created_at)

    def delete_key(self, name, prefix):
        if self._run("delete_key", name, json.dumps(prefix)) == 0:
            raise KeyError(prefix)


def _user_fields(user: User):
    return ["name", json.dumps(user.name), "role", json.dumps(user.role.value),
            "limits", json.dumps(user.limits), "created_at", json.dumps(user.created_at)]


def _user(fields):
    if not fields:
        return None
    return User(name=json.loads(fields["name"]), role=Role(json.loads(fields["role"])),
                limits=json.loads(fields["limits"]), created_at=json.loads(fields["created_at"]))
