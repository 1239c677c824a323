"""The restaurant-summary object cache against a real redis-server."""

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from prometheus_client import REGISTRY

from restaurants import services
from restaurants.cache.data import summaries
from restaurants.cache.plumbing.connection import acquire_lock
from restaurants.cache.rules import keys, policy
from restaurants.dynamo import reads
from restaurants.dynamo.client import count_requests
from tests.cache.conftest import fail_dynamodb_reads

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


def test_concurrent_misses_cause_one_dynamodb_read(site, fake_clock, monkeypatch):
    # Time stands still, and the lock outlives any DynamoDB delay: the waiters
    # wait for the holder however slowly DynamoDB answers it.
    fake_clock.freeze()
    monkeypatch.setattr(policy, "LOCK_MILLISECONDS", 120_000)
    start = threading.Barrier(50)

    def read(_):
        start.wait()
        return summaries.restaurant_summary(FINE_DINING).restaurant.review_count

    with count_requests() as requests, ThreadPoolExecutor(max_workers=50) as pool:
        counts = list(pool.map(read, range(50)))
    assert counts == [27] * 50
    assert requests == {"Query": 1}


def _hold_the_lock(redis) -> str:
    """Take the summary's refresh lock as another process would."""
    token = acquire_lock(redis, keys.summary_lock_key(FINE_DINING), milliseconds=60_000)
    assert token
    return token


def stampede_waits(outcome: str) -> float:
    labels = {"kind": "summary", "outcome": outcome}
    return REGISTRY.get_sample_value("tastebook_cache_stampede_waits_total", labels) or 0


def test_a_waiter_is_served_what_the_lock_holder_stores(site, redis, fake_clock):
    waits = stampede_waits("served")
    _hold_the_lock(redis)
    stored = summaries.encode_for_write_through(reads.restaurant_summary_get(name=FINE_DINING))
    fake_clock.after(0.5, lambda: redis.set(keys.summary_key(FINE_DINING), stored))
    with count_requests() as requests:
        summary = summaries.restaurant_summary(FINE_DINING)
    assert sum(requests.values()) == 0
    assert summary.restaurant.review_count == 27
    assert 0.5 <= fake_clock.slept < 0.5 + 2 * policy.LOCK_POLL_SECONDS
    assert stampede_waits("served") == waits + 1


def test_a_waiter_reads_dynamodb_itself_once_the_lock_wait_is_over(site, redis, fake_clock):
    waits = stampede_waits("timed_out")
    _hold_the_lock(redis)  # a holder that never stores (it died, or DynamoDB hangs)
    with count_requests() as requests:
        summary = summaries.restaurant_summary(FINE_DINING)
    assert requests == {"Query": 1}
    assert summary.restaurant.review_count == 27
    assert policy.LOCK_WAIT_SECONDS <= fake_clock.slept < policy.LOCK_WAIT_SECONDS + 2 * policy.LOCK_POLL_SECONDS
    assert stampede_waits("timed_out") == waits + 1


def test_while_one_reader_refreshes_a_stale_summary_the_others_get_the_stale_one(site, redis, fake_clock, settings):
    summaries.restaurant_summary(FINE_DINING)
    fake_clock.advance(settings.CACHE_TTL_SUMMARY + 1)
    _hold_the_lock(redis)
    with count_requests() as requests:
        summary = summaries.restaurant_summary(FINE_DINING)
    assert sum(requests.values()) == 0 and fake_clock.slept == 0
    assert summary.restaurant.review_count == 27


def test_a_stale_summary_is_refreshed_by_one_reader(site, settings, fake_clock):
    summaries.restaurant_summary(FINE_DINING)
    fake_clock.advance(settings.CACHE_TTL_SUMMARY + 1)
    with count_requests() as requests:
        summaries.restaurant_summary(FINE_DINING)
        summaries.restaurant_summary(FINE_DINING)
    assert requests == {"Query": 1}


def test_a_stale_summary_is_served_when_dynamodb_fails(site, settings, monkeypatch, fake_clock):
    summaries.restaurant_summary(FINE_DINING)
    fake_clock.advance(settings.CACHE_TTL_SUMMARY + 1)
    refreshes = fail_dynamodb_reads(monkeypatch, "restaurant_summary_get")
    assert summaries.restaurant_summary(FINE_DINING).restaurant.review_count == 27
    assert len(refreshes) == 1  # it was stale, a refresh was tried, and failed


def test_without_a_cached_copy_a_dynamodb_failure_is_a_503(site, client, monkeypatch):
    fail_dynamodb_reads(monkeypatch, "restaurant_summary_get")
    assert client.get(f"/restaurants/{FINE_DINING}/").status_code == 503


