"""Fixed-window counters in Redis, for login throttling.

Each counter is one key with a TTL set when it is first incremented (one Lua
script on one key, so it is atomic and cluster-safe). When the window ends the
key expires and the real user can log in again: no permanent lock-out.
Counters live on the sessions alias, which cache flushes never touch.
"""

from django.core.cache import caches
from django_redis import get_redis_connection

RATE_ALIAS = "sessions"

_INCREMENT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


def _full_key(key: str) -> str:
    return caches[RATE_ALIAS].make_key(key)


def count(key: str) -> int:
    value = get_redis_connection(RATE_ALIAS).get(_full_key(key))
    return int(value or 0)


def increment(key: str, *, window: int) -> int:
    return int(get_redis_connection(RATE_ALIAS).eval(_INCREMENT, 1, _full_key(key), window))


def retry_after(key: str) -> int:
    """Seconds until the window for ``key`` ends (0 if it has no window)."""
    return max(0, int(get_redis_connection(RATE_ALIAS).ttl(_full_key(key))))


def reset(key: str) -> None:
    get_redis_connection(RATE_ALIAS).delete(_full_key(key))
