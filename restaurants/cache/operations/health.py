"""What the admin dashboard shows about Redis: every server with its live role
and INFO figures, our own hit/miss counters, keys per namespace and the TTLs
in force; and the readiness probe's read."""

from django.conf import settings
from django.core.cache import caches
from django_redis import get_redis_connection
from redis.exceptions import TimeoutError as RedisTimeoutError

from ..data import stats
from ..plumbing import nodes
from ..plumbing.nodes import ServerHealth
from ..rules import keys, policy
from . import flush


def servers() -> list[ServerHealth]:
    """One row per Redis server, as each describes itself now (``nodes.py``)."""
    return nodes.servers()


def namespace_key_counts() -> dict[str, int]:
    return {namespace: flush.count_keys(namespace) for namespace in flush.ALL + ("stats",)}


def ttl_policy() -> list[tuple[str, int]]:
    """What each cache keeps, and for how many seconds (the admin shows them as "15 min", "24 h")."""
    return [
        ("Restaurant summary: fresh for", policy.summary_fresh_seconds()),
        ("Restaurant summary: kept (stale-while-revalidate / stale-if-error)", policy.summary_keep_seconds()),
        ("Anonymous pages", policy.page_seconds()),
        ("Fragments", policy.fragment_seconds()),
        ("Leaderboard: fresh for (then rebuilt from DynamoDB)", policy.leaderboard_seconds()),
        ("Leaderboard: kept (served while one request rebuilds it)", policy.leaderboard_keep_seconds()),
        ("Sessions", settings.SESSION_COOKIE_AGE),
    ]


def counters() -> dict:
    return stats.read_counts()


# What ``probe`` raises when the server did not answer in time (slow, not refused).
TIMEOUTS = (RedisTimeoutError,)


def probe(alias: str) -> None:
    """One GET, on ``alias``'s primary, of a key under the alias's own prefix
    (``site:`` or ``session:``); raises one of REDIS_ERRORS. Not PING: the
    least ACL (deploy/redis-acl.txt) does not grant it (the site never needs it), and a GET
    proves more: that this user may read the alias's key space, which a PING
    of a user whose key patterns miss the prefix would not show."""
    get_redis_connection(alias).get(caches[alias].make_key(keys.readiness_probe_key()))
