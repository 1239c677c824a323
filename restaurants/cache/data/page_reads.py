"""Everything a restaurant page view reads from Redis, in one round trip.

A logged-in view needs the visitor's profile (Django's auth checks the
session against its password hash), the visitor's own review of the
restaurant, the restaurant's summary and the page's shared part (its shell,
see ``fragments``), each with the generation that guards it. Read one by one
that was five round trips after the session's; here it is one command:

- on one server, a single ``MGET`` of the six keys;
- in cluster mode the keys live in two slots, ``{user:<d>}`` (profile, own
  review, the user's generation) and ``{restaurant:<d>}`` (summary, the
  restaurant's generation, the shell): a pipeline of ``GET``s (redis-py's
  cluster pipeline refuses ``MGET``), which sends each node its own at once,
  writing to every node before reading any answer;
- with read replicas, an ``MGET`` of the restaurant's keys on a replica, as
  every summary read goes, and one of the visitor's on the primary (a profile
  must never be older than a password change's fence): two round trips.

What was read is handed to the usual readers (``summaries``, ``visitors``),
which apply exactly the rules they apply to their own reads: freshness,
stale serving, stampede lock, fences, conditional stores.

Given the session's key too (``sessions.read_ahead_key``), the session is
read in the same command as the visitor's keys (in cluster mode, one more
GET in the pipeline, to whichever node holds it): a logged-in view is then
one round trip instead of two.
"""

from dataclasses import dataclass

from django.conf import settings

from ..plumbing.connection import CacheDown, Read, on_replica, primary, redis_or_fallback
from ..rules import keys


@dataclass(frozen=True)
class RestaurantPageReads:
    summary: Read
    shell: bytes | None
    profile: Read | None  # None: no visitor named
    own_review: Read | None
    session: bytes | None = None  # what ``session_key`` held


def read_restaurant_page(
    name: str, username: str | None, *, session_key: str | None = None
) -> RestaurantPageReads | None:
    """What Redis holds for ``name``'s page, ``username`` (None: anonymous)
    and the session stored under ``session_key`` (read only with a username),
    or None if Redis is down (every reader then goes its own way, to DynamoDB)."""
    tag = keys.restaurant_tag(name)
    restaurant_keys = [keys.summary_key(name), keys.generation_key(tag), keys.fragment_shell_key(tag)]
    visitor_keys = []
    if username:
        user_tag = keys.user_tag(username)
        visitor_keys = [
            keys.profile_key(username),
            keys.own_review_key(username, name),
            keys.generation_key(user_tag),
            *([session_key] if session_key else []),
        ]
    try:
        with redis_or_fallback():
            restaurant, visitor = _fetch(restaurant_keys, visitor_keys)
    except CacheDown:
        return None
    summary, restaurant_generation, shell = restaurant
    if not visitor_keys:
        return RestaurantPageReads((summary, _text(restaurant_generation)), shell, None, None)
    profile, own_review, user_generation, *session = visitor
    generation = _text(user_generation)
    return RestaurantPageReads(
        (summary, _text(restaurant_generation)),
        shell,
        (profile, generation),
        (own_review, generation),
        session[0] if session else None,
    )


def _fetch(restaurant_keys: list[str], visitor_keys: list[str]) -> tuple[list, list]:
    if settings.REDIS_CLUSTER:
        # Keys of two slots (three with a session): a pipeline (redis-py's
        # cluster pipeline refuses MGET) of plain GETs, each node's sent at once.
        pipe = primary().pipeline(transaction=False)
        for key in (*restaurant_keys, *visitor_keys):
            pipe.get(key)
        values = pipe.execute()
    elif settings.REDIS_REPLICA_URLS:
        restaurant = on_replica(lambda client: client.mget(restaurant_keys))
        return restaurant, (primary().mget(visitor_keys) if visitor_keys else [])
    else:
        values = primary().mget(*restaurant_keys, *visitor_keys)
    return values[: len(restaurant_keys)], values[len(restaurant_keys) :]


def _text(generation: bytes | None) -> str:
    return (generation or b"").decode()
