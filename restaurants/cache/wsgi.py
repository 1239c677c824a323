"""The page cache in front of Django, at the WSGI level.

A hit for an anonymous visitor is answered here with one Redis HGET: no
Django request object, no middleware, no view. Everything else, misses
included, goes to Django, where ``AnonymousPageCacheMiddleware`` renders and
stores the page. Both use the same rules from ``pages.py``.

A hit never reaches Django's middleware, so it is counted here, as
``view="page_cache"`` in the request counter, through a child bound in
advance. Counted, not timed: in gunicorn's multiprocess mode a histogram
observation costs about 6 us (two locked writes to a memory-mapped file), a
counter increment about 2 us, and a hit should cost nothing it need not.
"""

from django.core.handlers.wsgi import get_path_info

from restaurants import metrics

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
        metrics.page_cache_hit_requests[status].inc()
        return [body]
