"""Request metrics, the request log and the ``/metrics`` endpoint, second in
MIDDLEWARE (right after the probes, so load-balancer probes are neither timed,
counted nor logged).

Every request gets a request id (``logs.request_id_from``: the load
balancer's, else a new one), sent back as ``X-Request-ID`` and carried by
every log line written meanwhile; and, when the request log is on, one line
(``logs.log_request``) once the response is ready.

Each request is timed around everything below it and counted by the URL name
it resolved to (``restaurants:detail``: a bounded label set, never the raw
path) and its status. Page-cache hits served by Django's own page-cache
middleware carry ``X-Cache: HIT`` and count as ``page_cache``, like those the
WSGI front answers (``restaurants/cache/front/wsgi.py``), which never get here.

``/metrics`` is answered here, before the page cache and host validation
(Prometheus scrapes each instance by its own address), and only with
``Authorization: Bearer <METRICS_TOKEN>``: 404 while ``METRICS_TOKEN`` is unset
(the endpoint does not exist), 403 for a missing or wrong token.
"""

import hmac
import time

from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden
from django.utils.functional import empty

from . import logs, metrics

METRICS_PATH = "/metrics"


class ObservabilityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == METRICS_PATH and settings.METRICS_TOKEN:
            return metrics_response(request)
        started = time.perf_counter()
        request_id = logs.request_id_from(request.META)
        token = logs.current_request_id.set(request_id)
        try:
            response = self.get_response(request)
            elapsed = time.perf_counter() - started
            view, status = view_name(request, response), str(response.status_code)
            metrics.http_requests.labels(view, status).inc()
            metrics.http_request_duration.labels(view, status).observe(elapsed)
            response["X-Request-ID"] = request_id
            if logs.requests_logged():
                logs.log_request(
                    request_id=request_id,
                    method=request.method,
                    path=request.path,
                    view=view,
                    status=response.status_code,
                    seconds=elapsed,
                    user_id=logged_in_user_id(request),
                )
            return response
        finally:
            logs.current_request_id.reset(token)


def view_name(request, response) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name
    if response.get("X-Cache") == "HIT":
        return metrics.PAGE_CACHE_VIEW
    return metrics.UNRESOLVED_VIEW


def logged_in_user_id(request) -> str | None:
    """The user's id if the request already loaded its user: logging must never
    be what reads the session from Redis."""
    user = getattr(request, "user", None)
    if user is None or getattr(user, "_wrapped", None) is empty:
        return None
    return str(user.pk) if user.is_authenticated else None


def metrics_response(request) -> HttpResponse:
    presented = request.headers.get("Authorization", "")
    expected = f"Bearer {settings.METRICS_TOKEN}"
    if not hmac.compare_digest(presented.encode(), expected.encode()):
        response = HttpResponseForbidden("Forbidden\n", content_type="text/plain")
    else:
        body, content_type = metrics.exposition()
        response = HttpResponse(body, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response
