"""Sessions: Redis for speed, DynamoDB for truth.

Django's ``cached_db`` is the model: every save goes to the table first
(``restaurants.dynamo.sessions``), then to Redis; a read asks Redis and falls
back to the table. While Redis answers, a view reads no DynamoDB at all.
When it does not (down, failing over, restarted, restored, refused by the
circuit breaker), the session is read from the table (one consistent
``GetItem``), so a logged-in visitor stays logged in and can post.

What keeps Redis's copy from ever outliving the truth:

- **Ends go to the table first.** A logout (``delete``) deletes the item,
  then leaves ``ENDED`` in Redis for an hour: a request that read the item
  just before the delete cannot put the session back (copies are put with
  ``SET NX``, which a tombstone refuses). A save of a session whose item is
  gone is refused (``UpdateError``, Django's 400), never a resurrection.
- **A restart or restore drops every cached session.** The restart check
  (``restarts``) empties the sessions' prefix with the cache's, since the
  table has them all: a snapshot taken before a logout brings nothing back.
- **A copy Redis could not be told about is remembered.** A save or delete
  whose Redis step failed marks the key in this process; its Redis copy is
  not read here, and is deleted (or marked ended) as soon as Redis answers,
  tried at most every ``policy.PENDING_RETRY_SECONDS``. (Another process
  could read that copy meanwhile: only in the moments after Redis comes
  back, before the writing process's next request retries it.)
- **Expiry is checked on every read of the table**: DynamoDB's TTL deletes
  items days late.

``SessionUnavailable`` now means the *table* did not answer: the site turns
it into a page that says so (503 when nothing was done, the confirmation of
a write that did happen otherwise), never a silent logout.

A session can also be read *ahead*, with a page's other keys in one round
trip (``page_reads``): the keys a logged-in page needs depend on who the
session says the visitor is, so the process remembers which user it last
saw each session logged in as, reads that user's keys with the session, and
the view checks the guess against the session it read.
"""

import functools
import threading

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, UpdateError
from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore
from django.utils.crypto import get_random_string

from restaurants.dynamo import sessions as stored_sessions
from restaurants.dynamo.errors import AlreadyExists, NotFound, Unavailable

from ..plumbing.connection import CacheDown, CacheMoved, redis_or_fallback
from ..rules import clock, policy

ALIAS = "sessions"
# Sessions this process remembers the user of (about 100 bytes each); past it, the oldest go.
REMEMBERED_SESSIONS = 10_000
# What Redis holds for a session that ended (never a dict, so never a session), and how long:
# longer than any request that read the item before its delete takes to put it back.
ENDED = "ended"
ENDED_SECONDS = 3600

_users: dict[str, str] = {}  # session key -> the user the session was last seen logged in as
_users_lock = threading.Lock()
_NOT_READ = object()

# Redis keys whose copy may be out of date (a save or delete Redis refused): key -> ended.
_stale: dict[str, bool] = {}
_stale_lock = threading.Lock()
_retried_at = float("-inf")


class SessionUnavailable(Exception):
    """The session's truth (the table) did not answer; nothing about the session is known."""


def _on_redis(operation, *, always_try: bool = False):
    """``operation()`` on the sessions' Redis; ``CacheDown`` if it cannot
    answer now. After a READONLY (the endpoint moved to a promoted replica)
    the pool was dropped: once more, on the new primary."""
    try:
        with redis_or_fallback(always_try=always_try, alias=ALIAS):
            return operation()
    except CacheMoved:
        with redis_or_fallback(always_try=always_try, alias=ALIAS):
            return operation()


def _remember(session_key: str | None, data: dict) -> None:
    user = data.get(SESSION_KEY)
    if session_key is None or user is None or _users.get(session_key) == user:
        return
    with _users_lock:
        _users[session_key] = user
        if len(_users) > REMEMBERED_SESSIONS:
            del _users[next(iter(_users))]


