"""The board: every restaurant with its Bayesian score, in Redis.

score = (C * m + sum of ratings) / (C + number of reviews), where m is the mean
rating over all reviews and C the prior weight (``LEADERBOARD_PRIOR_WEIGHT``):
a restaurant with one 5-star review scores near m, not 5.

Two keys under the ``{lists}`` tag: a sorted set (restaurant -> score), and a
hash of details (field "" holds the mean; every other field a restaurant's
cuisine, address, average, review count and star counts, as JSON). The top
page reads the head of the set; the list pages read all of it and sort it by
name, rating or review count (``catalogue.py``), which is also what tells a
write which list pages it changed.

A rebuild reads every restaurant from DynamoDB, so it must happen once, not
once per reader. The board is fresh for ``CACHE_TTL_LEADERBOARD`` (a
Python-side ``fresh_until``, stored beside it) and kept by Redis for the stale
window after that. Past its fresh time, the reader that takes a short lock
rebuilds it; everyone else is served the previous board meanwhile, because a
rebuild is staged under other keys and swapped in with RENAME only when
complete (and the previous board is served too if DynamoDB fails). A stale
board is only stale in its mean: every write moves its restaurant on it
(``catalogue.put``). When no board exists at all, the others wait briefly for
the lock holder's, and only past ``LOCK_WAIT_SECONDS`` compute it from
DynamoDB themselves. ``manage.py rebuild_leaderboard`` and the admin rebuild
it on demand.

A write that lands while a rebuild reads DynamoDB must not be undone by the
rebuild's publish: every write also records the restaurant's new state in a
journal, with the time, and the publish lays every journal record made since
shortly before the rebuild began (``JOURNAL_MARGIN_SECONDS``, which also covers
the index's lag behind a write) over what the rebuild read. A write whose new
state is unknown (DynamoDB could not be read back) drops the board and
journals "unknown": a rebuild that began before it (or just after,
``UNKNOWN_MARGIN_SECONDS``) is not published, and the next one reads it.
"""

import json
import secrets
from dataclasses import dataclass

from django.conf import settings

from restaurants.dynamo import reads
from restaurants.dynamo.entities import Restaurant, StarCounts, shown_text
from restaurants.dynamo.errors import Unavailable

from ..plumbing.connection import CacheDown, acquire_lock, on_replica, primary, redis_call, release_lock
from ..plumbing.scripts import LuaScript
from ..rules import clock, keys, policy
from . import stats

DEFAULT_MEAN = 3.0
# How far back from a rebuild's start the journal is laid over its read: the
# indexes' lag behind a write, with room to spare.
JOURNAL_MARGIN_SECONDS = 10
UNKNOWN = ""  # a journal record's state when DynamoDB could not be read back after a write
# A rebuild that began less than this after such a write is not published: it
# may have read the index before the write reached it.
UNKNOWN_MARGIN_SECONDS = 1

PUBLISH_STAGED = LuaScript("publish_staged_board")


@dataclass(frozen=True)
class Entry:
    """A restaurant as the board holds it: what a list or top page shows of it."""

    name: str
    cuisine: str
    average: float | None
    review_count: int
    score: float
    address: str = ""


@dataclass(frozen=True)
class Board:
    """The whole board as read in one round trip, with the lists' generation
    at that moment (``catalogue.put`` writes only if it has not moved)."""

    entries: dict[str, Entry]
    mean: float
    fresh_until: float
    generation: str = ""


@dataclass(frozen=True)
class _Board:
    entries: list[Entry]
    fresh_until: float
    mean: float = DEFAULT_MEAN


def bayesian_score(stars: StarCounts, *, mean: float, weight: int) -> float:
    """The score in Python (a rebuild, the board without Redis). Its one Lua
    twin is ``lua/_bayesian_score.lua``: the publish and every write's put
    score with the mean stored with the board at the moment they run, which
    Python cannot know beforehand. A test checks that the two agree."""
    total = sum(rating * count for rating, count in stars.by_rating())
    return (weight * mean + total) / (weight + stars.total)


def details(restaurant: Restaurant) -> str:
    """A restaurant's field in the details hash (and its journal records)."""
    return json.dumps(
        {
            "cuisine": restaurant.cuisine,
            "average": restaurant.average_rating,
            "count": restaurant.review_count,
            "address": restaurant.address,
            "stars": [count for _, count in restaurant.stars.by_rating()],
        },
        ensure_ascii=False,
    )


REMOVED = json.dumps({"removed": True})  # a journal record's state for a restaurant that is gone


def entry_of(restaurant: Restaurant, *, mean: float) -> Entry:
    score = bayesian_score(restaurant.stars, mean=mean, weight=settings.LEADERBOARD_PRIOR_WEIGHT)
    return Entry(
        restaurant.name,
        restaurant.cuisine,
        restaurant.average_rating,
        restaurant.review_count,
        score,
        restaurant.address,
    )


