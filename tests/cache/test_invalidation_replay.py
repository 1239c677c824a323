"""Invalidations that failed during a Redis outage are replayed, however many
tries it takes (unit tests: moto's mock, and a fakeredis server that stops
answering with ``connected = False``)."""

import pytest

from restaurants import services
from restaurants.cache import invalidation
from restaurants.cache.data import summaries
from restaurants.dynamo.client import count_requests

FINE_DINING = "AnyCompany Fine Dining"
INTERVAL = 5.0


@pytest.fixture
def posted_in_the_dark(lab_table, fake_redis, fake_clock, settings):
    """A cached summary, then a review posted while Redis is down."""
    settings.CACHE_RETRY_AFTER_SECONDS = INTERVAL
    summaries.restaurant_summary(FINE_DINING)
    fake_redis.connected = False
    services.review_post(username="kim", restaurant=FINE_DINING, rating=5, text="Posted in the dark.")
    return fake_redis


def _newest_review(*, dynamodb_reads: int) -> str:
    with count_requests() as requests:
        summary = summaries.restaurant_summary(FINE_DINING)
    assert sum(requests.values()) == dynamodb_reads
    return summary.latest_reviews[0].review


def test_while_the_circuit_is_open_a_replay_keeps_the_write_for_later(posted_in_the_dark, fake_clock):
    posted_in_the_dark.connected = True
    invalidation.retry_pending()  # the breaker still skips Redis: nothing may be dropped
    fake_clock.advance(INTERVAL)
    invalidation.retry_pending()
    assert _newest_review(dynamodb_reads=1) == "Posted in the dark."


def test_a_replay_that_fails_again_is_applied_by_a_later_one(posted_in_the_dark, fake_clock):
    fake_clock.advance(INTERVAL)
    invalidation.retry_pending()  # the breaker's trial: Redis is still down
    assert invalidation._pending == {(FINE_DINING, "kim")}
    posted_in_the_dark.connected = True
    fake_clock.advance(INTERVAL)
    invalidation.retry_pending()
    assert not invalidation._pending
    assert _newest_review(dynamodb_reads=1) == "Posted in the dark."
    assert _newest_review(dynamodb_reads=0) == "Posted in the dark."


def test_without_the_replay_the_old_summary_would_still_be_served(posted_in_the_dark, fake_clock):
    """What the replay is for: the summary cached before the outage survives it."""
    posted_in_the_dark.connected = True
    fake_clock.advance(INTERVAL)
    invalidation._pending.clear()
    assert _newest_review(dynamodb_reads=0) != "Posted in the dark."


def test_the_next_request_replays_it(posted_in_the_dark, fake_clock, client):
    posted_in_the_dark.connected = True
    fake_clock.advance(INTERVAL)
    client.get("/")
    assert not invalidation._pending
    assert _newest_review(dynamodb_reads=1) == "Posted in the dark."
