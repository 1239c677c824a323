"""One way to wait for something and to retry something, with a clock tests control.

Hand-written ``deadline = time.monotonic() + ...`` loops each got a detail
wrong in their own way (a sleep after the last attempt, a deadline checked
before the condition, a timeout that said nothing about what was awaited).
``wait_until`` polls a condition and, on expiry, raises a TimeoutError naming
what it waited for; ``retrying`` runs attempts with exponential backoff
between them (never after the last). Both read time from ``clock``, by
default ``source``, which a test may replace with tests/fake_clock.py's
FakeClock so a timeout is reached in a millisecond.

The lowest layer (beside metrics and logs), so the model layer, the cache,
the site, devtools and tests all wait the same way. The cache keeps its own
``restaurants.cache.rules.clock.source`` for its decisions (its waits
run on ``wait_until`` with that clock): a test's fake cache
clock must not speed up a devtools wait for a real server.
"""

import random
import time
from collections.abc import Callable, Iterator
from typing import Protocol, TypeVar

T = TypeVar("T")


class Clock(Protocol):
    """All a wait needs of a clock: the ``time`` module has both, and so has FakeClock."""

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


source: Clock = time


def wait_until(
    condition: Callable[[], T],
    *,
    timeout: float,
    every: float,
    what: str | Callable[[], str],
    ignoring: tuple[type[BaseException], ...] = (),
    clock: Clock | None = None,
) -> T:
    """Call ``condition`` every ``every`` seconds until it returns something
    true, and return that. It is always called at least once, and once more
    when the time is up, so a slow last sleep never loses a success.
    Exceptions of the types in ``ignoring`` count as "not yet" (a server that
    still refuses connections); any other exception ends the wait, which is
    how a condition gives up early (a process that died). After ``timeout``
    seconds: TimeoutError naming ``what`` (a callable is asked only then, for
    details such as a log's tail)."""
    clock = clock or source
    deadline = clock.monotonic() + timeout
    while True:
        expired = clock.monotonic() >= deadline
        try:
            if value := condition():
                return value
        except ignoring:
            pass
        if expired:
            described = what() if callable(what) else what
            raise TimeoutError(f"gave up after {timeout:g} s waiting for {described}")
        clock.sleep(min(every, max(0.0, deadline - clock.monotonic())))


def backoff_delays(*, first: float, factor: float = 2.0, cap: float = float("inf"), count: int) -> Iterator[float]:
    """``count`` delays: ``first``, then each ``factor`` times the one before, none above ``cap``."""
    for step in range(count):
        yield min(first * factor**step, cap)


def retrying(
    *,
    attempts: int,
    first: float,
    factor: float = 2.0,
    cap: float = float("inf"),
    jitter: bool = False,
    clock: Clock | None = None,
) -> Iterator[int]:
    """Attempt numbers 0 .. ``attempts - 1``, sleeping a backoff delay between
    two (none before the first, none after the last): ``for attempt in
    retrying(...)``, ``return`` or ``break`` on success, and what follows the
    loop is the "every attempt failed" case. ``jitter``: each delay is drawn
    uniformly from zero to it ("full jitter"), so writers that conflicted
    with each other do not retry in step."""
    clock = clock or source
    delays = backoff_delays(first=first, factor=factor, cap=cap, count=attempts - 1)
    for attempt in range(attempts):
        yield attempt
        if (delay := next(delays, None)) is not None:
            clock.sleep(random.uniform(0, delay) if jitter else delay)
