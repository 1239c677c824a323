"""Error pages, and the middleware that maps model-layer errors onto them."""

import logging

from django.shortcuts import render
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError

from .errors import InvalidCursor, NotFound, Unavailable


def bad_request(request, exception=None, message: str = "That request could not be understood."):
    return _error(request, 400, "Bad request", message)


def not_found(request, exception=None, message: str = "We could not find that page."):
    return _error(request, 404, "Not found", message)


def server_error(request):
    return _error(request, 500, "Something went wrong", "Please try again in a moment.")


def service_unavailable(request, message: str = "We could not reach our data store. Please try again in a moment."):
    return _error(request, 503, "Temporarily unavailable", message)


def _error(request, status: int, title: str, message: str):
    return render(request, "error.html", {"status": status, "title": title, "message": message}, status=status)


class DataErrorMiddleware:
    """Turns the model layer's errors into proper error pages, so a missing
    restaurant is a 404, a forged cursor a 400 and an outage a 503 - never a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, NotFound):
            return not_found(request, message=str(exception))
        if isinstance(exception, InvalidCursor):
            return bad_request(request, message=str(exception))
        if isinstance(exception, Unavailable | RedisError | ConnectionInterrupted):
            logging.getLogger(__name__).warning("Service unavailable: %r", exception)
            response = service_unavailable(request)
            response["Retry-After"] = "5"
            return response
        return None
