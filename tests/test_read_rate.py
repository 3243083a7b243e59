"""A person's reads per second: a bucket that refills steadily; over it, TooFast with
the wait until the next read is allowed. A credential seen before is refused before
any lookup; its first read is counted once its person is known. Admins and a rate of
0 are never limited."""

import pytest

from webui_taskqueue.people.read_rate import KEPT, ReadRate, TooFast
from webui_taskqueue.records.users import Role, User

ANN, BOB, ADMIN = User("ann", Role.USER), User("bob", Role.USER), User("root", Role.ADMIN)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def rate(per_second=2.0, burst=3):
    clock = Clock()
    return ReadRate(lambda: (per_second, burst), clock), clock


def read(reads, credential, user):
    """As a route does: before the lookup, then after it."""
    counted = reads.before(credential)
    reads.after(credential, user, counted)


def test_a_burst_is_allowed_then_reads_come_at_the_rate():
    reads, clock = rate()
    for _ in range(3):
        read(reads, "ann-key", ANN)
    with pytest.raises(TooFast) as refused:
        reads.before("ann-key")  # known: refused before any lookup
    assert refused.value.retry_after == pytest.approx(0.5) and refused.value.header() == "1"
    assert "2 reads a second" in str(refused.value) and "task_queue_user_reads_per_second" in str(refused.value)
    clock.now += 0.5
    read(reads, "ann-key", ANN)  # one read came back
    with pytest.raises(TooFast):
        read(reads, "ann-key", ANN)


def test_refused_reads_do_not_count():
    reads, clock = rate()
    for _ in range(3):
        read(reads, "ann-key", ANN)
    for _ in range(10):
        with pytest.raises(TooFast):
            reads.before("ann-key")
    clock.now += 0.5
    read(reads, "ann-key", ANN)


def test_a_persons_credentials_share_one_bucket_and_each_person_has_their_own():
    reads, _ = rate()
    read(reads, "ann-key", ANN)
    read(reads, "ann-other-key", ANN)
    read(reads, "login:ann", ANN)
    with pytest.raises(TooFast):
        read(reads, "ann-third-key", ANN)  # a new credential: counted once its person is known
    for _ in range(3):
        read(reads, "bob-key", BOB)


def test_admins_and_a_rate_of_nothing_are_never_limited():
    reads, _ = rate()
    for _ in range(100):
        read(reads, "root-key", ADMIN)
    unlimited, _ = rate(per_second=0)
    for _ in range(100):
        read(unlimited, "ann-key", ANN)


def test_a_role_changed_counts_from_the_next_lookup():
    reads, _ = rate()
    for _ in range(5):
        read(reads, "ann-key", ADMIN)  # ann was an admin
    read(reads, "ann-key", User("root", Role.USER))  # and is not any more: known from this lookup on
    for _ in range(3):
        read(reads, "ann-key", User("root", Role.USER))
    with pytest.raises(TooFast):
        reads.before("ann-key")


def test_buckets_of_people_long_idle_are_let_go():
    reads, clock = rate()
    for n in range(KEPT):
        read(reads, f"key{n}", User(f"p{n}", Role.USER))
    clock.now += 10  # all full again
    read(reads, "ann-key", ANN)  # one past KEPT: the full ones go
    assert len(reads._buckets) == 1
