"""A clock for ``restaurants.cache.rules.clock`` that moves only when told to.

``sleep`` advances time instead of waiting, so code that waits for a timeout
(a stampede waiter, the circuit breaker's interval) reaches it at once, and a
test asserts on how much time passed, not on how long the machine took.
``after`` schedules an action at a point in fake time: "the lock holder
stores its result 0.5 s into the wait". ``freeze`` is for tests with real
threads: time stands still and ``sleep`` only yields, so a waiter waits for
exactly as long as the thread it waits for takes, however slow.
"""

import threading
import time
from collections.abc import Callable

# A frozen clock still gives up after this much real time, so a bug fails the
# test instead of hanging it.
FROZEN_REAL_SECONDS_MAX = 60.0


class FakeClock:
    def __init__(self):
        # Starts at the real readings, so values already stored stay comparable.
        self._wall = time.time()
        self._monotonic = time.monotonic()
        self._lock = threading.Lock()
        self._scheduled: list[tuple[float, Callable[[], object]]] = []
        self._frozen_at: float | None = None
        self.slept = 0.0

    def now(self) -> float:
        return self._wall

    def monotonic(self) -> float:
        return self._monotonic

    def sleep(self, seconds: float) -> None:
        if self._frozen_at is None:
            self.slept += seconds
            self.advance(seconds)
            return
        if time.monotonic() - self._frozen_at > FROZEN_REAL_SECONDS_MAX:
            raise AssertionError(f"waited {FROZEN_REAL_SECONDS_MAX} s of real time on a frozen clock")
        time.sleep(seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._wall += seconds
            self._monotonic += seconds
            due = [action for at, action in self._scheduled if at <= self._monotonic]
            self._scheduled = [(at, action) for at, action in self._scheduled if at > self._monotonic]
        for action in due:
            action()

    def after(self, seconds: float, action: Callable[[], object]) -> None:
        """Run ``action`` once, when time has advanced ``seconds`` from now."""
        with self._lock:
            self._scheduled.append((self._monotonic + seconds, action))

    def freeze(self) -> None:
        self._frozen_at = time.monotonic()
