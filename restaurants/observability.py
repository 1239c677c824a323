"""Request metrics and the ``/metrics`` endpoint, second in MIDDLEWARE (right
after the probes, so load-balancer probes are neither timed nor counted).

Each request is timed around everything below it and counted by the URL name
it resolved to (``restaurants:detail``: a bounded label set, never the raw
path) and its status. Page-cache hits served by Django's own page-cache
middleware carry ``X-Cache: HIT`` and count as ``page_cache``, like those the
WSGI front answers (``restaurants/cache/wsgi.py``), which never get here.

``/metrics`` is answered here, before the page cache and host validation
(Prometheus scrapes each instance by its own address), and only with
``Authorization: Bearer <METRICS_TOKEN>``: 404 while ``METRICS_TOKEN`` is unset
(the endpoint does not exist), 403 for a missing or wrong token.
"""

import hmac
import time

from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden

from . import metrics

METRICS_PATH = "/metrics"


class ObservabilityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == METRICS_PATH and settings.METRICS_TOKEN:
            return metrics_response(request)
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        view, status = view_name(request, response), str(response.status_code)
        metrics.http_requests.labels(view, status).inc()
        metrics.http_request_duration.labels(view, status).observe(elapsed)
        return response


def view_name(request, response) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name
    if response.get("X-Cache") == "HIT":
        return metrics.PAGE_CACHE_VIEW
    return metrics.UNRESOLVED_VIEW


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
