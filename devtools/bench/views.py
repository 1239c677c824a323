"""Views that exist only in the bench's URLconf."""

from django.http import HttpResponse, JsonResponse

from . import redis_counting


def minimal(request):
    """The floor: the whole middleware stack, no template and no data."""
    return HttpResponse("ok", content_type="text/plain")


def counters(request):
    """Redis round trips made by all workers since the last reset
    (``?reset=1`` resets after reading). Costs no Redis round trip itself."""
    response = JsonResponse(redis_counting.counters(reset=bool(request.GET.get("reset"))))
    response["Cache-Control"] = "no-store"
    return response
