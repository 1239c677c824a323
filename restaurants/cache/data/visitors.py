"""Per-visitor lookups a logged-in page view needs, kept in Redis so that it
costs no DynamoDB request: the user's profile (loaded by Django's auth on
every request) and whether they reviewed the restaurant they are looking at.

Both are stored only if no write happened since they were read (generation
check), and writes drop them: ``forget_profile`` after a profile save, and the
review invalidation for own reviews.

Profiles hold the password hash, which Django compares with the session's on
every request: a stale profile would keep sessions alive after a password
change. So a security-relevant save first *fences* the profile (replaces it
with a marker that sends every reader to DynamoDB and that no reader may
overwrite) and refuses to go on if it cannot (``fence_profile`` raises
``CacheDown``); the fence is lifted after the write, and if that fails it
simply expires. Profiles are ordinary cache entries: a flush or a Redis
restart (``restarts``) removes them, costing one DynamoDB read per user.
"""

import contextlib
import json
from contextvars import ContextVar

from restaurants.dynamo.entities import Review

from ..plumbing.connection import (
    CacheDown,
    Read,
    bump_generation_and_delete,
    bump_generation_and_get,
    delete_if_unchanged,
    primary,
    read_with_generation,
    redis_or_fallback,
    store_unless_written,
)
from ..plumbing.scripts import LuaScript
from ..rules import keys, policy
from . import codec

NOT_REVIEWED = "none"
FENCED = b"fenced"

_FENCE = LuaScript("bump_generation_and_set")


def _profile_keys(username: str) -> tuple[str, str]:
    return keys.profile_key(username), keys.generation_key(keys.user_tag(username))


# A profile read made moments ago with the rest of a page's reads (``page_reads``):
# (username, raw, generation), for the next lookup of that user in this request.
_read_ahead: ContextVar[tuple[str, bytes | None, str] | None] = ContextVar("profile_read_ahead", default=None)


@contextlib.contextmanager
def profile_read_ahead(username: str, read: Read):
    """Within the block, the first ``profile(username)`` lookup (Django's auth,
    checking the session) takes ``read`` instead of asking Redis again. It
    serves once and never outlives the block, so no later request can be
    answered from it."""
    token = _read_ahead.set((username, *read))
    try:
        yield
    finally:
        _read_ahead.reset(token)


def _take_read_ahead(username: str) -> Read | None:
    ahead = _read_ahead.get()
    if ahead is None or ahead[0] != username:
        return None
    _read_ahead.set(None)
    return ahead[1], ahead[2]


def profile(username: str, load) -> dict:
    """The profile item of ``username``; ``load()`` reads DynamoDB on a miss."""
    key, generation_key = _profile_keys(username)
    try:
        with redis_or_fallback():
            client = primary()
            raw, generation = _take_read_ahead(username) or read_with_generation(client, key, generation_key)
    except CacheDown:
        return load()
    if raw == FENCED:
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


def fence_profile(username: str) -> None:
    """Before a password (or rights) change: no reader may use or store the
    cached profile until ``forget_profile``. Raises CacheDown if it cannot."""
    key, generation_key = _profile_keys(username)
    with redis_or_fallback():
        _FENCE(primary(), [key, generation_key], [FENCED, policy.generation_seconds(), policy.fence_seconds()])


def forget_profile(username: str) -> None:
    key, generation_key = _profile_keys(username)
    try:
        with redis_or_fallback():
            bump_generation_and_delete(primary(), key, generation_key, seconds=policy.generation_seconds())
    except CacheDown:
        pass  # a fence expires by itself; an ordinary profile within profile_seconds()


def profile_changed(client, username: str, item: dict | None) -> None:
    """The table's stream says the profile item is now ``item`` (None: removed).
    A cached copy that differs is dropped; a fence is left in place (the save
    that set it lifts it); the generation is bumped first, so a reader that
    loaded the profile before the change cannot store it after."""
    key, generation_key = _profile_keys(username)
    raw = bump_generation_and_get(client, key, generation_key, seconds=policy.generation_seconds())
    if raw is None or raw == FENCED or (item is not None and json.loads(raw) == item):
        return
    delete_if_unchanged(client, key, raw)


def own_review(username: str, restaurant: str, load, *, cached: Read | None = None) -> Review | None:
    """The user's review of ``restaurant`` or None; ``load()`` reads DynamoDB.
    ``cached``: what a read made moments ago found (``page_reads``)."""
    key, generation_key = keys.own_review_key(username, restaurant), keys.generation_key(keys.user_tag(username))
    try:
        with redis_or_fallback():
            raw, generation = cached if cached is not None else read_with_generation(primary(), key, generation_key)
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
