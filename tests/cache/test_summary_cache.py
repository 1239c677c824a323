"""The restaurant-summary object cache against a real redis-server."""

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from restaurants import services
from restaurants.cache import keys, summaries
from restaurants.dynamo import selectors
from restaurants.dynamo.client import count_requests
from restaurants.dynamo.errors import Unavailable

pytestmark = pytest.mark.integration
FINE_DINING = "AnyCompany Fine Dining"


def test_a_miss_costs_one_query_and_the_next_read_none(site):
    with count_requests() as first:
        summaries.restaurant_summary(FINE_DINING)
    with count_requests() as second:
        summary = summaries.restaurant_summary(FINE_DINING)
    assert first == {"Query": 1} and sum(second.values()) == 0
    assert [r.username for r in summary.latest_reviews][0] == "markmartin"


def test_summaries_are_stored_as_json_with_a_ttl(site, redis, settings):
    summaries.restaurant_summary(FINE_DINING)
    raw = redis.get(keys.summary_key(FINE_DINING))
    assert json.loads(raw)["restaurant"]["name"] == FINE_DINING
    assert 0 < redis.ttl(keys.summary_key(FINE_DINING)) <= settings.CACHE_TTL_SUMMARY + settings.CACHE_STALE_SECONDS


def test_a_posted_review_is_written_through(site):
    summaries.restaurant_summary(FINE_DINING)
    services.review_post(username="kim", restaurant=FINE_DINING, rating=5, text="Wonderful.")
    with count_requests() as requests:
        summary = summaries.restaurant_summary(FINE_DINING)
    assert sum(requests.values()) == 0
    assert summary.latest_reviews[0].username == "kim"
    assert summary.restaurant.stars.five == 5 and summary.restaurant.review_count == 28


def test_edit_and_delete_are_written_through(site):
    review = services.review_post(username="kim", restaurant=FINE_DINING, rating=5, text="Wonderful.")
    edited = services.review_edit(review=review, rating=1, text="Changed my mind.")
    summary = summaries.restaurant_summary(FINE_DINING)
    assert summary.latest_reviews[0].review == "Changed my mind."
    assert (summary.restaurant.stars.five, summary.restaurant.stars.one) == (4, 10)
    services.review_remove(review=edited)
    summary = summaries.restaurant_summary(FINE_DINING)
    assert "kim" not in [r.username for r in summary.latest_reviews]
    assert len(summary.latest_reviews) == 5 and summary.restaurant.review_count == 27


def test_concurrent_misses_cause_one_dynamodb_read(site):
    start = threading.Barrier(50)

    def read(_):
        start.wait()
        return summaries.restaurant_summary(FINE_DINING).restaurant.review_count

    with count_requests() as requests, ThreadPoolExecutor(max_workers=50) as pool:
        counts = list(pool.map(read, range(50)))
    assert counts == [27] * 50
    assert requests == {"Query": 1}


def test_a_stale_summary_is_refreshed_by_one_reader(site, settings):
    settings.CACHE_TTL_SUMMARY = 1
    summaries.restaurant_summary(FINE_DINING)
    time.sleep(1.1)
    with count_requests() as requests:
        summaries.restaurant_summary(FINE_DINING)
        summaries.restaurant_summary(FINE_DINING)
    assert requests == {"Query": 1}


def test_a_stale_summary_is_served_when_dynamodb_fails(site, settings, monkeypatch):
    settings.CACHE_TTL_SUMMARY = 1
    summaries.restaurant_summary(FINE_DINING)
    time.sleep(1.1)

    def outage(**kwargs):
        raise Unavailable("throttled")

    monkeypatch.setattr(selectors, "restaurant_summary_get", outage)
    assert summaries.restaurant_summary(FINE_DINING).restaurant.review_count == 27


def test_without_a_cached_copy_a_dynamodb_failure_is_a_503(site, client, monkeypatch):
    def outage(**kwargs):
        raise Unavailable("throttled")

    monkeypatch.setattr(selectors, "restaurant_summary_get", outage)
    assert client.get(f"/restaurants/{FINE_DINING}/").status_code == 503


def test_a_slow_read_never_overwrites_a_write_through(site, monkeypatch):
    """The cacheops race: a refresh that read DynamoDB before a write must not
    store its (older) result after the write's write-through."""
    original = selectors.restaurant_summary_get
    read_done, write_done = threading.Event(), threading.Event()

    def slow_read(**kwargs):
        result = original(**kwargs)
        read_done.set()
        write_done.wait(5)
        return result

    monkeypatch.setattr(selectors, "restaurant_summary_get", slow_read)
    with ThreadPoolExecutor(max_workers=1) as pool:
        reader = pool.submit(summaries.restaurant_summary, FINE_DINING)
        read_done.wait(5)
        services.review_post(username="kim", restaurant=FINE_DINING, rating=5, text="Fresh.")
        write_done.set()
        reader.result()
    monkeypatch.setattr(selectors, "restaurant_summary_get", original)
    assert summaries.restaurant_summary(FINE_DINING).latest_reviews[0].username == "kim"
