"""The restaurant-summary object cache: cache-aside, refreshed write-through.

A read costs one Redis round trip when the summary is cached. Past its fresh
time a summary is kept a while longer: one request (holding a short lock)
refreshes it from DynamoDB while the others are served the stale copy, and if
DynamoDB fails the stale copy is served (stale-if-error). When nothing is
cached, one request reads DynamoDB and the others wait briefly for its result
(stampede protection).

A refresh stores its result only if no write happened since it began (the
restaurant's generation is unchanged), so a slow read can never overwrite
what a write just put there.
"""

from restaurants.dynamo import selectors
from restaurants.dynamo.entities import RestaurantSummary
from restaurants.dynamo.errors import Unavailable

from . import clock, codec, keys, policy, stats
from .connection import (
    CacheDown,
    acquire_lock,
    on_replica,
    primary,
    read_with_generation,
    redis_or_fallback,
    release_lock,
    store_unless_written,
)


def restaurant_summary(name: str) -> RestaurantSummary:
    """The restaurant and its newest reviews, from Redis when possible."""
    try:
        with redis_or_fallback():
            return _cached_summary(name)
    except CacheDown:
        return selectors.restaurant_summary_get(name=name)


def _read(client, name: str) -> tuple[bytes | None, str]:
    return read_with_generation(client, keys.summary_key(name), keys.generation_key(keys.restaurant_tag(name)))


def _cached_summary(name: str) -> RestaurantSummary:
    raw, generation = on_replica(lambda client: _read(client, name))
    if raw is not None:
        summary, fresh_until = codec.loads_summary(raw)
        if fresh_until > clock.now():
            stats.record("summary", "hit")
            return summary
        return _refresh_stale(name, summary, generation)
    stats.record("summary", "miss")
    token = _lock(name)
    if token:
        try:
            # Another reader may have stored it between our read and our lock.
            raw, generation = _read(primary(), name)
            if raw is not None:
                summary, fresh_until = codec.loads_summary(raw)
                if fresh_until > clock.now():
                    return summary
            return _load_and_store(name, generation)
        finally:
            _unlock(name, token)
    return _wait_for_other_refresh(name)


def _refresh_stale(name: str, stale: RestaurantSummary, generation: str) -> RestaurantSummary:
    token = _lock(name)
    if not token:
        stats.record("summary", "stale")
        return stale
    try:
        stats.record("summary", "miss")
        return _load_and_store(name, generation)
    except Unavailable:
        stats.record("summary", "stale")
        return stale  # stale-if-error
    finally:
        _unlock(name, token)


def _wait_for_other_refresh(name: str) -> RestaurantSummary:
    """Wait for the lock holder's result; past ``LOCK_WAIT_SECONDS`` read
    DynamoDB ourselves (the holder may have died, or DynamoDB is slow)."""
    client = primary()
    raw = clock.wait_for(
        lambda: client.get(keys.summary_key(name)), seconds=policy.LOCK_WAIT_SECONDS, every=policy.LOCK_POLL_SECONDS
    )
    stats.record_stampede_wait("summary", served=raw is not None)
    if raw is not None:
        return codec.loads_summary(raw)[0]
    return selectors.restaurant_summary_get(name=name)


def _load_and_store(name: str, generation: str) -> RestaurantSummary:
    summary = selectors.restaurant_summary_get(name=name)
    store_unless_written(
        primary(),
        keys.summary_key(name),
        keys.generation_key(keys.restaurant_tag(name)),
        _encode(summary),
        seconds=policy.summary_keep_seconds(),
        generation=generation,
    )
    return summary


def _encode(summary: RestaurantSummary) -> str:
    return codec.dumps_summary(summary, fresh_until=clock.now() + policy.summary_fresh_seconds())


def _lock(name: str) -> str | None:
    return acquire_lock(primary(), keys.summary_lock_key(name), milliseconds=policy.LOCK_MILLISECONDS)


def _unlock(name: str, token: str) -> None:
    release_lock(primary(), keys.summary_lock_key(name), token)


def encode_for_write_through(summary: RestaurantSummary) -> str:
    return _encode(summary)
