"""The page cache in front of Django, at the WSGI level.

A hit for an anonymous visitor is answered here with one Redis HGET: no
Django request object, no middleware, no view, no URL resolver (``routes.py``
matches the few cached routes, with Django's answer), and headers stored
ready to send (``pages.store``). Everything else, misses included, goes to
Django, where ``AnonymousPageCacheMiddleware`` renders and stores the page.
Both use the same rules from ``pages.py``.

A hit never reaches Django's middleware, so it is counted here, as
``view="page_cache"`` in the request counter, through a child bound in
advance. Counted, not timed: in gunicorn's multiprocess mode a histogram
observation costs about 6 us (two locked writes to a memory-mapped file), a
counter increment about 2 us, and a hit should cost nothing it need not.
With the request log on (``LOG_FORMAT=json``), a hit is logged here too,
since Django never sees it.
"""

import time

from django.core.handlers.wsgi import get_path_info

from restaurants import logs, metrics

from .. import invalidation
from ..data import stats
from ..pages import pages
from ..plumbing.connection import CacheDown, redis_or_fallback
from ..rules import release
from .middleware import MISSED

_REASONS = {200: "200 OK", 304: "304 Not Modified"}


class PageCacheApplication:
    def __init__(self, application):
        self.application = application
        release.current()  # derived at start-up (about 15 ms), not by the first visitor

    def __call__(self, environ, start_response):
        started = time.perf_counter()
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
        hit = pages.hit_parts(raw, environ) if raw is not None else None
        if hit is None:
            stats.record("page", "miss")
            environ[MISSED] = True
            return self.application(environ, start_response)
        stats.record("page", "hit")
        status, headers, body = hit
        metrics.page_cache_hit_requests[status].inc()
        if logs.requests_logged():
            request_id = logs.request_id_from(environ)
            headers.append(("X-Request-ID", request_id))
            _log_hit(environ, request_id, status, started)
        start_response(_REASONS[status], headers)
        return [body]


def _log_hit(environ, request_id: str, status: int, started: float) -> None:
    path = environ.get("SCRIPT_NAME", "") + get_path_info(environ)
    seconds = time.perf_counter() - started
    view = metrics.PAGE_CACHE_VIEW
    method = environ["REQUEST_METHOD"]
    logs.log_request(
        request_id=request_id, method=method, path=path, view=view, status=status, seconds=seconds, user_id=None
    )
