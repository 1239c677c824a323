"""Fixed-window counters in Redis, for login throttling.

Each counter is one key with a TTL set when it is first incremented (one Lua
script on one key, so it is atomic and cluster-safe). When the window ends the
key expires and the real user can log in again: no permanent lock-out.
Counters live on the sessions alias, which cache flushes never touch.

Every call goes through the Redis guard (``redis_or_fallback``), so an outage
costs no connect timeout and opens the one circuit breaker like any cache call.

**Logins fail closed.** When the counters cannot be read or written, the calls
below raise ``ThrottleUnavailable`` and the login view refuses the attempt
with a 503 (``Retry-After``), before any password is checked. Why not open:

- The counters live on the same Redis as the sessions. When it is down, a
  correct password cannot produce a session anyway (the session cannot be
  stored), so failing open would let no one in who is refused now.
- Failing open would check passwords unthrottled and answer a wrong one with
  400 and a right one with 503 (at the session store): an unthrottled
  password oracle for as long as Redis is down, which an attacker who can
  make Redis fail (by load, say) could keep open.

The cost: the circuit breaker is shared with the caches, so where
``SESSION_REDIS_URL`` names another server than ``REDIS_URL``, a failure of
the cache server also pauses logins, for ``CACHE_RETRY_AFTER_SECONDS``.
"""

import contextlib

from django.core.cache import caches
from django_redis import get_redis_connection

from .connection import CacheDown, redis_or_fallback

RATE_ALIAS = "sessions"

_INCREMENT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


class ThrottleUnavailable(Exception):
    """The login counters cannot be reached: refuse the attempt (fail closed)."""


@contextlib.contextmanager
def _counters():
    try:
        with redis_or_fallback():
            yield get_redis_connection(RATE_ALIAS)
    except CacheDown as error:
        raise ThrottleUnavailable(str(error)) from error


def _full_key(key: str) -> str:
    return caches[RATE_ALIAS].make_key(key)


def count(key: str) -> int:
    with _counters() as client:
        return int(client.get(_full_key(key)) or 0)


def increment(key: str, *, window: int) -> int:
    with _counters() as client:
        return int(client.eval(_INCREMENT, 1, _full_key(key), window))


def retry_after(key: str) -> int:
    """Seconds until the window for ``key`` ends (0 if it has no window)."""
    with _counters() as client:
        return max(0, int(client.ttl(_full_key(key))))


def reset(key: str) -> None:
    with _counters() as client:
        client.delete(_full_key(key))
