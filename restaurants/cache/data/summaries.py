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

A change the table's stream reports (``drop_unless_showing``) drops the
summary unless it already shows the change: our own writes refresh it
write-through, and dropping it again would cost the next reader a Query.
"""

from dataclasses import dataclass, field

from restaurants.dynamo import reads
from restaurants.dynamo.entities import Restaurant, RestaurantSummary, Review
from restaurants.dynamo.errors import Unavailable

from ..plumbing.connection import (
    CacheDown,
    Read,
    acquire_lock,
    bump_generation_and_get,
    delete_if_unchanged,
    on_replica,
    primary,
    read_with_generation,
    redis_call,
    release_lock,
    store_unless_written,
)
from ..rules import clock, keys, policy
from . import codec, stats


def restaurant_summary(name: str, *, cached: Read | None = None) -> RestaurantSummary:
    """The restaurant and its newest reviews, from Redis when possible.

    ``cached``: what a read made moments ago found (the summary and the
    restaurant's generation, ``page_reads``), used instead of reading again.

    Read top to bottom: each Redis call is guarded on its own (``redis_call``) and
    each DynamoDB read is outside any guard, so a Redis failure after a load
    never costs a second load, and a DynamoDB error is never taken for Redis's."""
    try:
        raw, generation = cached or redis_call(lambda: on_replica(lambda client: _read(client, name)))
    except CacheDown:
        return reads.restaurant_summary_get(name=name)
    decoded = _decoded(raw)
    if decoded is not None:
        summary, fresh_until = decoded
        if fresh_until > clock.now():
            stats.record("summary", "hit")
            return summary
        return _refresh_stale(name, summary, generation)
    stats.record("summary", "miss")
    return _refresh_missing(name)


def _read(client, name: str) -> tuple[bytes | None, str]:
    return read_with_generation(client, keys.summary_key(name), keys.generation_key(keys.restaurant_tag(name)))


def _decoded(raw: bytes | None) -> tuple[RestaurantSummary, float] | None:
    """The cached summary and its fresh time; None if absent or of a format
    this release does not read (another release's: a miss, replaced)."""
    if raw is None:
        return None
    try:
        return codec.loads_summary(raw)
    except codec.UnknownFormat:
        return None


def _refresh_missing(name: str) -> RestaurantSummary:
    """Nothing cached: one reader (the lock's holder) loads and stores, the
    others wait for its result."""
    try:
        token = redis_call(lambda: _lock(name))
    except CacheDown:
        return reads.restaurant_summary_get(name=name)
    if not token:
        return _wait_for_other_refresh(name)
    try:
        # Another reader may have stored it between our read and our lock.
        raw, generation = redis_call(lambda: _read(primary(), name))
        decoded = _decoded(raw)
        if decoded is not None and decoded[1] > clock.now():
            return decoded[0]
        return _load_and_store(name, generation)
    except CacheDown:
        return reads.restaurant_summary_get(name=name)
    finally:
        _unlock(name, token)


def _refresh_stale(name: str, stale: RestaurantSummary, generation: str) -> RestaurantSummary:
    """Past its fresh time: one reader refreshes it, the others (and that
    reader, if DynamoDB fails) are served the stale copy."""
    try:
        token = redis_call(lambda: _lock(name))
    except CacheDown:
        token = None
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
    key = keys.summary_key(name)
    try:
        raw = redis_call(
            lambda: clock.wait_for(
                lambda: primary().get(key), seconds=policy.LOCK_WAIT_SECONDS, every=policy.LOCK_POLL_SECONDS
            )
        )
    except CacheDown:
        raw = None
    decoded = _decoded(raw)
    stats.record_stampede_wait("summary", served=decoded is not None)
    if decoded is not None:
        return decoded[0]
    return reads.restaurant_summary_get(name=name)


def _load_and_store(name: str, generation: str) -> RestaurantSummary:
    """Load from DynamoDB, then store unless a write came meanwhile; a store
    Redis refuses leaves the loaded summary served all the same."""
    summary = reads.restaurant_summary_get(name=name)
    key, generation_key = keys.summary_key(name), keys.generation_key(keys.restaurant_tag(name))
    encoded = _encode(summary)
    try:
        redis_call(
            lambda: store_unless_written(
                primary(), key, generation_key, encoded, seconds=policy.summary_keep_seconds(), generation=generation
            )
        )
    except CacheDown:
        pass
    return summary


def _encode(summary: RestaurantSummary) -> str:
    return codec.dumps_summary(summary, fresh_until=clock.now() + policy.summary_fresh_seconds())


def _lock(name: str) -> str | None:
    return acquire_lock(primary(), keys.summary_lock_key(name), milliseconds=policy.LOCK_MILLISECONDS)


def _unlock(name: str, token: str) -> None:
    """Release our lock if Redis answers; else it expires by itself (LOCK_MILLISECONDS)."""
    try:
        redis_call(lambda: release_lock(primary(), keys.summary_lock_key(name), token))
    except CacheDown:
        pass


def encode_for_write_through(summary: RestaurantSummary) -> str:
    return _encode(summary)


@dataclass
class StreamedChange:
    """What the table's stream says changed for one restaurant's summary."""

    restaurant: Restaurant | None = None  # the restaurant item as it is now, if it changed
    unknown: bool = False  # removed, or an item we cannot read: the summary must go
    written: dict[str, Review] = field(default_factory=dict)  # by review id
    removed: set[str] = field(default_factory=set)

    def shown_by(self, summary: RestaurantSummary) -> bool:
        """Whether ``summary`` already shows this change (it is not older)."""
        if self.unknown or (self.restaurant is not None and summary.restaurant != self.restaurant):
            return False
        shown = {review.id: review for review in summary.latest_reviews}
        full = len(shown) >= reads.SUMMARY_REVIEW_COUNT
        for review_id, review in self.written.items():
            if review_id in shown:
                if (shown[review_id].rating, shown[review_id].review) != (review.rating, review.review):
                    return False
            elif not full or review_id > min(shown):  # it is among the newest: it should be shown
                return False
        return not self.removed & shown.keys()


def drop_unless_showing(client, name: str, change: StreamedChange, *, attempts: int = 3) -> bool:
    """Drop the cached summary unless it shows ``change``; True if dropped.

    The restaurant's generation is bumped first, so a refresh that read
    DynamoDB before the change cannot store its result after this. A summary
    replaced while we compared is compared again."""
    key, generation_key = keys.summary_key(name), keys.generation_key(keys.restaurant_tag(name))
    raw = bump_generation_and_get(client, key, generation_key, seconds=policy.generation_seconds())
    for attempt in range(attempts):
        if attempt:
            raw = client.get(key)
        if raw is None:
            return False
        decoded = _decoded(raw)
        summary = decoded[0] if decoded is not None else None
        if summary is not None and change.shown_by(summary):
            return False
        if delete_if_unchanged(client, key, raw):
            return True
    client.delete(key)
    return True
