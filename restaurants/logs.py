"""The request log: one line per request, and the request id on every line.

Configured by Django's ``LOGGING`` (``reviews_site/settings.py``): plain text
by default, JSON lines (python-json-logger) with ``LOG_FORMAT=json``. The
request line goes to the ``restaurants.requests`` logger, which is on by
default only with JSON (``LOG_REQUESTS``): in plain text gunicorn's access log
already gives a line per request, and the two would say the same thing twice.

What a line holds is chosen here and nowhere else: time, level, logger,
request id, method, path *without* its query string, view (URL name), status,
duration in ms, and the user id (the username) when a user is logged in.
Never the query string, headers, cookies, the session id or a form field, so
a password or a session can never reach the log.

The request id is the load balancer's (``X-Request-ID``, else the ALB's
``X-Amzn-Trace-Id``) when it looks like one, else a new one. It is kept in a
context variable for the request's duration, and ``RequestIdFilter`` puts it
on every record logged meanwhile (a warning from the cache layer included).
Lowest layer with ``metrics``: the WSGI front (cache layer) logs its
page-cache hits here too, since they never reach Django's middleware.
"""

import contextvars
import logging
import re
import uuid

REQUEST_LOGGER = "restaurants.requests"
log = logging.getLogger(REQUEST_LOGGER)

# A trace id from the load balancer, or anything that is not a safe, short token: replaced.
_ACCEPTED_ID = re.compile(r"[A-Za-z0-9=;:._-]{1,200}\Z")
_WSGI_ID_HEADERS = ("HTTP_X_REQUEST_ID", "HTTP_X_AMZN_TRACE_ID")

current_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (None outside a request) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id.get()
        return True


def request_id_from(environ) -> str:
    """The load balancer's id for this request, else a new one (``environ``: a
    WSGI environ or a Django ``request.META``)."""
    for header in _WSGI_ID_HEADERS:
        value = environ.get(header)
        if value and _ACCEPTED_ID.match(value):
            return value
    return uuid.uuid4().hex


def requests_logged() -> bool:
    return log.isEnabledFor(logging.INFO)


def log_request(
    *, request_id: str, method: str, path: str, view: str, status: int, seconds: float, user_id: str | None
) -> None:
    fields = {
        "request_id": request_id,
        "method": method,
        "path": path,
        "view": view,
        "status": status,
        "duration_ms": round(seconds * 1000, 2),
    }
    if user_id is not None:
        fields["user_id"] = user_id
    log.info("%s %s %s %s %.1fms", method, path, status, view, seconds * 1000, extra=fields)
