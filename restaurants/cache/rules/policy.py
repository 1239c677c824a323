"""Every cache lifetime and wait in one place (most values come from settings)."""

from django.conf import settings

# How long a write waits for the read replicas to have its invalidation (and a
# restarted primary's check, its new marker), in milliseconds as Redis's WAIT
# takes it: well under the socket timeout (REDIS_SOCKET_TIMEOUT, 0.5 s).
REPLICA_WAIT_MS = 200
# How often each connection checks that its server is still what it was
# (restarts._watch: the primary, or a replica in sync), and so how long a
# write waits before it answers when a replica did not confirm it within
# REPLICA_WAIT_MS or its primary had moved (connection.wait_for_replicas,
# connection.redis_or_retry_if_moved).
REPLICA_CHECK_SECONDS = 0.25
# How often a process tries again the invalidations Redis refused it
# (invalidation.retry_pending), whatever its circuit says.
PENDING_RETRY_SECONDS = 0.25


def summary_fresh_seconds() -> int:
    """How long a summary is served as fresh (the lab's cache-aside TTL)."""
    return settings.CACHE_TTL_SUMMARY


def summary_keep_seconds() -> int:
    """How long Redis keeps a summary: fresh time plus a stale window, used
    to serve while one request refreshes, or when DynamoDB fails."""
    return settings.CACHE_TTL_SUMMARY + settings.CACHE_STALE_SECONDS


def page_seconds() -> int:
    return settings.CACHE_TTL_PAGE


def page_cache_control() -> str:
    """``Cache-Control`` of an anonymous cached page.

    Browsers: ``max-age=0``, so they revalidate every view with the page's
    ETag (a 304 from the WSGI front). Shared caches (a CDN): ``s-maxage``,
    and RFC 5861's ``stale-if-error`` / ``stale-while-revalidate``, only when
    our writes purge the CDN (``CDN_PURGE``): a page a CDN keeps must be one a
    write can take back. Without a purge, s-maxage=0 and must-revalidate: the
    CDN may store the page but asks us (with the ETag) every time.

    ``stale-while-revalidate`` is off (0) unless set: browsers honour it too
    (Chrome, Firefox), and a browser's copy is never purged, so it would show
    a page older than a write; set it only where the CDN keeps it from browsers."""
    if not settings.CDN_PURGE:
        return "public, max-age=0, must-revalidate, s-maxage=0"
    directives = ["public", "max-age=0", f"s-maxage={settings.CDN_S_MAXAGE}"]
    if settings.CDN_STALE_WHILE_REVALIDATE:
        directives.append(f"stale-while-revalidate={settings.CDN_STALE_WHILE_REVALIDATE}")
    if settings.CDN_STALE_IF_ERROR:
        directives.append(f"stale-if-error={settings.CDN_STALE_IF_ERROR}")
    return ", ".join(directives)


def cdn_purge_timeout() -> float:
    return settings.CDN_PURGE_TIMEOUT


CDN_PURGE_RETRY_SECONDS = 5.0  # a failed purge is tried again at the next chance after this
# A purge is sent twice: right after the write's retirement, and again this much later, for a
# page a CDN was fetching from us while the first purge passed it (it would keep the old page).
CDN_REPEAT_PURGE_SECONDS = 2.0


def fragment_seconds() -> int:
    return settings.CACHE_TTL_FRAGMENT


def leaderboard_seconds() -> int:
    """How long the leaderboard is fresh; then the next reader rebuilds it
    from DynamoDB (timed refresh)."""
    return settings.CACHE_TTL_LEADERBOARD


def leaderboard_keep_seconds() -> int:
    """How long Redis keeps the leaderboard: fresh time plus the stale window,
    so readers are served the previous board while one request rebuilds it."""
    return settings.CACHE_TTL_LEADERBOARD + settings.CACHE_STALE_SECONDS


def journal_seconds() -> int:
    """How long the board's journal of writes is kept after the last one: a
    rebuild lays the records made since shortly before it began over what it
    read, and a rebuild takes well under this (its lock lasts a minute)."""
    return 600


def profile_seconds() -> int:
    """User profiles, read by auth on every logged-in request."""
    return 300


def fence_seconds() -> int:
    """How long a fenced profile stays fenced if the save that fenced it never
    lifts the fence: longer than any DynamoDB write may take (timeouts, retries)."""
    return 120


def generation_seconds() -> int:
    # Longer than any page or summary it guards.
    return max(summary_keep_seconds(), page_seconds(), leaderboard_seconds()) + 3600


LOCK_MILLISECONDS = 5000  # a refresh holding a lock longer than this has died
LOCK_WAIT_SECONDS = 2.0  # how long a request waits for another's refresh
LOCK_POLL_SECONDS = 0.02
LEADERBOARD_LOCK_MILLISECONDS = 60_000  # a rebuild reads every restaurant