def _entry(name: str, score: float, raw: bytes | None) -> Entry:
    """A board published before the entity turned another client's cuisine or
    address into text may hold a list there, which would fail the next write's
    page comparison (``catalogue.changed_fields`` files entries by cuisine)."""
    info = json.loads(raw) if raw else {"cuisine": "", "average": None, "count": 0}
    cuisine, address = shown_text(info["cuisine"]), shown_text(info.get("address", ""))
    return Entry(name, cuisine, info["average"], info["count"], score, address)


def _all_restaurants() -> list[Restaurant]:
    restaurants, cursor = [], None
    while True:
        page = reads.restaurant_list(cursor=cursor, page_size=500)
        restaurants += page.items
        if not (cursor := page.next_cursor):
            return restaurants


def _mean_rating(restaurants: list[Restaurant]) -> float:
    reviews = sum(r.review_count for r in restaurants)
    ratings = sum(sum(rating * count for rating, count in r.stars.by_rating()) for r in restaurants)
    return ratings / reviews if reviews else DEFAULT_MEAN


def rebuild() -> int:
    """Recompute the whole board from DynamoDB and swap it in atomically,
    with the writes made meanwhile laid over it; the number of restaurants
    read. ``Unavailable`` if it could not be published: a write whose result
    is unknown overlapped it (see the module's docstring)."""
    started = clock.now()
    restaurants = _all_restaurants()
    if not _publish(restaurants, started):
        raise Unavailable("A write whose result is unknown overlapped the rebuild: not published.")
    return len(restaurants)


def _publish(restaurants: list[Restaurant], started: float) -> bool:
    """Stage a board of ``restaurants`` (read from DynamoDB from ``started``
    on) and swap it in, the journal laid over it; False, and nothing
    published, if a write whose result is unknown overlapped the read."""
    fresh_until = started + policy.leaderboard_seconds()
    mean = _mean_rating(restaurants)
    weight = settings.LEADERBOARD_PRIOR_WEIGHT
    client = primary()
    suffix = secrets.token_hex(4)
    staged_set, staged_details = keys.leaderboard_staging_key(f"{suffix}:set"), keys.leaderboard_staging_key(suffix)
    pipe = client.pipeline(transaction=False)
    pipe.hset(staged_details, "", mean)  # the field "" holds the mean; no restaurant is called ""
    for restaurant in restaurants:
        pipe.zadd(staged_set, {restaurant.name: bayesian_score(restaurant.stars, mean=mean, weight=weight)})
        pipe.hset(staged_details, restaurant.name, details(restaurant))
    if not restaurants:
        pipe.zadd(staged_set, {"": 0})  # RENAME needs the key to exist; readers skip ""
    pipe.expire(staged_set, 600)
    pipe.expire(staged_details, 600)
    pipe.execute()
    published = PUBLISH_STAGED(
        client,
        [
            keys.leaderboard_key(),
            keys.leaderboard_details_key(),
            staged_set,
            staged_details,
            keys.leaderboard_fresh_key(),
            keys.leaderboard_journal_key(),
            keys.generation_key(keys.LISTS_TAG),
            keys.page_group_key(keys.LISTS_TAG),
        ],
        [
            policy.leaderboard_keep_seconds(),
            fresh_until,
            weight,
            started - JOURNAL_MARGIN_SECONDS,
            policy.generation_seconds(),
            started - UNKNOWN_MARGIN_SECONDS,
        ],
    )
    if not published:
        client.delete(staged_set, staged_details)
    return bool(published)


def top(limit: int = 20) -> list[Entry]:
    """The ``limit`` best-scored restaurants, best first."""
    return _cached(limit).entries


def everything() -> tuple[list[Entry], float]:
    """Every restaurant on the board (in no particular order) and the mean
    rating their scores are pulled toward."""
    board = _cached(None)
    return board.entries, board.mean


def _cached(limit: int | None) -> _Board:
    """The board from Redis, rebuilt when missing or stale. Read top to bottom:
    each Redis call is guarded on its own and DynamoDB is read outside any
    guard, so Redis failing after the read never costs a second read."""
    try:
        board = redis_call(lambda: on_replica(lambda client: _read_board(client, limit)))
    except CacheDown:
        return _from_dynamodb(limit)
    if board is None:
        stats.record("leaderboard", "miss")
        return _build_or_wait(limit)
    if board.fresh_until > clock.now():
        stats.record("leaderboard", "hit")
        return board
    return _refresh_stale(board, limit)


