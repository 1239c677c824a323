"""moto's DynamoDB server, in a thread of this process: the fallback where Java is missing.

moto keeps its state in plain dicts and its TransactWriteItems snapshots and
restores whole tables, so two requests running at once corrupt each other
(counters drift, "dictionary changed size during iteration"). Every request
therefore runs under one process-wide lock; that is also why the lock is
module-level: all servers started in one process share moto's backends, and
so share the data (use distinct table names if you start several).

moto is slow on a big table (it answers a GSI Query by sorting every item, and
deep-copies the table for each transaction: about 0.5 s and 0.8 s on the demo
table), and keeps everything in memory. We used to patch both costs away;
with DynamoDB Local as the embedded database the patches no longer pay for
the moto code they copied, so the fallback is simply moto as released.
"""

import threading
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

_request_lock = threading.Lock()


def _serialized(app: Callable) -> Callable:
    """Run ``app`` and drain its response under the lock, so no two requests
    ever touch moto's state at the same time."""

    def serialized_app(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        with _request_lock:
            result = app(environ, start_response)
            try:
                return list(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()

    return serialized_app


class MotoDynamoDB:
    """A running moto DynamoDB endpoint; ``stop()`` shuts it down."""

    kind = "moto server (fallback)"
    persistent = False

    def __init__(self, server: BaseWSGIServer, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread
        self.port: int = server.server_port
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> "MotoDynamoDB":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_moto_dynamodb(
    host: str = "127.0.0.1", port: int = 0, *, log_requests: bool = False, wrap_app: Callable | None = None
) -> MotoDynamoDB:
    """Serve moto's DynamoDB on ``host:port`` (0 picks a free port) until stopped.

    One access-log line per DynamoDB call drowns the web server's own log, so
    requests are not logged unless asked; errors always are. ``wrap_app`` may
    wrap the (serialized) WSGI app, e.g. to count requests."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

    class RequestHandler(MotoRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            if log_requests:
                super().log_request(*args, **kwargs)

    app = _serialized(DomainDispatcherApplication(create_backend_app))
    if wrap_app is not None:
        app = wrap_app(app)
    server = make_server(host, port, app, threaded=True, request_handler=RequestHandler)
    thread = threading.Thread(target=server.serve_forever, name=f"moto-dynamodb-{server.server_port}", daemon=True)
    thread.start()
    return MotoDynamoDB(server, thread)
