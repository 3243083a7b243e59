"""Which store a queue uses: Settings or the environment (which wins) name a Redis URL;
none keeps SQLite in the queue's folder."""

import socket

import pytest

from webui_taskqueue.store import choose as stores
from webui_taskqueue.store.sqlite.store import SQLiteStore


def settings(**values):
    return lambda name, default: values.get(name, default)


def test_the_environment_wins_over_settings_and_empty_means_sqlite(monkeypatch):
    monkeypatch.delenv(stores.URL_ENV, raising=False)
    monkeypatch.delenv(stores.PREFIX_ENV, raising=False)
    chosen = settings(task_queue_redis_url=" redis://a:1/0 ", task_queue_redis_prefix="q1:")
    assert stores.redis_settings(chosen) == ("redis://a:1/0", "q1:")
    monkeypatch.setenv(stores.URL_ENV, "redis://b:2/0")
    monkeypatch.setenv(stores.PREFIX_ENV, "q2:")
    assert stores.redis_settings(chosen) == ("redis://b:2/0", "q2:")
    monkeypatch.setenv(stores.URL_ENV, "")  # set but empty: this box stays on SQLite
    assert stores.redis_settings(chosen)[0] == ""
    monkeypatch.delenv(stores.PREFIX_ENV)
    assert stores.redis_settings(settings())[1] == stores.DEFAULT_PREFIX


def test_a_box_is_named_by_the_environment_settings_or_its_host(monkeypatch):
    monkeypatch.delenv(stores.BOX_ENV, raising=False)
    assert stores.box_name(settings()) == socket.gethostname()
    assert stores.box_name(settings(task_queue_box=" gpu-2 ")) == "gpu-2"
    monkeypatch.setenv(stores.BOX_ENV, "gpu-3")
    assert stores.box_name(settings(task_queue_box="gpu-2")) == "gpu-3"


def test_open_store_is_sqlite_without_a_url_and_redis_with_one(monkeypatch, tmp_path, redis_server):
    from webui_taskqueue.store.redis.store import RedisStore

    monkeypatch.delenv(stores.URL_ENV, raising=False)
    found = stores.open_store(str(tmp_path), settings())
    assert isinstance(found, SQLiteStore) and (tmp_path / "tasks.sqlite3").exists()
    found.close()
    found = stores.open_store(str(tmp_path), settings(task_queue_redis_url=redis_server.url,
                                                      task_queue_box_alive_seconds=7), box="gpu-1")
    assert isinstance(found, RedisStore) and (found.box, found.alive) == ("gpu-1", 7.0)
    found.close()


def test_a_redis_password_is_never_read_from_settings(monkeypatch):
    monkeypatch.delenv(stores.URL_ENV, raising=False)
    for url in ("redis://:s3cret-pw@a:1/0", "redis://queue:s3cret-pw@a:1/0"):
        with pytest.raises(RuntimeError) as refused:
            stores.redis_settings(settings(task_queue_redis_url=url))
        assert stores.PASSWORD_ENV in str(refused.value) and "s3cret-pw" not in str(refused.value)
    monkeypatch.setenv(stores.URL_ENV, "redis://:s3cret-pw@a:1/0")  # the environment is shown nowhere
    assert stores.redis_settings(settings())[0] == "redis://:s3cret-pw@a:1/0"


def test_a_server_that_asks_for_a_password_gets_the_one_in_the_environment(monkeypatch, tmp_path):
    from redis_server import RedisServer, require

    require()
    server = RedisServer(tmp_path / "redis", password="s3cret-pw").start()
    try:
        chosen = settings(task_queue_redis_url=server.url, task_queue_redis_prefix="pw:")
        monkeypatch.delenv(stores.URL_ENV, raising=False)
        monkeypatch.delenv(stores.PASSWORD_ENV, raising=False)
        with pytest.raises(Exception, match="(?i)auth"):
            stores.open_store(str(tmp_path), chosen)
        monkeypatch.setenv(stores.PASSWORD_ENV, "s3cret-pw")
        found = stores.open_store(str(tmp_path), chosen)
        try:
            found.set_state("x", 1)
            assert found.get_state("x") == 1
        finally:
            found.close()
    finally:
        server.stop()


def test_a_box_keeps_its_id_in_its_queue_folder(tmp_path):
    first = stores.box_id(str(tmp_path / "q"))
    assert stores.box_id(str(tmp_path / "q")) == first and len(first) == 16
    assert stores.box_id(str(tmp_path / "other")) != first
