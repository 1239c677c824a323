"""Settings for ``python -m reviews_site.bench`` only: the real settings plus
bench views, a stock ``cache_page`` alias and Redis round-trip counting.

Never import this from the real settings: the ``benchstock`` alias uses
django-redis's default pickle serializer (Django's ``cache_page`` stores
whole ``HttpResponse`` objects), which our own caches deliberately avoid.
"""

from .bench.redis_counting import CountingConnection
from .settings import *  # noqa: F403
from .settings import CACHES as SITE_CACHES
from .settings import REDIS_URL

ROOT_URLCONF = "reviews_site.bench_urls"


def _counting(config: dict) -> dict:
    options = {**config["OPTIONS"], "CONNECTION_POOL_KWARGS": {"connection_class": CountingConnection}}
    return {**config, "OPTIONS": options}


CACHES = {alias: _counting(config) for alias, config in SITE_CACHES.items()}
CACHES["benchstock"] = _counting(
    {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": [REDIS_URL],
        "KEY_PREFIX": "benchstock",
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
    }
)
