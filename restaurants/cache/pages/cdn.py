"""Purging a CDN in front of the site when a write retires a page group.

Anonymous pages carry ``Surrogate-Key: <prefix>-pages <group>`` (``keys``),
the same groups ``pages.retire_group`` retires in Redis. With ``CDN_PURGE``
set, every retirement also purges its group from the CDN, so a CDN may keep
pages for ``s-maxage`` (``policy.page_cache_control``) without ever showing
a page older than a write. ``CDN_PURGE`` is one of:

- empty (the default): no purge, and pages say ``s-maxage=0``;
- a URL holding ``{key}``, requested with ``CDN_PURGE_METHOD`` (POST) and the
  header ``CDN_PURGE_HEADER`` ("Name: value", e.g. Fastly's
  ``https://api.fastly.com/service/<id>/purge/{key}`` with ``Fastly-Key: <token>``;
  a Varnish with xkey behind a small VCL of yours works the same way);
  any 2xx answer is a success;
- the dotted path of a callable ``purge(key: str) -> None`` that raises on
  failure (CloudFront, which purges by path, not by key, needs one of these).

Use hard purges: a "soft" purge marks pages stale, and a stale page may be
served (``stale-while-revalidate``, ``stale-if-error``) after the write.

The first purge is sent by the write itself, before it answers (so its
author, and everyone after, gets the new page). It never fails the write: a
failure (refused, timed out, unreachable) is logged and kept in this process,
and tried again after ``policy.CDN_PURGE_RETRY_SECONDS``, however many tries
that takes. Each purge is also sent a second time
``policy.CDN_REPEAT_PURGE_SECONDS`` later: a page the CDN was fetching from us
while the first purge passed it would otherwise stay for ``s-maxage``.
Retries and repeats are sent by a background thread of the process, started
by ``retry_pending`` (called on every request, like the Redis invalidations
of an outage) when one is due, so no visitor's request waits for the CDN.
"""

import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable

from django.conf import settings
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

from ..rules import clock, policy

log = logging.getLogger(__name__)

_lock = threading.Lock()
_pending: dict[str, float] = {}  # surrogate key -> monotonic time it is due
_purger: Callable[[str], None] | None = None
_purger_for: str | None = None
_sender: threading.Thread | None = None


def purge(key: str) -> None:
    """Purge ``key`` from the CDN now (if one is configured), and again shortly."""
    if not settings.CDN_PURGE:
        return
    _attempt(key, repeat=True)


def retry_pending() -> None:
    """Start sending the purges that are due (failed ones, and the repeats)
    in the background; costs nothing while none is."""
    global _sender
    if not _pending or min(_pending.values(), default=0.0) > clock.monotonic():
        return
    with _lock:
        if _sender is not None and _sender.is_alive():
            return
        _sender = threading.Thread(target=send_due, name="cdn-purge", daemon=True)
        _sender.start()


def send_due() -> None:
    """Send the purges that are due now, in this thread."""
    now = clock.monotonic()
    with _lock:
        due = [key for key, when in _pending.items() if when <= now]
        for key in due:
            del _pending[key]
    for key in due:
        _attempt(key, repeat=False)


def pending() -> dict[str, float]:
    """The purges waiting (key: when due), for tests and the logs."""
    with _lock:
        return dict(_pending)


def forget_pending() -> None:
    with _lock:
        _pending.clear()


def _attempt(key: str, *, repeat: bool) -> None:
    if not settings.CDN_PURGE:
        return
    try:
        _configured_purger()(key)
    except Exception as error:  # whatever the CDN or the hook does, the write stands
        log.warning("CDN purge of %s failed (%s); it will be tried again", key, error)
        _schedule(key, policy.CDN_PURGE_RETRY_SECONDS)
    else:
        if repeat:
            _schedule(key, policy.CDN_REPEAT_PURGE_SECONDS)


def _schedule(key: str, seconds: float) -> None:
    due = clock.monotonic() + seconds
    with _lock:
        _pending[key] = min(_pending.get(key, due), due)


def _configured_purger() -> Callable[[str], None]:
    global _purger, _purger_for
    target = settings.CDN_PURGE
    if _purger is None or _purger_for != target:
        _purger = _http_purger(target) if "://" in target else import_string(target)
        _purger_for = target
    return _purger


class PurgeRefused(Exception):
    """The CDN's purge API answered with something other than 2xx."""


def _http_purger(url_template: str) -> Callable[[str], None]:
    if "{key}" not in url_template:
        raise ValueError("CDN_PURGE must hold {key} (or be the dotted path of a callable)")

    def purge_by_url(key: str) -> None:
        headers = {}
        if settings.CDN_PURGE_HEADER:
            name, _, value = settings.CDN_PURGE_HEADER.partition(":")
            headers[name.strip()] = value.strip()
        url = url_template.replace("{key}", urllib.request.quote(key, safe=""))
        request = urllib.request.Request(url, method=settings.CDN_PURGE_METHOD, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=policy.cdn_purge_timeout()) as answer:
                status = answer.status
        except urllib.error.HTTPError as error:
            status = error.code
        if not 200 <= status < 300:
            raise PurgeRefused(f"{settings.CDN_PURGE_METHOD} {url} answered {status}")

    return purge_by_url


def _purge_setting_changed(*, setting, **kwargs) -> None:
    global _purger
    if setting.startswith("CDN_"):
        _purger = None


setting_changed.connect(_purge_setting_changed)
