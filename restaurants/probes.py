"""Health probes for load balancers and orchestrators, first in MIDDLEWARE.

``/healthz`` (liveness) says the process answers: no I/O, so a slow
dependency never gets a healthy process restarted. ``/readyz`` (readiness)
names each dependency and its state (``selectors.readiness_get``): 503 only
when the site cannot serve (DynamoDB answered with an error, or gave no answer
to several checks in a row); a slow or once-silent DynamoDB, or Redis down, is
"degraded" and still 200: a load balancer that pulled every instance of a
loaded fleet would turn slowness into an outage, and without Redis pages come
from DynamoDB.

They are answered before anything else runs: before the page cache (which
may touch Redis), and before Django's host validation, because a load
balancer probes by the instance's own address, which ``ALLOWED_HOSTS`` rightly
does not list. The answers hold nothing host- or request-specific.
"""

from django.http import JsonResponse

from . import selectors

LIVENESS_PATH = "/healthz"
READINESS_PATH = "/readyz"


class ProbeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == LIVENESS_PATH:
            return _uncached(JsonResponse({"status": "ok"}))
        if request.path_info == READINESS_PATH:
            readiness = selectors.readiness_get()
            status = 503 if readiness["status"] == "unavailable" else 200
            return _uncached(JsonResponse(readiness, status=status))
        return self.get_response(request)


def _uncached(response):
    response["Cache-Control"] = "no-store"
    return response
