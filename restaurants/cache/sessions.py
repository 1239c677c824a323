"""Sessions in Redis that say so when they cannot be read or saved.

Django's cache session backend reads a failing store as an empty session:
during a Redis outage or failover every logged-in visitor silently appears
logged out, and a form posted then fails its CSRF or login checks in
confusing ways. This store raises ``SessionUnavailable`` instead, which the
site turns into a page that says what happened (503 when nothing was done,
the confirmation of a write that did happen otherwise). After a READONLY
reply (the endpoint now leads to a demoted primary) it reconnects and tries
once more, so a failover costs one retry rather than minutes of errors.

A session can also be read *ahead*, with a page's other keys in one round
trip (``page_reads``): the keys a logged-in page needs depend on who the
session says the visitor is, so the process remembers which user it last
saw each session logged in as, reads that user's keys with the session, and
the view checks the guess against the session it read.
"""

import threading

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore

from .connection import REDIS_ERRORS, is_read_only_error, reconnect

ALIAS = "sessions"
# Sessions this process remembers the user of (about 100 bytes each); past it, the oldest go.
REMEMBERED_SESSIONS = 10_000

_users: dict[str, str] = {}  # session key -> the user the session was last seen logged in as
_users_lock = threading.Lock()
_NOT_READ = object()


class SessionUnavailable(Exception):
    """The session store did not answer; nothing about the session is known."""


def _with_one_reconnect(operation):
    try:
        return operation()
    except REDIS_ERRORS as error:
        if not is_read_only_error(error):
            raise SessionUnavailable(str(error)) from error
        reconnect(ALIAS)
    try:
        return operation()
    except REDIS_ERRORS as error:
        raise SessionUnavailable(str(error)) from error


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
        if self._ahead is not _NOT_READ:
            data, self._ahead = self._ahead, _NOT_READ
        else:
            data = _with_one_reconnect(lambda: self._cache.get(self.cache_key))
        if data is not None:
            _remember(self.session_key, data)
            return data
        self._session_key = None
        return {}

    def read_ahead(self, raw: bytes | None) -> None:
        """What the key ``read_ahead_key`` gave held, read moments ago: the
        session's load takes it instead of asking Redis."""
        self._ahead = None if raw is None else self._cache.client.decode(raw)

    def exists(self, session_key):
        return _with_one_reconnect(lambda: super(SessionStore, self).exists(session_key))

    def save(self, must_create=False):
        saved = _with_one_reconnect(lambda: super(SessionStore, self).save(must_create=must_create))
        _remember(self.session_key, self._get_session(no_load=True))
        return saved

    def delete(self, session_key=None):
        return _with_one_reconnect(lambda: super(SessionStore, self).delete(session_key))


def read_ahead_key(session) -> tuple[str, str] | None:
    """The Redis key of ``session``'s data and the user this process last saw
    it logged in as, if the session may be read with that user's keys: it is
    one of ours, kept on the cache's server, and not read yet."""
    if not isinstance(session, SessionStore) or session.accessed or session.session_key is None:
        return None
    user = _users.get(session.session_key)
    if user is None or not _kept_with_the_cache():
        return None
    return session._cache.client.make_key(session.cache_key), user


def _kept_with_the_cache() -> bool:
    """Sessions are on the server the page's keys are read from: the cache's
    primary (by default, SESSION_REDIS_URL is REDIS_URL), or its cluster."""
    sessions, cache = (_urls(settings.CACHES[alias]["LOCATION"]) for alias in (ALIAS, "default"))
    return sessions == cache if settings.REDIS_CLUSTER else sessions[:1] == cache[:1]


def _urls(location: str | list[str]) -> list[str]:
    return location.split(",") if isinstance(location, str) else list(location)
