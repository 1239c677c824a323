"""Settings for ``python -m devtools.bench`` only: the real settings plus
bench views, a stock ``cache_page`` alias and Redis round-trip counting.

Never import this from the real settings: the ``benchstock`` alias uses
django-redis's default pickle serializer (Django's ``cache_page`` stores
whole ``HttpResponse`` objects), which our own caches deliberately avoid.
"""

from reviews_site.settings_dev import *  # noqa: F403
from reviews_site.settings_dev import CACHES as SITE_CACHES
from reviews_site.settings_dev import REDIS_URL

from .redis_counting import CountingConnection

ROOT_URLCONF = "devtools.bench.urls"


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
