"""Raw Redis access for our caches, and what happens when Redis is down.

Every cache operation runs inside ``redis_or_fallback``: a Redis error (or a
closed circuit) becomes ``CacheDown``, which callers turn into their fallback,
usually "read DynamoDB". After a failure Redis is skipped for a few seconds,
so an outage costs each request nothing, and a warning is logged once per
interval rather than once per request. When Redis answers again, the next
attempt after the interval closes the circuit by itself.
"""

import contextlib
import logging
import secrets
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django_redis import get_redis_connection
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import ReadOnlyError, RedisClusterException, RedisError

from ..rules import clock, policy
from . import restarts
from .circuit import CircuitBreaker
from .scripts import LuaScript

log = logging.getLogger(__name__)
T = TypeVar("T")

# RedisClusterException (no reachable node, slot not covered) is not a RedisError. Not
# OSError: redis-py turns socket and TLS failures into its ConnectionError and
# TimeoutError, and a bare OSError inside a guard would be someone else's (a file, a
# DynamoDB socket) taken for Redis's.
REDIS_ERRORS = (RedisError, RedisClusterException, ConnectionInterrupted)


class CacheDown(Exception):
    """Redis is unreachable or failing; use the fallback."""


class CacheMoved(CacheDown):
    """The server we wrote to is a replica now (a failover moved the primary
    behind the endpoint): the pool was dropped, and a next try reaches the new
    primary. Not an outage: the circuit stays as it was."""


circuit = CircuitBreaker("primary")
# Replicas fail on their own: a dead one sends reads to the primary for a
# while, it does not switch the cache off.
replica_circuit = CircuitBreaker(
    "replica",
    down="A Redis read replica is unavailable (%s); reading from the primary for now.",
    back="The Redis read replica answers again.",
)


def primary():
    return get_redis_connection("default", write=True)


def on_replica(read):
    """``read(client)`` on a read replica when one is configured and healthy;
    on the primary otherwise, or if the replica fails. A new process reads the
    primary first: a replica is trusted against a primary it has checked."""
    if settings.REDIS_REPLICA_URLS and restarts.replicas_can_be_trusted() and replica_circuit.allows():
        try:
            answer = read(get_redis_connection("default", write=False))
        except REDIS_ERRORS as error:
            replica_circuit.trip(error)
        except BaseException:
            replica_circuit.abstain()
            raise
        else:
            replica_circuit.succeeded()
            return answer
    return read(primary())


def is_read_only_error(error: BaseException) -> bool:
    """The server we write to is a replica now (a failover moved the primary):
    django-redis wraps redis-py's error, so look at the cause too."""
    return isinstance(error, ReadOnlyError) or isinstance(error.__cause__, ReadOnlyError)


def reconnect(alias: str = "default") -> None:
    """Drop every pooled connection of ``alias``: the next ones resolve the
    endpoint again and reach whichever server is primary now (and are
    checked, see ``restarts``). Without this, pooled connections stay on a
    demoted primary and every write fails with READONLY until they die.

    Connections other threads are using are left to them (they get READONLY
    too, and come back here): closing a socket under a thread mid-command
    raises errors no guard expects."""
    get_redis_connection(alias, write=True).connection_pool.disconnect(inuse_connections=False)


@contextlib.contextmanager
def redis_or_fallback(*, always_try: bool = False, alias: str = "default"):
    """``always_try``: go to Redis even while the circuit is open. For a
    write's invalidation: a write is rare, and an invalidation that waits for
    the circuit leaves the pages of every Redis that does answer (another
    cluster shard, a server back from a blip) to other processes for the whole
    interval. ``alias``: the cache alias whose connections the block uses
    (reconnected after a READONLY); one circuit serves them all."""
    if not settings.CACHE_ENABLED or not (circuit.allows() or always_try):
        raise CacheDown("cache disabled or circuit open")
    try:
        yield
    except REDIS_ERRORS as error:
        if is_read_only_error(error):
            reconnect(alias)
            circuit.abstain()
            raise CacheMoved(str(error)) from error
        circuit.trip(error)
        raise CacheDown(str(error)) from error
    except BaseException:
        circuit.abstain()
        raise
    else:
        circuit.succeeded()


def redis_call(work: Callable[[], T]) -> T:
    """``work()``, Redis calls only, inside ``redis_or_fallback``: ``CacheDown``
    if Redis cannot answer now. For read paths that guard each Redis call on
    its own, so no DynamoDB read ever sits inside a guard."""
    with redis_or_fallback():
        return work()


