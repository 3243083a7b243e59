"""Who is calling, and signed URLs: the Authenticator over a memory store."""

from webui_taskqueue.people.auth import OPEN_MODE_USER, URL_LIFETIME, Authenticator, Unauthorized
from webui_taskqueue.store.memory import MemoryStore
from webui_taskqueue.records.users import Role, User, digest

import pytest


def make(credentials=None):
    store = MemoryStore()
    return store, Authenticator(store, lambda: dict(credentials or {}))


def test_open_until_a_user_exists():
    store, auth = make()
    assert auth.is_open() and auth.caller() == OPEN_MODE_USER
    store.add_user(User("ann"))
    assert not auth.is_open()
    with pytest.raises(Unauthorized):
        auth.caller()


def test_a_key_authenticates_its_user_and_a_wrong_key_never_falls_back_to_open():
    store, auth = make()
    with pytest.raises(Unauthorized):
        auth.caller(key="tq_not-a-key-at-all-0000")  # even in open mode: a bad key is an error
    store.add_user(User("ann", Role.ADMIN))
    store.add_key("ann", digest("tq_ann-key-000000000"), "tq_ann-key-", 1.0)
    assert auth.caller(key="tq_ann-key-000000000").name == "ann"


def test_webui_credentials_make_the_queue_closed_and_are_users():
    store, auth = make({"carol": "pw"})
    assert not auth.is_open()
    assert auth.caller(basic=("carol", "pw")) == User("carol", Role.USER)
    for wrong in (("carol", "PW"), ("dan", "pw"), ("carol", "")):
        with pytest.raises(Unauthorized):
            auth.caller(basic=wrong)
    store.add_user(User("carol", Role.ADMIN))
    assert auth.caller(basic=("carol", "pw")).is_admin


def test_a_signed_url_opens_one_resource_until_it_expires():
    _, auth = make()
    query = dict(p.split("=") for p in auth.sign("t1", "image", 0, now=1000.0).split("&"))
    exp, sig = query["exp"], query["sig"]
    assert int(exp) >= 1000 + URL_LIFETIME
    assert auth.signed("t1", "image", 0, exp, sig, now=1001.0)
    assert auth.signed("t1", "image", 0, exp, sig, now=float(exp))
    assert not auth.signed("t1", "image", 0, exp, sig, now=float(exp) + 1)  # expired
    assert not auth.signed("t2", "image", 0, exp, sig, now=1001.0)
    assert not auth.signed("t1", "image", 1, exp, sig, now=1001.0)
    assert not auth.signed("t1", "thumb", 0, exp, sig, now=1001.0)
    assert not auth.signed("t1", "image", 0, str(int(exp) + 1), sig, now=1001.0)
    assert not auth.signed("t1", "image", 0, None, sig, now=1001.0)
    assert not auth.signed("t1", "image", 0, "-5", sig, now=1001.0)


def test_urls_signed_within_a_few_minutes_are_the_same():
    # a task polled every second keeps one URL: the browser caches the image
    _, auth = make()
    assert auth.sign("t1", "image", 0, now=6001.0) == auth.sign("t1", "image", 0, now=6599.0)
