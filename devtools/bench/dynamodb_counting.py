"""The embedded DynamoDBs, counting requests by operation.

The bench measures DynamoDB Local (the embedded database) and, beside it,
moto's server (the fallback). Either way the counter sits in front of the
server as a WSGI app, so it sees every request a gunicorn worker sends over
HTTP (retries included), whatever the server's own bookkeeping says: for
moto it wraps moto's app (outside its lock); for DynamoDB Local, a Java
process, it wraps a small forwarding app that relays each request to it.
"""

import collections
import contextlib
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import urllib3
from werkzeug.serving import WSGIRequestHandler, make_server

from devtools.embedded.dynamodb_local import start_dynamodb_local
from devtools.embedded.moto_server import start_moto_dynamodb
from restaurants.waiting import wait_until

# Headers that describe one hop, not the request (RFC 9110, 7.6.1).
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


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

        def idle() -> bool:
            with self._lock:
                return not self._in_flight and time.monotonic() - self._last_finished >= quiet_seconds

        with contextlib.suppress(TimeoutError):  # still busy after ``timeout``: measure anyway
            wait_until(idle, timeout=timeout, every=0.05, what="the web servers to go quiet")


def forwarding_app(upstream: str) -> Callable:
    """A WSGI app that relays every request to ``upstream`` and returns its answer."""
    target = urllib.parse.urlsplit(upstream)
    pool = urllib3.HTTPConnectionPool(target.hostname, target.port, maxsize=64, block=True)

    def app(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        headers = {name[5:].replace("_", "-"): value for name, value in environ.items() if name.startswith("HTTP_")}
        headers["CONTENT-TYPE"] = environ.get("CONTENT_TYPE", "")
        path = environ.get("PATH_INFO", "/") + (f"?{environ['QUERY_STRING']}" if environ.get("QUERY_STRING") else "")
        answer = pool.urlopen(environ["REQUEST_METHOD"], path, body=body, headers=headers, retries=False)
        start_response(
            f"{answer.status} {answer.reason}",
            [(name, value) for name, value in answer.headers.items() if name.lower() not in _HOP_BY_HOP],
        )
        return [answer.data]

    return app


class _QuietHandler(WSGIRequestHandler):
    """One access-log line per DynamoDB request would drown the bench's output."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@dataclass
class CountingDynamoDB:
    """An embedded DynamoDB behind a counter: ``url`` is the counted endpoint."""

    kind: str
    url: str
    counter: OperationCounter
    pid: int | None  # the server's own process (DynamoDB Local), for CPU accounting
    stop: Callable[[], None]


def start_counting_dynamodb(kind: str) -> CountingDynamoDB:
    """``"dynamodb-local"`` (in memory) or ``"moto"``, on 127.0.0.1, counting every request."""
    counter = OperationCounter()
    if kind == "moto":
        server = start_moto_dynamodb(wrap_app=counter.wrap)
        return CountingDynamoDB(server.kind, server.url, counter, None, server.stop)
    local = start_dynamodb_local()
    relay = make_server(
        "127.0.0.1", 0, counter.wrap(forwarding_app(local.url)), threaded=True, request_handler=_QuietHandler
    )
    thread = threading.Thread(target=relay.serve_forever, name="dynamodb-counter", daemon=True)
    thread.start()

    def stop() -> None:
        relay.shutdown()
        relay.server_close()
        local.stop()

    return CountingDynamoDB(local.kind, f"http://127.0.0.1:{relay.server_port}", counter, local.process.pid, stop)
