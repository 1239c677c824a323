"""The cache layer's one source of time.

Every decision in ``restaurants.cache`` that depends on time goes through
here: whether a summary or the leaderboard is still fresh, how long a request
waits for another's refresh, when the circuit breaker lets Redis be tried
again. Tests replace ``source`` with a fake clock whose ``sleep`` advances
time, so a waiter's timeout or a breaker's interval is reached in a
millisecond, and no test depends on how fast the machine or DynamoDB is.

Reports of how long an operator's action took (flush, warm) measure real
elapsed time with ``time`` directly: nothing decides anything by them.

Redis-side expiry (``EX``/``PX``) runs on the Redis server's own clock and is
not driven from here: logic that tests must control keeps its own
Python-side deadline (the summary's ``fresh_until``, the leaderboard's).
"""

import time
from collections.abc import Callable
from typing import Protocol, TypeVar

from restaurants import waiting

T = TypeVar("T")


class Clock(Protocol):
    def now(self) -> float: ...

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


source: Clock = SystemClock()


def now() -> float:
    """Wall-clock seconds since the epoch: for times stored in Redis, which
    other processes compare with their own clocks."""
    return source.now()


def monotonic() -> float:
    """Seconds from an arbitrary start: for intervals within this process."""
    return source.monotonic()


def sleep(seconds: float) -> None:
    source.sleep(seconds)


def wait_for(fetch: Callable[[], T | None], *, seconds: float, every: float) -> T | None:
    """Call ``fetch`` every ``every`` seconds until it returns something other
    than None, for ``seconds`` (and at most one interval more); None if it
    never did. The caller has just looked, so the first call comes after one
    interval."""
    sleep(every)
    try:
        return waiting.wait_until(
            lambda: (value,) if (value := fetch()) is not None else None,
            timeout=seconds,
            every=every,
            what="a value",
            clock=source,
        )[0]
    except TimeoutError:
        return None