def redis_or_retry_if_moved(work: Callable[[], None]) -> None:
    """``work()`` (a write's invalidation) inside ``redis_or_fallback``, tried
    even while the circuit is open; if the
    primary had moved, at once again on the new one, and then the write waits
    out ``policy.REPLICA_CHECK_SECONDS``: every other process's connections
    still on the old primary look again within that time (``restarts._watch``),
    so none serves what the new primary no longer holds once the write is
    confirmed. Raises ``CacheDown`` if Redis cannot take it now."""
    try:
        with redis_or_fallback(always_try=True):
            work()
    except CacheMoved:
        with redis_or_fallback(always_try=True):
            work()
        clock.sleep(policy.REPLICA_CHECK_SECONDS)


def wait_for_replicas(client) -> None:
    """After an invalidation, wait (briefly) until the replicas have it too,
    so a read from a replica right after a write is not stale.

    A replica that did not confirm it (dead, paused, detached, cut off, or
    far behind) is read no more by this process, and the write waits out
    ``policy.REPLICA_CHECK_SECONDS``: every other process checks a replica
    at least that often before reading it, so once the write is confirmed,
    none reads a detached or cut-off one. (A replica still attached but
    lagging longer than both waits can serve its older data until it catches
    up: asynchronous replication's limit, see docs/faults.md.)"""
    replicas = len(settings.REDIS_REPLICA_URLS)
    if not replicas or settings.REDIS_CLUSTER:
        return
    confirmed = client.execute_command("WAIT", replicas, policy.REPLICA_WAIT_MS)
    if confirmed < replicas:
        replica_circuit.trip(restarts.CacheNotVerified(f"{replicas - confirmed} replica(s) did not confirm a write"))
        clock.sleep(policy.REPLICA_CHECK_SECONDS)


# A lock's release and a conditional delete are one script: delete a key only
# if it still holds what we know it held.
_DELETE_IF_UNCHANGED = LuaScript("delete_if_unchanged")


def acquire_lock(client, key: str, *, milliseconds: int) -> str | None:
    """A short lock: the token to release it with, or None if someone holds it."""
    token = secrets.token_hex(8)
    return token if client.set(key, token, nx=True, px=milliseconds) else None


def release_lock(client, key: str, token: str) -> None:
    """Release only our own lock, never one that expired and was taken since."""
    _DELETE_IF_UNCHANGED(client, [key], [token])


_STORE_UNLESS_WRITTEN = LuaScript("store_unless_written")


# A cached value and its group's generation (see ``store_unless_written``).
Read = tuple[bytes | None, str]


def read_with_generation(client, key: str, generation_key: str) -> Read:
    """A cached value and its group's generation, in one round trip (the two
    keys share a hash tag)."""
    pipe = client.pipeline(transaction=False)
    pipe.get(key)
    pipe.get(generation_key)
    raw, generation = pipe.execute()
    return raw, (generation or b"").decode()


def store_unless_written(client, key: str, generation_key: str, value, *, seconds: int, generation: str) -> bool:
    """Store ``value`` only if no write bumped the generation since it was read,
    so a slow read never overwrites what a write just did."""
    return bool(_STORE_UNLESS_WRITTEN(client, [key, generation_key], [value, seconds, generation]))


def delete_if_unchanged(client, key: str, value: bytes) -> bool:
    """Delete ``key`` only if it still holds ``value`` (read a moment ago, found
    out of date): never a newer value stored since by someone else."""
    return bool(_DELETE_IF_UNCHANGED(client, [key], [value]))


_BUMP_AND_GET = LuaScript("bump_generation_and_get")


def bump_generation_and_get(client, key: str, generation_key: str, *, seconds: int) -> bytes | None:
    """Bump a group's generation (a value read before now may no longer be
    stored), then read ``key`` of the same group: one round trip."""
    return _BUMP_AND_GET(client, [key, generation_key], [seconds])


_BUMP_AND_DELETE = LuaScript("bump_generation_and_delete")


def bump_generation_and_delete(client, key: str, generation_key: str, *, seconds: int) -> int:
    """Bump a group's generation, then delete ``key`` of the same group (so a
    value read before the delete is not stored after it): one round trip."""
    return _BUMP_AND_DELETE(client, [key, generation_key], [seconds])
