"""restaurants.waiting, driven by a fake clock: every timeout here is reached
without waiting, and each test asserts how much (fake) time passed."""

import pytest

from restaurants import waiting
from tests.fake_clock import FakeClock


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(waiting, "source", fake)
    return fake


def test_wait_until_returns_the_first_true_value_without_sleeping_when_it_is_there_at_once(clock):
    assert waiting.wait_until(lambda: "ready", timeout=5, every=1, what="x") == "ready"
    assert clock.slept == 0


def test_wait_until_polls_every_interval_until_the_condition_holds(clock):
    start = clock.monotonic()
    clock.after(2.5, lambda: ready.append(True))
    ready: list[bool] = []

    assert waiting.wait_until(lambda: ready, timeout=10, every=1, what="x") == [True]
    assert clock.monotonic() - start == 3


def test_wait_until_names_what_it_waited_for_when_the_time_is_up(clock):
    calls: list[float] = []
    start = clock.monotonic()
    look = lambda: calls.append(clock.monotonic())  # noqa: E731

    with pytest.raises(TimeoutError, match=r"gave up after 2 s waiting for the replica to catch up"):
        waiting.wait_until(look, timeout=2, every=0.5, what="the replica to catch up")

    assert clock.monotonic() - start == 2
    assert [at - start for at in calls] == [0, 0.5, 1, 1.5, 2]  # a last look at the deadline itself


def test_the_last_sleep_is_cut_to_the_deadline(clock):
    start = clock.monotonic()
    with pytest.raises(TimeoutError):
        waiting.wait_until(lambda: False, timeout=2.5, every=1, what="x")
    assert clock.monotonic() - start == 2.5


def test_a_callable_what_is_asked_only_on_expiry(clock):
    asked: list[bool] = []

    def details() -> str:
        asked.append(True)
        return "the log's tail"

    assert waiting.wait_until(lambda: 1, timeout=1, every=1, what=details) == 1
    assert asked == []
    with pytest.raises(TimeoutError, match="the log's tail"):
        waiting.wait_until(lambda: 0, timeout=1, every=1, what=details)


def test_ignored_exceptions_mean_not_yet_and_others_end_the_wait(clock):
    attempts: list[int] = []

    def connect() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionRefusedError
        return "connected"

    assert waiting.wait_until(connect, timeout=5, every=1, what="x", ignoring=(OSError,)) == "connected"
    with pytest.raises(ValueError):
        waiting.wait_until(lambda: int("died"), timeout=5, every=1, what="x", ignoring=(OSError,))
    assert clock.slept == 2


def test_an_explicit_clock_is_used_instead_of_the_module_source(clock):
    other = FakeClock()
    with pytest.raises(TimeoutError):
        waiting.wait_until(lambda: None, timeout=3, every=1, what="x", clock=other)
    assert (other.slept, clock.slept) == (3, 0)


def test_backoff_delays_double_up_to_the_cap():
    assert list(waiting.backoff_delays(first=0.05, cap=0.3, count=5)) == [0.05, 0.1, 0.2, 0.3, 0.3]
    assert list(waiting.backoff_delays(first=1, factor=3, count=3)) == [1, 3, 9]


def test_retrying_sleeps_between_attempts_but_not_after_the_last(clock):
    sleeps: list[float] = []
    clock.sleep = sleeps.append

    assert list(waiting.retrying(attempts=4, first=0.1, cap=0.3)) == [0, 1, 2, 3]
    assert sleeps == [0.1, 0.2, 0.3]


def test_retrying_stops_sleeping_when_the_caller_stops(clock):
    sleeps: list[float] = []
    clock.sleep = sleeps.append

    for attempt in waiting.retrying(attempts=10, first=1):
        if attempt == 2:
            break
    assert sleeps == [1, 2]


def test_jittered_delays_stay_between_zero_and_the_backoff(clock):
    sleeps: list[float] = []
    clock.sleep = sleeps.append

    for _ in waiting.retrying(attempts=50, first=0.05, cap=0.2, jitter=True):
        pass
    assert len(sleeps) == 49 and all(0 <= pause <= 0.2 for pause in sleeps)
    assert len(set(sleeps)) > 1
