"""The leaderboard is rebuilt by one request at a time: the others are served
the previous board, or wait briefly for the first one (real Redis and
DynamoDB Local; time from the fake clock, the rebuild held by the test)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from restaurants.cache.data import leaderboard
from restaurants.cache.plumbing.connection import acquire_lock
from restaurants.cache.rules import keys, policy
from restaurants.dynamo import reads
from restaurants.dynamo.bulk import write_items
from restaurants.dynamo.client import count_requests
from restaurants.dynamo.item_keys import restaurant_index_attributes
from tests.cache.conftest import fail_dynamodb_reads

pytestmark = pytest.mark.integration
NEWCOMER = "Lucky One"


def _names(entries) -> list[str]:
    return [entry.name for entry in entries]


def _one_rebuild() -> dict:
    """The DynamoDB requests of one rebuild (it publishes a fresh board too)."""
    with count_requests() as requests:
        leaderboard.rebuild()
    return dict(requests)


def _add_a_restaurant_behind_the_caches_back() -> None:
    """A restaurant the published board cannot know about: only a rebuild shows it."""
    write_items([{**restaurant_index_attributes(NEWCOMER, "Test"), "name": NEWCOMER, "cuisine": "Test"}])


class HeldRebuild:
    """The first rebuild's DynamoDB read waits until the test lets it go on."""

    def __init__(self, monkeypatch):
        self.reading, self.go_on = threading.Event(), threading.Event()
        self._first = threading.Lock()
        original = reads.restaurant_list

        def held(**kwargs):
            if self._first.acquire(blocking=False):
                self.reading.set()
                assert self.go_on.wait(10)
            return original(**kwargs)

        monkeypatch.setattr(reads, "restaurant_list", held)


def test_while_one_request_rebuilds_a_stale_board_the_others_get_the_previous_one(
    site, fake_clock, monkeypatch, settings
):
    one_rebuild = _one_rebuild()
    _add_a_restaurant_behind_the_caches_back()
    fake_clock.advance(settings.CACHE_TTL_LEADERBOARD + 1)
    rebuild = HeldRebuild(monkeypatch)
    with count_requests() as requests, ThreadPoolExecutor(max_workers=9) as pool:
        rebuilder = pool.submit(leaderboard.top, 50)
        assert rebuild.reading.wait(10)
        served_meanwhile = list(pool.map(lambda _: leaderboard.top(50), range(8)))
        assert dict(requests) == {}  # nobody else went to DynamoDB
        rebuild.go_on.set()
        rebuilt = rebuilder.result()
    assert dict(requests) == one_rebuild
    assert all(NEWCOMER not in _names(board) for board in served_meanwhile)
    assert len({tuple(_names(board)) for board in served_meanwhile}) == 1 and fake_clock.slept == 0
    assert NEWCOMER in _names(rebuilt)
    with count_requests() as afterwards:
        assert NEWCOMER in _names(leaderboard.top(50))
    assert dict(afterwards) == {}


def test_without_a_board_the_others_wait_for_the_one_being_built(site, redis, fake_clock, monkeypatch):
    one_rebuild = _one_rebuild()
    redis.delete(keys.leaderboard_key())
    rebuild = HeldRebuild(monkeypatch)
    with count_requests() as requests, ThreadPoolExecutor(max_workers=1) as pool:
        builder = pool.submit(leaderboard.top, 50)
        assert rebuild.reading.wait(10)
        # 0.5 s into the wait (fake time), the builder is let go and finishes.
        fake_clock.after(0.5, lambda: (rebuild.go_on.set(), builder.result()))
        waited_for = leaderboard.top(50)
    assert dict(requests) == one_rebuild
    assert _names(waited_for) == _names(builder.result()) and len(waited_for) == 10
    assert 0.5 <= fake_clock.slept < 0.5 + 2 * policy.LOCK_POLL_SECONDS


def test_a_waiter_computes_the_board_itself_when_none_appears_in_time(site, redis, fake_clock):
    one_rebuild = _one_rebuild()
    expected = _names(leaderboard.top(50))
    redis.delete(keys.leaderboard_key())
    assert acquire_lock(redis, keys.leaderboard_lock_key(), milliseconds=60_000)  # a builder that died
    with count_requests() as requests:
        computed = leaderboard.top(50)
    assert sorted(_names(computed)) == sorted(expected)  # ties may be ordered differently
    assert dict(requests) == one_rebuild  # the same reads, once, and nothing stored
    assert not redis.exists(keys.leaderboard_key())
    assert policy.LOCK_WAIT_SECONDS <= fake_clock.slept < policy.LOCK_WAIT_SECONDS + 2 * policy.LOCK_POLL_SECONDS


def test_a_stale_board_is_served_when_dynamodb_fails(site, fake_clock, monkeypatch, settings):
    leaderboard.rebuild()
    before = _names(leaderboard.top(50))
    fake_clock.advance(settings.CACHE_TTL_LEADERBOARD + 1)
    attempts = fail_dynamodb_reads(monkeypatch, "restaurant_list")
    assert _names(leaderboard.top(50)) == before
    assert len(attempts) == 1  # it was stale, a rebuild was tried, and failed


def test_a_board_redis_refuses_to_publish_is_served_from_the_one_read(site, monkeypatch):
    """Only Redis calls are guarded: the restaurants just read from DynamoDB
    make the board served when Redis fails to publish it, not a second read."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    def refused(*args, **kwargs):
        raise RedisConnectionError("Redis went away after the read")

    monkeypatch.setattr(leaderboard, "_publish", refused)
    with count_requests() as requests:
        best = leaderboard.top()
    assert best and requests["Query"] == 1
