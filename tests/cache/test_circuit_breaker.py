"""The circuit breaker's states, driven by a fake clock and a fakeredis server
that stops answering (``connected = False``), not by a mock of our own code."""

import logging
from concurrent.futures import ThreadPoolExecutor

import pytest
from prometheus_client import REGISTRY

from restaurants.cache.plumbing.circuit import State
from restaurants.cache.plumbing.connection import CacheDown, circuit, primary, redis_or_fallback, replica_circuit
from restaurants.dynamo.errors import Unavailable

INTERVAL = 5.0


@pytest.fixture(autouse=True)
def interval(settings):
    settings.CACHE_RETRY_AFTER_SECONDS = INTERVAL


def call_redis() -> str:
    """One guarded call: "answered", "failed" (Redis was asked and erred) or
    "skipped" (the breaker refused before Redis was asked)."""
    asked = False
    try:
        with redis_or_fallback():
            asked = True
            primary().ping()
        return "answered"
    except CacheDown:
        return "failed" if asked else "skipped"


def wait_out_an_outage(fake_redis, fake_clock) -> None:
    """Redis failed (opening the circuit), came back, and the interval passed:
    the next call is the trial."""
    fake_redis.connected = False
    assert call_redis() == "failed"
    fake_redis.connected = True
    fake_clock.advance(INTERVAL)


def in_another_thread(function):
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function).result()


def test_a_closed_circuit_sends_every_call_to_redis(fake_redis):
    assert [call_redis() for _ in range(3)] == ["answered"] * 3
    assert circuit.state is State.CLOSED


def test_a_redis_error_opens_it_and_calls_skip_redis_for_the_interval(fake_redis, fake_clock):
    fake_redis.connected = False
    assert call_redis() == "failed"
    fake_redis.connected = True  # Redis is back, but nobody asks it yet
    fake_clock.advance(INTERVAL - 0.01)
    assert [call_redis() for _ in range(3)] == ["skipped"] * 3
    assert circuit.state is State.OPEN


def test_after_the_interval_one_trial_call_closes_it_when_redis_answers(fake_redis, fake_clock):
    wait_out_an_outage(fake_redis, fake_clock)
    assert call_redis() == "answered"
    assert circuit.state is State.CLOSED
    assert call_redis() == "answered"


def test_while_the_trial_runs_every_other_call_still_skips_redis(fake_redis, fake_clock):
    wait_out_an_outage(fake_redis, fake_clock)
    with redis_or_fallback():  # the trial, still running
        assert circuit.state is State.HALF_OPEN
        others = [in_another_thread(call_redis) for _ in range(3)]
        primary().ping()
    assert others == ["skipped"] * 3
    assert circuit.state is State.CLOSED


def test_a_failed_trial_opens_it_again_for_a_whole_interval(fake_redis, fake_clock):
    fake_redis.connected = False
    call_redis()
    fake_clock.advance(INTERVAL)
    assert call_redis() == "failed"
    assert circuit.state is State.OPEN
    fake_redis.connected = True
    fake_clock.advance(INTERVAL - 0.01)
    assert call_redis() == "skipped"
    fake_clock.advance(0.01)
    assert call_redis() == "answered"
    assert circuit.state is State.CLOSED


def test_a_trial_that_fails_for_another_reason_lets_the_next_call_try(fake_redis, fake_clock):
    """DynamoDB failing inside the guarded block says nothing about Redis: the
    breaker must not stay half-open with a trial nobody will finish."""
    wait_out_an_outage(fake_redis, fake_clock)
    with pytest.raises(Unavailable), redis_or_fallback():
        raise Unavailable("DynamoDB throttled")
    assert circuit.state is State.HALF_OPEN
    assert in_another_thread(call_redis) == "answered"
    assert circuit.state is State.CLOSED


def test_calls_nested_in_the_trial_are_part_of_it(fake_redis, fake_clock):
    """A read that flushes its stats inside the guard is one trial, not two."""
    wait_out_an_outage(fake_redis, fake_clock)
    with redis_or_fallback():
        assert call_redis() == "answered"
    assert circuit.state is State.CLOSED


def test_the_outage_is_logged_once_per_interval_and_the_recovery_once(fake_redis, fake_clock, caplog):
    fake_redis.connected = False
    with caplog.at_level(logging.INFO, logger="restaurants.cache.plumbing.connection"):
        for _ in range(3):  # each a failed trial, one interval apart
            call_redis()
            fake_clock.advance(INTERVAL)
        fake_clock.advance(30)
        call_redis()
        fake_redis.connected = True
        fake_clock.advance(INTERVAL)
        call_redis()
        call_redis()
    messages = [record.getMessage() for record in caplog.records]
    assert [m.startswith("Redis is unavailable") for m in messages] == [True, True, False]
    assert messages[-1] == "Redis answers again; the cache is back."


def test_a_replica_outage_is_logged_as_one_the_cache_survives(fake_clock, caplog):
    """Reads go to the primary meanwhile: the log must not say the cache is off."""
    replica_circuit.reset()
    with caplog.at_level(logging.INFO, logger="restaurants.cache.plumbing.connection"):
        replica_circuit.trip(ConnectionError("Connection refused"))
        fake_clock.advance(INTERVAL)
        assert replica_circuit.allows()  # the trial
        replica_circuit.succeeded()
    assert [record.getMessage() for record in caplog.records] == [
        "A Redis read replica is unavailable (Connection refused); reading from the primary for now.",
        "The Redis read replica answers again.",
    ]
    assert replica_circuit.state is State.CLOSED


def circuit_gauge() -> float:
    return REGISTRY.get_sample_value("tastebook_cache_circuit_state", {"circuit": "primary"})


def test_the_state_gauge_follows_the_breaker(fake_redis, fake_clock):
    """0 closed, 2 open, 1 half-open during the trial, 0 again once it succeeds."""
    trips = REGISTRY.get_sample_value("tastebook_cache_circuit_trips_total", {"circuit": "primary"}) or 0
    assert call_redis() == "answered" and circuit_gauge() == 0
    fake_redis.connected = False
    assert call_redis() == "failed" and circuit_gauge() == 2
    assert REGISTRY.get_sample_value("tastebook_cache_circuit_trips_total", {"circuit": "primary"}) == trips + 1
    fake_redis.connected = True
    fake_clock.advance(INTERVAL)
    with redis_or_fallback():
        assert circuit_gauge() == 1
        primary().ping()
    assert circuit.state is State.CLOSED and circuit_gauge() == 0
