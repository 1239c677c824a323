"""The circuit breaker in front of Redis (used by ``connection.redis_or_fallback``).

Three states, so an outage costs a request nothing and recovery costs one
request at most:

- **closed**: every cache call goes to Redis. A Redis error opens it.
- **open**: for ``CACHE_RETRY_AFTER_SECONDS`` every call skips Redis at once
  (its caller falls back to DynamoDB), instead of each request waiting for a
  connect timeout.
- **half-open**: once the interval is over, exactly one call (the trial) goes
  to Redis; every other call keeps skipping it until the trial ends. A trial
  that succeeds closes the circuit, one that fails opens it for another
  interval. A trial that ends in an error that is not Redis's (DynamoDB
  failed inside the guarded block, say) says nothing about Redis: the next
  call becomes the trial.

The trial belongs to a thread, so guarded calls nested inside it (stats
flushed during a read) are part of it, not refused by it.

The outage is logged once per interval (at most every 30 s), not per request,
and the recovery once. Each change of state sets the gauge
``tastebook_cache_circuit_state{circuit=<name>}``; each trip counts in
``tastebook_cache_circuit_trips_total``.
"""

import enum
import logging
import threading

from django.conf import settings

from restaurants import metrics

from ..rules import clock

# The guard's own logger: operators filter on it for cache outages.
log = logging.getLogger("restaurants.cache.plumbing.connection")

WARN_AT_MOST_EVERY_SECONDS = 30.0


class State(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


class CircuitBreaker:
    def __init__(
        self,
        name: str = "primary",
        *,
        down: str = "Redis is unavailable (%s); serving without the cache for now.",
        back: str = "Redis answers again; the cache is back.",
    ):
        self.name = name
        self._down_message, self._back_message = down, back  # what operators read in the log
        self._state_gauge = metrics.cache_circuit_state.labels(name)
        self._trips = metrics.cache_circuit_trips.labels(name)
        self._lock = threading.Lock()
        self._state = State.CLOSED
        self._state_gauge.set(metrics.CIRCUIT_STATE_VALUES[State.CLOSED.value])
        self._open_until = 0.0
        self._warned_at: float | None = None
        self._trial_thread: int | None = None
        self._trial_depth = 0

    @property
    def state(self) -> State:
        return self._state

    def allows(self) -> bool:
        """Whether this call may use Redis; in half-open, True makes it the trial."""
        if self._state is State.CLOSED:  # the hot path takes no lock
            return True
        me = threading.get_ident()
        with self._lock:
            if self._state is State.OPEN and clock.monotonic() >= self._open_until:
                self._set_state(State.HALF_OPEN)
            if self._state is State.CLOSED:
                return True
            if self._state is State.HALF_OPEN and self._trial_thread in (None, me):
                self._trial_thread = me
                self._trial_depth += 1
                return True
            return False

    def succeeded(self) -> None:
        """A guarded call finished without a Redis error."""
        if self._state is State.CLOSED:
            return
        with self._lock:
            if self._state is State.HALF_OPEN and self._trial_thread == threading.get_ident():
                self._close()
                log.info(self._back_message)

    def abstain(self) -> None:
        """A guarded call ended in an error that was not Redis's: no verdict."""
        if self._state is State.CLOSED:
            return
        with self._lock:
            if self._trial_thread == threading.get_ident():
                self._trial_depth -= 1
                if self._trial_depth <= 0:
                    self._trial_thread, self._trial_depth = None, 0

    def trip(self, error: BaseException) -> None:
        """A Redis error: skip Redis for the next interval."""
        now = clock.monotonic()
        interval = settings.CACHE_RETRY_AFTER_SECONDS
        self._trips.inc()
        with self._lock:
            self._set_state(State.OPEN)
            self._open_until = now + interval
            self._trial_thread, self._trial_depth = None, 0
            warn = self._warned_at is None or now - self._warned_at >= max(interval, WARN_AT_MOST_EVERY_SECONDS)
            if warn:
                self._warned_at = now
        if warn:
            log.warning(self._down_message, error)

    def reset(self) -> None:
        with self._lock:
            self._close()
            self._warned_at = None

    def _close(self) -> None:
        self._set_state(State.CLOSED)
        self._open_until = 0.0
        self._trial_thread, self._trial_depth = None, 0

    def _set_state(self, state: State) -> None:
        self._state = state
        self._state_gauge.set(metrics.CIRCUIT_STATE_VALUES[state.value])
