"""The suite's processes side by side (`pytest -n`) never share a Redis database: a test's
broker queue or rate-limit counters are not flushed by another test."""

from __future__ import annotations

import redis

from tests.services import REDIS_HOST, REDIS_PORT, own_redis_database


def test_two_tests_at_once_get_two_databases_each_emptied_when_it_ends() -> None:
    with own_redis_database() as (first, store), own_redis_database() as (second, other):
        assert first != second
        store.set("queued", "job")
        assert other.get("queued") is None  # the other test's database is not this one
    assert redis.Redis(REDIS_HOST, REDIS_PORT, db=first).get("queued") is None


def test_a_database_given_up_can_be_claimed_again() -> None:
    # More claims, one after another, than there are databases: each is given up at its end.
    for _ in range(20):
        with own_redis_database(wait_seconds=5) as (number, _store):
            assert 1 <= number <= 15
