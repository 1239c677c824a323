"""Sessions in Redis that say so when they cannot be read or saved.

Django's cache session backend reads a failing store as an empty session:
during a Redis outage or failover every logged-in visitor silently appears
logged out, and a form posted then fails its CSRF or login checks in
confusing ways. This store raises ``SessionUnavailable`` instead, which the
site turns into a page that says what happened (503 when nothing was done,
the confirmation of a write that did happen otherwise). After a READONLY
reply (the endpoint now leads to a demoted primary) it reconnects and tries
once more, so a failover costs one retry rather than minutes of errors.
"""

from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore

from .connection import REDIS_ERRORS, is_read_only_error, reconnect

ALIAS = "sessions"


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


class SessionStore(CacheSessionStore):
    def load(self):
        data = _with_one_reconnect(lambda: self._cache.get(self.cache_key))
        if data is not None:
            return data
        self._session_key = None
        return {}

    def exists(self, session_key):
        return _with_one_reconnect(lambda: super(SessionStore, self).exists(session_key))

    def save(self, must_create=False):
        return _with_one_reconnect(lambda: super(SessionStore, self).save(must_create=must_create))

    def delete(self, session_key=None):
        return _with_one_reconnect(lambda: super(SessionStore, self).delete(session_key))
