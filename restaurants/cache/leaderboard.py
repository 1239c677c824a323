"""Top restaurants: a Redis sorted set scored by a Bayesian average.

score = (C * m + sum of ratings) / (C + number of reviews), where m is the mean
rating over all reviews and C the prior weight (``LEADERBOARD_PRIOR_WEIGHT``):
a restaurant with one 5-star review scores near m, not 5. Every review write
updates its restaurant's score (write-through).

A rebuild reads every restaurant from DynamoDB, so it must happen once, not
once per reader. The board is fresh for ``CACHE_TTL_LEADERBOARD`` (a
Python-side ``fresh_until``, stored beside it) and kept by Redis for the stale
window after that. Past its fresh time, the reader that takes a short lock
rebuilds it; everyone else is served the previous board meanwhile, because a
rebuild is staged under other keys and swapped in with RENAME only when
complete (and the previous board is served too if DynamoDB fails). When no
board exists at all, the others wait briefly for the lock holder's, and only
past ``LOCK_WAIT_SECONDS`` compute the ranking from DynamoDB themselves.
``manage.py rebuild_leaderboard`` and the admin rebuild it on demand.
"""

import json
import secrets
from dataclasses import dataclass

from django.conf import settings

from restaurants.dynamo import selectors
from restaurants.dynamo.entities import Restaurant, StarCounts
from restaurants.dynamo.errors import Unavailable

from . import clock, keys, policy, stats
from .connection import CacheDown, LuaScript, acquire_lock, on_replica, primary, redis_or_fallback, release_lock

DEFAULT_MEAN = 3.0

UPDATE_IF_PRESENT = LuaScript(
    """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local mean = tonumber(redis.call('HGET', KEYS[2], '') or ARGV[4])
local weight = tonumber(ARGV[5])
local score = (weight * mean + tonumber(ARGV[2])) / (weight + tonumber(ARGV[3]))
redis.call('ZADD', KEYS[1], score, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[6])
return 1
"""
)

PUBLISH_STAGED = LuaScript(
    """
redis.call('RENAME', KEYS[3], KEYS[1])
redis.call('RENAME', KEYS[4], KEYS[2])
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[1])
redis.call('SET', KEYS[5], ARGV[2], 'EX', ARGV[1])
return 1
"""
)


@dataclass(frozen=True)
class Entry:
    name: str
    cuisine: str
    average: float | None
    review_count: int
    score: float


@dataclass(frozen=True)
class _Board:
    entries: list[Entry]
    fresh_until: float


def bayesian_score(stars: StarCounts, *, mean: float, weight: int) -> float:
    total = sum(rating * count for rating, count in stars.by_rating())
    return (weight * mean + total) / (weight + stars.total)


def _details(restaurant: Restaurant) -> str:
    return json.dumps(
        {"cuisine": restaurant.cuisine, "average": restaurant.average_rating, "count": restaurant.review_count},
        ensure_ascii=False,
    )


def update(client, restaurant: Restaurant) -> None:
    """Write-through after a review write; a missing set is left for a rebuild."""
    stars = restaurant.stars
    total = sum(rating * count for rating, count in stars.by_rating())
    UPDATE_IF_PRESENT(
        client,
        [keys.leaderboard_key(), keys.leaderboard_details_key()],
        [restaurant.name, total, stars.total, DEFAULT_MEAN, settings.LEADERBOARD_PRIOR_WEIGHT, _details(restaurant)],
    )


def mark_stale(client) -> None:
    """A restaurant was removed (rare, and never by the site): the next reader
    rebuilds the board while the others are served it as it is. (No ZREM or
    HDEL: the cache's least ACL does not grant them.)"""
    client.delete(keys.leaderboard_fresh_key())


def _all_restaurants() -> list[Restaurant]:
    restaurants, cursor = [], None
    while True:
        page = selectors.restaurant_list(cursor=cursor, page_size=500)
        restaurants += page.items
        if not (cursor := page.next_cursor):
            return restaurants


def _mean_rating(restaurants: list[Restaurant]) -> float:
    reviews = sum(r.review_count for r in restaurants)
    ratings = sum(sum(rating * count for rating, count in r.stars.by_rating()) for r in restaurants)
    return ratings / reviews if reviews else DEFAULT_MEAN