class SessionStore(CacheSessionStore):
    _ahead = _NOT_READ  # what ``read_ahead`` was given, for ``load`` to take

    def load(self):
        data = self._cached()
        if data is None and self.session_key is not None:
            data = self._stored()
        if isinstance(data, dict):
            _remember(self.session_key, data)
            return data
        self._session_key = None
        return {}

    def _cached(self) -> dict | str | None:
        """Redis's copy: the session, ``ENDED``, or None (not there, not
        trusted here, or Redis cannot answer now)."""
        if self._ahead is not _NOT_READ:
            value, self._ahead = self._ahead, _NOT_READ
        elif self.session_key is None or self.cache_key in _stale:
            return None
        else:
            try:
                value = _on_redis(lambda: self._cache.get(self.cache_key))
            except CacheDown:
                return None
        return value if isinstance(value, dict) or value == ENDED else None

    def _stored(self) -> dict | None:
        """The table's session if it has not expired; put back in Redis too."""
        try:
            stored = stored_sessions.session_item_get(session_key=self.session_key)
        except Unavailable as error:
            raise SessionUnavailable(str(error)) from error
        seconds_left = _seconds_left(stored)
        if seconds_left <= 0:
            return None
        data = self.decode(stored.data)  # {} if its signature is wrong (Django logs it)
        if self.cache_key not in _stale:
            try:  # SET NX: never over a newer copy, nor over the mark of a session that ended
                _on_redis(lambda: self._cache.add(self.cache_key, data, seconds_left))
            except CacheDown:
                pass
        return data

    def read_ahead(self, raw: bytes | None) -> None:
        """What the key ``read_ahead_key`` gave held, read moments ago: the
        session's load takes it instead of asking Redis."""
        self._ahead = None if raw is None else self._cache.client.decode(raw)

    def exists(self, session_key):
        if not session_key:
            return False
        cached = SessionStore(session_key)._cached()
        if cached is not None:
            return cached != ENDED
        try:
            stored = stored_sessions.session_item_get(session_key=session_key)
        except Unavailable as error:
            raise SessionUnavailable(str(error)) from error
        return _seconds_left(stored) > 0

    def _get_new_session_key(self):
        # No lookup per new key: the save's conditional write is the check
        # (and 32 characters of 36 make a clash about 2^-165 likely).
        return get_random_string(32, VALID_KEY_CHARS)

    def save(self, must_create=False):
        if self.session_key is None:
            return self.create()
        data = self._get_session(no_load=must_create)
        age = self.get_expiry_age()
        try:
            stored_sessions.session_item_put(
                session_key=self.session_key,
                data=self.encode(data),
                expires_at=int(clock.now()) + age,
                create=must_create,
            )
        except AlreadyExists as error:
            raise CreateError from error
        except NotFound as error:  # ended meanwhile (a logout in another tab): not brought back
            raise UpdateError from error
        except Unavailable as error:
            raise SessionUnavailable(str(error)) from error
        _tell_redis(self.cache_key, lambda: self._cache.set(self.cache_key, data, age), ended=False)
        _remember(self.session_key, data)

    def delete(self, session_key=None):
        session_key = session_key or self.session_key
        if session_key is None:
            return
        try:
            stored_sessions.session_item_delete(session_key=session_key)
        except Unavailable as error:
            raise SessionUnavailable(str(error)) from error
        key = self.cache_key_prefix + session_key
        _tell_redis(key, lambda: self._cache.set(key, ENDED, ENDED_SECONDS), ended=True)

    @classmethod
    def clear_expired(cls):
        """Nothing to do: Redis expires its copies, DynamoDB's TTL the items."""


def _seconds_left(stored: stored_sessions.StoredSession | None) -> int:
    """How long a stored session has yet to live (0 or less: absent or expired,
    whatever DynamoDB's late TTL deletion has not yet removed)."""
    return stored.expires_at - int(clock.now()) if stored else 0


def _tell_redis(key: str, operation, *, ended: bool) -> None:
    """Bring Redis's copy of a session in line with the table, whatever the
    circuit says; if Redis cannot take it now, remember it (``retry_pending``)."""
    try:
        _on_redis(operation, always_try=True)
    except CacheDown:
        with _stale_lock:
            _stale[key] = ended or _stale.get(key, False)
        return
    with _stale_lock:
        _stale.pop(key, None)


def retry_pending() -> None:
    """Put right the copies Redis could not be told about: delete a changed
    session's (the next read takes the table's), mark an ended one's."""
    global _retried_at
    if not _stale or clock.monotonic() - _retried_at < policy.PENDING_RETRY_SECONDS:
        return
    cache = SessionStore()._cache
    with _stale_lock:
        pending = dict(_stale)
    for key, ended in pending.items():
        if ended:
            put_right = functools.partial(cache.set, key, ENDED, ENDED_SECONDS)
        else:
            put_right = functools.partial(cache.delete, key)
        try:
            _on_redis(put_right, always_try=True)
        except CacheDown:
            _retried_at = clock.monotonic()
            return
        with _stale_lock:
            if _stale.get(key) == ended:
                del _stale[key]


def forget_pending() -> None:
    """For tests: no copy left to put right, as in a new process."""
    global _retried_at
    with _stale_lock:
        _stale.clear()
        _retried_at = float("-inf")


def read_ahead_key(session) -> tuple[str, str] | None:
    """The Redis key of ``session``'s data and the user this process last saw
    it logged in as, if the session may be read with that user's keys: it is
    one of ours, kept on the cache's server, its copy trusted, and not read yet."""
    if not isinstance(session, SessionStore) or session.accessed or session.session_key is None:
        return None
    user = _users.get(session.session_key)
    if user is None or session.cache_key in _stale or not _kept_with_the_cache():
        return None
    return session._cache.client.make_key(session.cache_key), user


def _kept_with_the_cache() -> bool:
    """Sessions are on the server the page's keys are read from: the cache's
    primary (by default, SESSION_REDIS_URL is REDIS_URL), or its cluster."""
    sessions, cache = (_urls(settings.CACHES[alias]["LOCATION"]) for alias in (ALIAS, "default"))
    return sessions == cache if settings.REDIS_CLUSTER else sessions[:1] == cache[:1]


def _urls(location: str | list[str]) -> list[str]:
    return location.split(",") if isinstance(location, str) else list(location)
