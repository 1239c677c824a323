"""Settings for ``python -m devtools.bench`` only: the real settings plus
bench views, a stock ``cache_page`` alias and Redis round-trip counting.

Never import this from the real settings: the ``benchstock`` alias uses
django-redis's default pickle serializer (Django's ``cache_page`` stores
whole ``HttpResponse`` objects), which our own caches deliberately avoid.

``BENCH_NEAR_CACHE=1`` (``--near-cache``, for the extra server of cases
b-near and d-near) turns on redis-py's client-side caching for the cache
alias: RESP3, ``CLIENT TRACKING`` and an in-process LRU of read replies,
invalidated by Redis's push messages. It is measured here and nowhere
shipped: redis-py (8.1) refuses servers older than Redis 7.4 or not named
"redis" (every ElastiCache engine: Redis OSS up to 7.1, Valkey), and a near
hit never asks Redis, so a paused or cut-off Redis leaves each process serving
what it holds where today's read would fail over to DynamoDB. See docs/benchmarks.md,
"Measured".
"""

import os

from reviews_site.settings_dev import *  # noqa: F403
from reviews_site.settings_dev import CACHES as SITE_CACHES
from reviews_site.settings_dev import REDIS_URL

from .redis_counting import CountingConnection

ROOT_URLCONF = "devtools.bench.urls"
NEAR_CACHE_ENTRIES = 10_000  # redis-py's default size; an entry is one reply (a whole page for an HGET)


def _counting(config: dict, **pool_kwargs) -> dict:
    pool = {"connection_class": CountingConnection, **pool_kwargs}
    options = {**config["OPTIONS"], "CONNECTION_POOL_KWARGS": pool}
    return {**config, "OPTIONS": options}


def _near_cache() -> dict:
    """Pool arguments for redis-py's client-side caching, on Debian's Redis 7.0 too.

    Redis has had ``CLIENT TRACKING`` with RESP3 push invalidations since 6.0;
    redis-py only allows 7.4 and later. The bench lowers that floor to measure
    the cost on the server it has; nothing else changes in redis-py."""
    from redis.cache import CacheConfig
    from redis.connection import CacheProxyConnection

    CacheProxyConnection.MIN_ALLOWED_VERSION = "6.0.0"
    return {"protocol": 3, "cache_config": CacheConfig(max_size=NEAR_CACHE_ENTRIES)}


CACHES = {alias: _counting(config) for alias, config in SITE_CACHES.items()}
if os.environ.get("BENCH_NEAR_CACHE") == "1":
    CACHES["default"] = _counting(SITE_CACHES["default"], **_near_cache())
CACHES["benchstock"] = _counting(
    {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": [REDIS_URL],
        "KEY_PREFIX": "benchstock",
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
    }
)