def rebuild() -> int:
    """Recompute the whole set from DynamoDB and swap it in atomically."""
    fresh_until = clock.now() + policy.leaderboard_seconds()
    restaurants = _all_restaurants()
    mean = _mean_rating(restaurants)
    weight = settings.LEADERBOARD_PRIOR_WEIGHT
    client = primary()
    suffix = secrets.token_hex(4)
    staged_set, staged_details = keys.leaderboard_staging_key(f"{suffix}:set"), keys.leaderboard_staging_key(suffix)
    pipe = client.pipeline(transaction=False)
    pipe.hset(staged_details, "", mean)  # the field "" holds the mean; no restaurant is called ""
    for restaurant in restaurants:
        pipe.zadd(staged_set, {restaurant.name: bayesian_score(restaurant.stars, mean=mean, weight=weight)})
        pipe.hset(staged_details, restaurant.name, _details(restaurant))
    if not restaurants:
        pipe.zadd(staged_set, {"": 0})  # RENAME needs the key to exist; readers skip ""
    pipe.expire(staged_set, 600)
    pipe.expire(staged_details, 600)
    pipe.execute()
    PUBLISH_STAGED(
        client,
        [
            keys.leaderboard_key(),
            keys.leaderboard_details_key(),
            staged_set,
            staged_details,
            keys.leaderboard_fresh_key(),
        ],
        [policy.leaderboard_keep_seconds(), fresh_until],
    )
    return len(restaurants)


def top(limit: int = 20) -> list[Entry]:
    try:
        with redis_or_fallback():
            return _cached_top(limit)
    except CacheDown:
        return _top_from_dynamodb(limit)


def _cached_top(limit: int) -> list[Entry]:
    board = on_replica(lambda client: _read_board(client, limit))
    if board is None:
        stats.record("leaderboard", "miss")
        return _build_or_wait(limit)
    if board.fresh_until > clock.now():
        stats.record("leaderboard", "hit")
        return board.entries
    return _refresh_stale(board.entries, limit)


def _read_board(client, limit: int) -> _Board | None:
    pipe = client.pipeline(transaction=False)
    pipe.exists(keys.leaderboard_key())
    pipe.zrevrange(keys.leaderboard_key(), 0, limit - 1, withscores=True)
    pipe.get(keys.leaderboard_fresh_key())
    exists, ranked, fresh_until = pipe.execute()
    if not exists:
        return None
    ranked = [(name, score) for name, score in ranked if name]
    details = client.hmget(keys.leaderboard_details_key(), [name for name, _ in ranked]) if ranked else []
    entries = []
    for (name, score), raw in zip(ranked, details, strict=True):
        info = json.loads(raw) if raw else {"cuisine": "", "average": None, "count": 0}
        entries.append(Entry(name.decode(), info["cuisine"], info["average"], info["count"], score))
    # A board published before boards carried a fresh-until is stale: rebuild it.
    return _Board(entries, float(fresh_until or 0))


def _refresh_stale(stale: list[Entry], limit: int) -> list[Entry]:
    token = _lock()
    if token is None:
        stats.record("leaderboard", "stale")
        return stale  # another request is rebuilding it
    stats.record("leaderboard", "miss")
    try:
        rebuild()
    except Unavailable:
        return stale  # stale-if-error
    finally:
        _unlock(token)
    return _published(limit)


def _build_or_wait(limit: int) -> list[Entry]:
    token = _lock()
    if token is None:
        board = clock.wait_for(
            lambda: _read_board(primary(), limit), seconds=policy.LOCK_WAIT_SECONDS, every=policy.LOCK_POLL_SECONDS
        )
        stats.record_stampede_wait("leaderboard", served=board is not None)
        return board.entries if board else _top_from_dynamodb(limit)
    try:
        rebuild()
    finally:
        _unlock(token)
    return _published(limit)


def _published(limit: int) -> list[Entry]:
    board = _read_board(primary(), limit)
    return board.entries if board else []


def _lock() -> str | None:
    return acquire_lock(primary(), keys.leaderboard_lock_key(), milliseconds=policy.LEADERBOARD_LOCK_MILLISECONDS)


def _unlock(token: str) -> None:
    release_lock(primary(), keys.leaderboard_lock_key(), token)


def _top_from_dynamodb(limit: int) -> list[Entry]:
    """Without Redis, or when no board appeared in time: compute directly."""
    restaurants = _all_restaurants()
    mean = _mean_rating(restaurants)
    weight = settings.LEADERBOARD_PRIOR_WEIGHT
    scored = [(bayesian_score(r.stars, mean=mean, weight=weight), r) for r in restaurants]
    scored.sort(key=lambda pair: (-pair[0], pair[1].name))
    return [Entry(r.name, r.cuisine, r.average_rating, r.review_count, score) for score, r in scored[:limit]]
