"""The page cache in front of Django, at the WSGI level.

A hit for an anonymous visitor is answered here with one Redis HGET: no
Django request object, no middleware, no view. Everything else, misses
included, goes to Django, where ``AnonymousPageCacheMiddleware`` renders and
stores the page. Both use the same rules from ``pages.py``.
"""

from django.core.handlers.wsgi import get_path_info

from . import invalidation, pages, stats
from .connection import CacheDown, redis_or_fallback
from .middleware import MISSED

_REASONS = {200: "200 OK", 304: "304 Not Modified"}


class PageCacheApplication:
    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        if not pages.environ_is_cacheable(environ):
            return self.application(environ, start_response)
        address = pages.page_address(get_path_info(environ), environ.get("QUERY_STRING", ""))
        if address is None:
            return self.application(environ, start_response)
        invalidation.retry_pending()
        try:
            with redis_or_fallback():
                raw = pages.fetch(*address)
        except CacheDown:
            return self.application(environ, start_response)
        if raw is None:
            stats.record("page", "miss")
            environ[MISSED] = True
            return self.application(environ, start_response)
        stats.record("page", "hit")
        status, headers, body = pages.hit_parts(raw, environ)
        start_response(_REASONS[status], headers)
        return [body]
