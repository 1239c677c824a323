"""The embedded DynamoDB of ``devservices.dynamodb``, counting requests by operation.

The counter wraps the same serialized moto app, outside the lock, so it sees
every request a gunicorn worker sends over HTTP (retries included), whatever
the app's own bookkeeping says.
"""

import collections
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from devtools.embedded.moto_server import EmbeddedDynamoDB, start_dynamodb


class OperationCounter:
    """DynamoDB requests by operation (``Query``, ``GetItem``...) and the time
    the server spent on them (lock wait included), thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: collections.Counter[str] = collections.Counter()
        self._seconds: collections.Counter[str] = collections.Counter()
        self._last_finished = time.monotonic()
        self._in_flight = 0

    def wrap(self, app: Callable) -> Callable:
        def counting_app(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
            operation = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2] or "(unknown)"
            started = time.monotonic()
            with self._lock:
                self._counts[operation] += 1
                self._in_flight += 1
            try:
                return app(environ, start_response)  # the serialized app has drained the response
            finally:
                finished = time.monotonic()
                with self._lock:
                    self._seconds[operation] += finished - started
                    self._in_flight -= 1
                    self._last_finished = finished

        return counting_app

    def snapshot(self) -> collections.Counter[str]:
        with self._lock:
            return collections.Counter(self._counts)

    def mean_milliseconds(self) -> dict[str, float]:
        """Server time per request, by operation, since the last reset."""
        with self._lock:
            return {name: self._seconds[name] / count * 1000 for name, count in self._counts.items() if count}

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self._seconds.clear()

    def wait_until_quiet(self, *, quiet_seconds: float = 1.0, timeout: float = 60.0) -> None:
        """Return once no request has been served for ``quiet_seconds``: the
        backlog a load test leaves in the web servers has drained."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                idle = not self._in_flight and time.monotonic() - self._last_finished >= quiet_seconds
            if idle:
                return
            time.sleep(0.05)


def start_counting_dynamodb() -> tuple[EmbeddedDynamoDB, OperationCounter]:
    """Serve moto's DynamoDB on 127.0.0.1 (a free port), counting every request."""
    counter = OperationCounter()
    return start_dynamodb(wrap_app=counter.wrap), counter
