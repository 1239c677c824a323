"""``AnonymousPageCacheMiddleware``: first in MIDDLEWARE. It serves hits when
the site runs without the WSGI front (the test client, ASGI), and on every
miss it renders, then stores the page. See ``pages.py`` for the rules.
Every other response that says nothing about caching is marked
``private, no-cache``, so a CDN in front never keeps it."""

from django.http import HttpResponse, HttpResponseNotModified

from .. import invalidation
from ..data import stats
from ..pages import pages
from ..plumbing.connection import CacheDown, redis_or_fallback

# Set by the WSGI front when it already looked the page up and missed.
MISSED = "tastebook.page_cache_missed"


class AnonymousPageCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self._answer(request)
        if not response.has_header("Cache-Control"):
            # Not a shared page (logged in, a form, an error, a redirect, a page not stored):
            # no CDN in front may keep it, and browsers ask again as they do without the header.
            response["Cache-Control"] = pages.NOT_SHARED_CACHE_CONTROL
        return response

    def _answer(self, request):
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
                hit = pages.hit_parts(raw, environ) if raw is not None else None
                if hit is None:
                    generation = pages.generation(tag)
        except CacheDown:
            return self.get_response(request)
        if hit is not None:
            stats.record("page", "hit")
            status, headers, body = hit
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
        return pages.mark_miss(response, environ, tag)
