"""The embedded DynamoDB of ``devservices.dynamodb``, counting requests by operation.

The counter wraps the same serialized moto app, outside the lock, so it sees
every request a gunicorn worker sends over HTTP (retries included), whatever
the app's own bookkeeping says.
"""

import collections
import threading
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.serving import make_server

from reviews_site.devservices import fast_transactions
from reviews_site.devservices.dynamodb import EmbeddedDynamoDB, _serialized


class OperationCounter:
    """DynamoDB requests by operation (``Query``, ``GetItem``...), thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: collections.Counter[str] = collections.Counter()

    def wrap(self, app: Callable) -> Callable:
        def counting_app(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
            operation = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2] or "(unknown)"
            with self._lock:
                self._counts[operation] += 1
            return app(environ, start_response)

        return counting_app

    def snapshot(self) -> collections.Counter[str]:
        with self._lock:
            return collections.Counter(self._counts)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


def start_counting_dynamodb() -> tuple[EmbeddedDynamoDB, OperationCounter]:
    """Serve moto's DynamoDB on 127.0.0.1 (a free port), counting every request."""
    fast_transactions.install()
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

    class QuietRequestHandler(MotoRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            pass

    counter = OperationCounter()
    app = counter.wrap(_serialized(DomainDispatcherApplication(create_backend_app)))
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="bench-dynamodb", daemon=True)
    thread.start()
    return EmbeddedDynamoDB(server, thread), counter
