"""``AnonymousPageCacheMiddleware``: first in MIDDLEWARE. It serves hits when
the site runs without the WSGI front (the test client, ASGI), and on every
miss it renders, then stores the page. See ``pages.py`` for the rules."""

from django.http import HttpResponse, HttpResponseNotModified

from . import invalidation, pages, stats
from .connection import CacheDown, redis_or_fallback

# Set by the WSGI front when it already looked the page up and missed.
MISSED = "tastebook.page_cache_missed"


class AnonymousPageCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        invalidation.retry_pending()
        environ = request.META
        address = None
        if pages.environ_is_cacheable(environ):
            address = pages.page_address(request.path_info, environ.get("QUERY_STRING", ""))
        if address is None:
            return self.get_response(request)
        tag, field = address
        try:
            with redis_or_fallback():
                raw = None if environ.get(MISSED) else pages.fetch(tag, field)
                if raw is None:
                    generation = pages.generation(tag)
        except CacheDown:
            return self.get_response(request)
        if raw is not None:
            stats.record("page", "hit")
            status, headers, body = pages.hit_parts(raw, environ)
            # HttpResponseNotModified, like the WSGI front, sends no Content-Type.
            response = HttpResponseNotModified() if status == 304 else HttpResponse(body, status=status)
            for name, value in headers:
                response[name] = value
            return response

        if not environ.get(MISSED):
            stats.record("page", "miss")
        response = self.get_response(request)
        if request.method != "GET" or not pages.response_is_storable(response):
            return response
        if not pages.is_canonical(field, environ.get("QUERY_STRING", "")):
            return response
        try:
            with redis_or_fallback():
                pages.store(tag, field, generation, response)
        except CacheDown:
            return response
        return pages.mark_miss(response, environ)