def test_a_slow_read_never_overwrites_a_write_through(site, monkeypatch):
    """The cacheops race: a refresh that read DynamoDB before a write must not
    store its (older) result after the write's write-through."""
    original = reads.restaurant_summary_get
    read_done, write_done = threading.Event(), threading.Event()

    def slow_read(**kwargs):
        result = original(**kwargs)
        read_done.set()
        write_done.wait(5)
        return result

    monkeypatch.setattr(reads, "restaurant_summary_get", slow_read)
    with ThreadPoolExecutor(max_workers=1) as pool:
        reader = pool.submit(summaries.restaurant_summary, FINE_DINING)
        read_done.wait(5)
        services.review_post(username="kim", restaurant=FINE_DINING, rating=5, text="Fresh.")
        write_done.set()
        reader.result()
    monkeypatch.setattr(reads, "restaurant_summary_get", original)
    assert summaries.restaurant_summary(FINE_DINING).latest_reviews[0].username == "kim"


def test_a_holder_whose_lock_expired_mid_read_never_overwrites_a_newer_write(site, redis, monkeypatch, fake_clock):
    """The lock (PX) expired while its holder was still reading DynamoDB: the
    next reader takes the lock and stores, a review is written, and only then
    does the first holder finish. Its older result must not be stored, and its
    release must not free the lock someone else holds now."""
    original = reads.restaurant_summary_get
    reading, finish = threading.Event(), threading.Event()
    first_call = threading.Lock()

    def slow_first_read(**kwargs):
        result = original(**kwargs)
        if first_call.acquire(blocking=False):  # only the first holder is slow
            reading.set()
            assert finish.wait(10)
        return result

    monkeypatch.setattr(reads, "restaurant_summary_get", slow_first_read)
    with ThreadPoolExecutor(max_workers=1) as pool:
        first_holder = pool.submit(summaries.restaurant_summary, FINE_DINING)
        assert reading.wait(10)
        redis.delete(keys.summary_lock_key(FINE_DINING))  # what PX expiry does
        with count_requests() as requests:
            second = summaries.restaurant_summary(FINE_DINING)
        assert requests == {"Query": 1} and fake_clock.slept == 0  # took the lock, did not wait
        assert second.restaurant.review_count == 27
        services.review_post(username="kim", restaurant=FINE_DINING, rating=5, text="Newer than the slow read.")
        other_token = _hold_the_lock(redis)
        finish.set()
        assert first_holder.result().restaurant.review_count == 27  # what it read, served to its own caller
    assert redis.get(keys.summary_lock_key(FINE_DINING)).decode() == other_token
    monkeypatch.setattr(reads, "restaurant_summary_get", original)
    with count_requests() as requests:
        cached = summaries.restaurant_summary(FINE_DINING)
    assert sum(requests.values()) == 0
    assert cached.latest_reviews[0].review == "Newer than the slow read."


def test_a_summary_cached_in_another_releases_format_is_a_miss_and_replaced(site, redis, client):
    summaries.restaurant_summary(FINE_DINING)
    key = keys.summary_key(FINE_DINING)
    foreign = {**json.loads(redis.get(key)), "format": 2, "restaurant": {"renamed": "in a later release"}}
    redis.set(key, json.dumps(foreign))
    with count_requests() as requests:
        page = client.get(f"/restaurants/{FINE_DINING}/")
    assert page.status_code == 200 and FINE_DINING in page.content.decode()
    assert requests.get("Query", 0) >= 1
    assert json.loads(redis.get(key))["format"] == 1  # replaced with this release's


def test_a_summary_cached_before_formats_were_numbered_is_still_a_hit(site, redis):
    summaries.restaurant_summary(FINE_DINING)
    key = keys.summary_key(FINE_DINING)
    unnumbered = json.loads(redis.get(key))
    del unnumbered["format"]
    redis.set(key, json.dumps(unnumbered), keepttl=True)
    with count_requests() as requests:
        summary = summaries.restaurant_summary(FINE_DINING)
    assert sum(requests.values()) == 0 and summary.restaurant.name == FINE_DINING


def test_a_store_redis_refuses_after_a_load_costs_no_second_load(site, monkeypatch):
    """Only Redis calls are guarded: the summary just read from DynamoDB is
    served when Redis fails to store it, rather than read again."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    def refused(*args, **kwargs):
        raise RedisConnectionError("Redis went away after the load")

    monkeypatch.setattr(summaries, "store_unless_written", refused)
    with count_requests() as requests:
        summary = summaries.restaurant_summary(FINE_DINING)
    assert summary.restaurant.name == FINE_DINING
    assert requests["Query"] == 1
