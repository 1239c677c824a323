"""Per-visitor lookups a logged-in page view needs, kept in Redis so that it
costs no DynamoDB request: the user's profile (loaded by Django's auth on
every request) and whether they reviewed the restaurant they are looking at.

Both are stored only if no write happened since they were read (generation
check), and writes drop them: ``forget_profile`` after a profile save, and the
review invalidation for own reviews. Profiles hold the password hash, needed
to check the session, so they live on the sessions alias, beside the sessions
they guard, and no cache flush removes them.
"""

import json

from django.core.cache import caches
from django_redis import get_redis_connection

from restaurants.dynamo.entities import Review

from . import codec, keys, policy
from .connection import (
    CacheDown,
    LuaScript,
    primary,
    read_with_generation,
    redis_or_fallback,
    store_unless_written,
)

PROFILE_ALIAS = "sessions"
NOT_REVIEWED = "none"

_FORGET = LuaScript(
    """
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[1])
return redis.call('DEL', KEYS[1])
"""
)


def _profile_keys(username: str) -> tuple[str, str]:
    make_key = caches[PROFILE_ALIAS].make_key
    return make_key(keys.profile_key(username)), make_key(keys.profile_generation_key(username))


def profile(username: str, load) -> dict:
    """The profile item of ``username``; ``load()`` reads DynamoDB on a miss."""
    key, generation_key = _profile_keys(username)
    try:
        with redis_or_fallback():
            client = get_redis_connection(PROFILE_ALIAS)
            raw, generation = read_with_generation(client, key, generation_key)
    except CacheDown:
        return load()
    if raw is not None:
        return json.loads(raw)
    item = load()
    try:
        with redis_or_fallback():
            store_unless_written(
                client, key, generation_key, json.dumps(item), seconds=policy.profile_seconds(), generation=generation
            )
    except CacheDown:
        pass
    return item


def forget_profile(username: str) -> None:
    key, generation_key = _profile_keys(username)
    try:
        with redis_or_fallback():
            _FORGET(get_redis_connection(PROFILE_ALIAS), [key, generation_key], [policy.generation_seconds()])
    except CacheDown:
        pass  # the profile expires within profile_seconds()


def own_review(username: str, restaurant: str, load) -> Review | None:
    """The user's review of ``restaurant`` or None; ``load()`` reads DynamoDB."""
    key, generation_key = keys.own_review_key(username, restaurant), keys.generation_key(keys.user_tag(username))
    try:
        with redis_or_fallback():
            raw, generation = read_with_generation(primary(), key, generation_key)
    except CacheDown:
        return load()
    if raw is not None:
        return None if raw.decode() == NOT_REVIEWED else codec.review_from_dict(json.loads(raw))
    review = load()
    value = NOT_REVIEWED if review is None else json.dumps(codec.review_to_dict(review), ensure_ascii=False)
    try:
        with redis_or_fallback():
            store_unless_written(
                primary(), key, generation_key, value, seconds=policy.fragment_seconds(), generation=generation
            )
    except CacheDown:
        pass
    return review


def forget_own_review(client, username: str, restaurant: str) -> None:
    client.delete(keys.own_review_key(username, restaurant))
