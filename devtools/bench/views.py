"""Views that exist only in the bench's URLconf."""

import os

from django.http import HttpResponse, JsonResponse

from . import redis_counting


def minimal(request):
    """The floor: the whole middleware stack, no template and no data."""
    return HttpResponse("ok", content_type="text/plain")


def counters(request):
    """Redis round trips made by all workers since the last reset
    (``?reset=1`` resets after reading). Costs no Redis round trip itself."""
    body = {
        "pid": os.getpid(),
        "redis_round_trips": redis_counting.round_trips(),
        "counted_in_shared_memory": redis_counting.counted_in_shared_memory(),
    }
    if request.GET.get("reset"):
        redis_counting.reset_round_trips()
    response = JsonResponse(body)
    response["Cache-Control"] = "no-store"
    return response
