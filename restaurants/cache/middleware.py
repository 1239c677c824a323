"""``AnonymousPageCacheMiddleware``: first in MIDDLEWARE, so a hit is answered
with one Redis round trip before sessions, auth or any other middleware run.
See ``pages.py`` for what is cached and how pages are retired."""

from . import invalidation, pages, stats
from .connection import CacheDown, redis_or_fallback


class AnonymousPageCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        invalidation.retry_pending()
        address = pages.page_address(request) if pages.request_is_cacheable(request) else None
        if address is None:
            return self.get_response(request)
        tag, field = address
        try:
            with redis_or_fallback():
                raw, generation = pages.lookup(tag, field)
        except CacheDown:
            return self.get_response(request)
        if raw is not None:
            stats.record("page", "hit")
            return pages.finish(pages.response_from(raw, request), request, "HIT")

        stats.record("page", "miss")
        response = self.get_response(request)
        if request.method != "GET" or not pages.response_is_storable(response):
            return response
        try:
            with redis_or_fallback():
                pages.store(tag, field, generation, response)
        except CacheDown:
            pass
        return pages.finish(response, request, "MISS")