def _read_board(client, limit: int | None) -> _Board | None:
    """The head of the board (``limit``) or all of it (None): one round trip for
    all of it, two for a head."""
    pipe = client.pipeline(transaction=False)
    pipe.exists(keys.leaderboard_key())
    pipe.zrevrange(keys.leaderboard_key(), 0, -1 if limit is None else limit - 1, withscores=True)
    pipe.get(keys.leaderboard_fresh_key())
    if limit is None:
        pipe.hgetall(keys.leaderboard_details_key())
        exists, ranked, fresh_until, all_details = pipe.execute()
    else:
        exists, ranked, fresh_until = pipe.execute()
    if not exists:
        return None
    ranked = [(name, score) for name, score in ranked if name]
    if limit is not None:
        found = client.hmget(keys.leaderboard_details_key(), ["", *(name for name, _ in ranked)])
        mean, found = found[0], found[1:]
    else:
        mean, found = all_details.get(b""), [all_details.get(name) for name, _ in ranked]
    entries = [_entry(name.decode(), score, raw) for (name, score), raw in zip(ranked, found, strict=True)]
    if any(raw and b'"address"' not in raw for raw in found):
        return None  # a board from before the details held addresses: rebuild it
    # A board published before boards carried a fresh-until is stale: rebuild it.
    return _Board(entries, float(fresh_until or 0), float(mean or DEFAULT_MEAN))


def read_all(client) -> Board | None:
    """The whole board and the lists' generation, in one round trip (for
    writes: ``catalogue.put``); None if there is no board."""
    pipe = client.pipeline(transaction=False)
    pipe.exists(keys.leaderboard_key())
    pipe.zrevrange(keys.leaderboard_key(), 0, -1, withscores=True)
    pipe.hgetall(keys.leaderboard_details_key())
    pipe.get(keys.leaderboard_fresh_key())
    pipe.get(keys.generation_key(keys.LISTS_TAG))
    exists, ranked, all_details, fresh_until, generation = pipe.execute()
    if not exists:
        return None
    entries = {}
    for name, score in ranked:
        if name:
            entries[name.decode()] = _entry(name.decode(), score, all_details.get(name))
    return Board(
        entries,
        float(all_details.get(b"") or DEFAULT_MEAN),
        float(fresh_until or 0),
        (generation or b"").decode(),
    )


def _refresh_stale(stale: _Board, limit: int | None) -> _Board:
    token = _lock()
    if token is None:
        stats.record("leaderboard", "stale")
        return stale  # another request is rebuilding it (or Redis cannot take the lock)
    stats.record("leaderboard", "miss")
    try:
        return _rebuild_and_read(limit)
    except Unavailable:
        return stale  # stale-if-error (the board is kept right by every write meanwhile)
    finally:
        _unlock(token)


def _build_or_wait(limit: int | None) -> _Board:
    token = _lock()
    if token is None:
        try:
            board = redis_call(
                lambda: clock.wait_for(
                    lambda: _read_board(primary(), limit),
                    seconds=policy.LOCK_WAIT_SECONDS,
                    every=policy.LOCK_POLL_SECONDS,
                )
            )
        except CacheDown:
            board = None
        stats.record_stampede_wait("leaderboard", served=board is not None)
        return board or _from_dynamodb(limit)
    try:
        return _rebuild_and_read(limit)
    finally:
        _unlock(token)


def _rebuild_and_read(limit: int | None) -> _Board:
    """Read every restaurant (``Unavailable`` if DynamoDB fails), publish the
    board, and serve it as published; if Redis failed or a write whose
    result is unknown overlapped, the board of what was read."""
    started = clock.now()
    restaurants = _all_restaurants()
    try:
        if redis_call(lambda: _publish(restaurants, started)):
            board = redis_call(lambda: _read_board(primary(), limit))
            if board is not None:
                return board
    except CacheDown:
        pass
    return _board_of(restaurants, limit)


def _lock() -> str | None:
    """The rebuild's lock, or None if another holds it or Redis cannot answer."""
    try:
        return redis_call(
            lambda: acquire_lock(
                primary(), keys.leaderboard_lock_key(), milliseconds=policy.LEADERBOARD_LOCK_MILLISECONDS
            )
        )
    except CacheDown:
        return None


def _unlock(token: str) -> None:
    """Release our lock if Redis answers; else it expires by itself."""
    try:
        redis_call(lambda: release_lock(primary(), keys.leaderboard_lock_key(), token))
    except CacheDown:
        pass


def _from_dynamodb(limit: int | None) -> _Board:
    """Without Redis, or when no board appeared in time: compute directly."""
    return _board_of(_all_restaurants(), limit)


def _board_of(restaurants: list[Restaurant], limit: int | None) -> _Board:
    mean = _mean_rating(restaurants)
    entries = sorted((entry_of(r, mean=mean) for r in restaurants), key=lambda e: (-e.score, e.name))
    return _Board(entries if limit is None else entries[:limit], 0.0, mean)
