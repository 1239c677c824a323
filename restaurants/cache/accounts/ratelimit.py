"""Login throttling: counters in Redis, checked and counted in one step.

Two fixed windows per client (the address ``accounts.client_address`` trusts):
attempts at one account from that client, and failures from that client at
any account. Neither counts anything against a user from any other client,
so a stranger cannot lock someone out by failing on their name: a real user
signing in from their own device is never refused because of another
client's failures. (A distributed attack on one account meets each client's
own limit; the password hasher's cost does the rest.)

An attempt is counted *before* its password is checked, in the same Lua
script that checks the limits (both keys share the client's hash tag, so it
is one atomic step, cluster-safe): 32 attempts in parallel get exactly the
allowed number of password checks. A success resets the account's count for
that client and takes its attempt back from the client's failures. When a
window ends its key expires: no permanent lock-out. Counters live on the
sessions alias, which cache flushes never touch.

Password-reset requests are throttled with the same script and the same
rule, per address and client and per client (one call, the client's slot),
then counted against the address's mail cap, a counter of requests from
every client that only decides whether a mail goes out; they fail closed too.

Every call goes through the Redis guard (``redis_or_fallback``), so an outage
costs no connect timeout and opens the one circuit breaker like any cache call.

**Logins fail closed.** When the counters cannot be read or written, the calls
below raise ``ThrottleUnavailable`` and the login view refuses the attempt
with a 503 (``Retry-After``), before any password is checked. Sessions
survive an outage (they are in DynamoDB too), so visitors already logged in
are not affected; failing open would check passwords unthrottled for as long
as Redis is down: an unthrottled password oracle that an attacker who can
make Redis fail (by load, say) could keep open. The counters live under the
sessions' prefix, which the restart check empties from a Redis new to us.

The cost: the circuit breaker is shared with the caches, so where
``SESSION_REDIS_URL`` names another server than ``REDIS_URL``, a failure of
the cache server also pauses logins, for ``CACHE_RETRY_AFTER_SECONDS``.
"""

import contextlib

from django.core.cache import caches
from django_redis import get_redis_connection

from ..plumbing.connection import CacheDown, redis_or_fallback
from ..plumbing.scripts import LuaScript

RATE_ALIAS = "sessions"

# The counters' two steps, each one atomic script (its file says its KEYS, ARGV and reply).
_RESERVE = LuaScript("reserve_attempt")
_SUCCEEDED = LuaScript("attempt_succeeded")


class ThrottleUnavailable(Exception):
    """The login counters cannot be reached: refuse the attempt (fail closed)."""


@contextlib.contextmanager
def _counters():
    try:
        with redis_or_fallback(alias=RATE_ALIAS):
            yield get_redis_connection(RATE_ALIAS)
    except CacheDown as error:
        raise ThrottleUnavailable(str(error)) from error


def _full_key(key: str) -> str:
    return caches[RATE_ALIAS].make_key(key)


def reserve(keys: tuple[str, ...], *, limits: tuple[int, ...], window: int) -> int:
    """Count an attempt if every counter is under its limit: 0; else the
    seconds until the fuller window ends (and nothing is counted). The keys
    must share a hash tag (one script, one cluster slot)."""
    with _counters() as client:
        return int(_RESERVE(client, [_full_key(key) for key in keys], [*limits, window]))


def succeeded(keys: tuple[str, str]) -> None:
    with _counters() as client:
        _SUCCEEDED(client, [_full_key(key) for key in keys], [])
