"""Keeping the caches right after a write (called by the services).

A review write costs a fixed handful of Redis commands, whatever is cached:
one script on the restaurant's slot (store the new summary, bump the
generation, drop its page group), one each to retire the author's pages and
the list pages, and one to move the restaurant on the leaderboard. Fragments
need nothing: their keys hold the summary's version, which just changed.

If Redis is down at that moment, the write is remembered in this process and
applied as soon as Redis answers again, so nothing stale survives an outage.
"""

import threading

from restaurants.dynamo.entities import RestaurantSummary

from . import keys, leaderboard, policy, summaries, visitors
from .connection import CacheDown, LuaScript, primary, redis_or_fallback, wait_for_replicas
from .pages import retire_group

REFRESH_RESTAURANT = LuaScript(
    """
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
if ARGV[1] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) end
return redis.call('DEL', KEYS[3])
"""
)

_pending_lock = threading.Lock()
_pending: set[tuple[str, str | None]] = set()


def review_written(*, restaurant: str, username: str, summary: RestaurantSummary | None) -> None:
    """Write-through after a review was posted, edited or deleted. Without a
    summary (DynamoDB could not be read after the write) the cached one is
    dropped instead, and the next reader loads it."""
    try:
        with redis_or_fallback():
            _refresh_restaurant(restaurant, summary)
            client = primary()
            retire_group(client, keys.user_tag(username))  # bumps the generation before the delete below
            visitors.forget_own_review(client, username, restaurant)
            retire_group(client, keys.LISTS_TAG)
            if summary:
                leaderboard.update(client, summary.restaurant)
            wait_for_replicas(client)
    except CacheDown:
        _remember(restaurant, username)


def restaurant_changed(name: str) -> None:
    """A restaurant's own data changed (or staff purged it): drop what shows it."""
    try:
        with redis_or_fallback():
            _refresh_restaurant(name, None)
            retire_group(primary(), keys.LISTS_TAG)
    except CacheDown:
        _remember(name, None)


def retry_pending() -> None:
    """Apply invalidations that failed during a Redis outage."""
    if not _pending:
        return
    with _pending_lock:
        pending = list(_pending)
        _pending.clear()
    for name, username in pending:
        try:
            with redis_or_fallback():
                _refresh_restaurant(name, None)
                if username:
                    retire_group(primary(), keys.user_tag(username))
                    visitors.forget_own_review(primary(), username, name)
                retire_group(primary(), keys.LISTS_TAG)
        except CacheDown:
            _remember(name, username)


def _refresh_restaurant(name: str, summary: RestaurantSummary | None) -> None:
    tag = keys.restaurant_tag(name)
    REFRESH_RESTAURANT(
        primary(),
        [keys.summary_key(name), keys.generation_key(tag), keys.page_group_key(tag)],
        [
            summaries.encode_for_write_through(summary) if summary else "",
            policy.summary_keep_seconds(),
            policy.generation_seconds(),
        ],
    )


def _remember(name: str, username: str | None) -> None:
    with _pending_lock:
        _pending.add((name, username))
