"""Reads, as the pages and the staff admin need them.

One function per thing a page shows, keyword-only, named ``<entity>_<action>``.
Whether an answer comes from Redis or from DynamoDB is decided here, not in
views: the restaurant summary, the board (top page, and the restaurant list
sorted and paged as offsets into it), a visitor's own review and template
fragments go through ``restaurants.cache`` (which falls back to DynamoDB by
itself); cursor-paged lists (a restaurant's or a user's reviews) go straight
to the model layer, because the anonymous pages that show them are cached
whole by the page cache.

Functions call the model layer through its module (``reads.x``),
never a copied name, so a test that replaces a model-layer read sees every
caller use the replacement.
"""

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from django.conf import settings
from django.contrib.auth import SESSION_KEY

from .cache.accounts import sessions
from .cache.data import catalogue, fragments, leaderboard, page_reads, summaries, visitors
from .cache.data.fragments import Shell as PageShell
from .cache.data.leaderboard import Entry as LeaderboardEntry
from .cache.operations import health
from .cache.plumbing.connection import REDIS_ERRORS, CacheDown
from .cache.plumbing.nodes import ServerHealth
from .cache.rules import clock as cache_clock
from .cache.rules import keys as cache_keys
from .dynamo import audit, reads, writes
from .dynamo import client as dynamo_client
from .dynamo.audit import AuditRecord
from .dynamo.entities import Page, Restaurant, RestaurantSummary, Review, ReviewerPage
from .dynamo.errors import DataError, NotFound, TimedOut

# --- Restaurants ---------------------------------------------------------------


def restaurant_list(*, cuisine: str | None = None, cursor: str | None = None) -> Page[Restaurant]:
    """Restaurants by name, or those of one cuisine, one page at a time."""
    return reads.restaurant_list(cuisine=cuisine, cursor=cursor)


def restaurant_search(*, prefix: str, cursor: str | None = None) -> Page[Restaurant]:
    """Restaurants whose name starts with ``prefix`` (the admin's search)."""
    return reads.restaurant_search(prefix=prefix, cursor=cursor)


def restaurant_name_search(*, query: str, cursor: str | None = None) -> Page[Restaurant]:
    """Restaurants whose name starts with ``query``, ignoring case, accents,
    punctuation and a leading "the" or "#1" (the search page). Straight from
    DynamoDB, one Query per page: the anonymous page is cached whole."""
    return reads.restaurant_name_search(query=query, cursor=cursor)


def cuisine_list() -> list[str]:
    return reads.cuisine_list()


def restaurant_get(*, name: str, consistent: bool = False) -> Restaurant:
    """One restaurant (``NotFound`` if there is none); ``consistent`` for the
    admin's edit form, which must show what the last save wrote."""
    return reads.restaurant_get(name=name, consistent=consistent)


def restaurant_summary_get(*, name: str) -> RestaurantSummary:
    """The restaurant and its newest reviews, from Redis when cached."""
    return summaries.restaurant_summary(name)


def restaurant_fragment_get(*, name: str, fragment: str, version: str, render: Callable[[], str]) -> str:
    """A piece of a restaurant's page shared by every visitor, cached under the
    version of the summary it shows; ``render()`` makes it on a miss."""
    return fragments.get_or_render(
        tag=cache_keys.restaurant_tag(name), fragment=fragment, version=version, render=render
    )


# The orders the restaurant list can be sorted in (the default first).
RESTAURANT_SORTS = tuple(catalogue.SORTS)
DEFAULT_RESTAURANT_SORT = catalogue.DEFAULT_SORT


@dataclass(frozen=True)
class RestaurantPage:
    """One page of the restaurant list, sorted, with where it stands in the whole."""

    entries: list[LeaderboardEntry]
    number: int
    pages: int
    total: int
    sort: str
    cuisine: str | None

    @property
    def first(self) -> int:
        """Position of the page's first restaurant (1-based; 0 on an empty list)."""
        return (self.number - 1) * catalogue.PER_PAGE + 1 if self.entries else 0

    @property
    def last(self) -> int:
        return self.first + len(self.entries) - 1 if self.entries else 0


def restaurant_page_get(*, cuisine: str | None, sort: str, number: int) -> RestaurantPage:
    """Page ``number`` (from 1) of every restaurant, or of one cuisine's, in
    ``sort`` order (one of ``RESTAURANT_SORTS``): offsets into the board, which
    holds every restaurant (Redis; DynamoDB when Redis is down). ``NotFound``
    past the last page."""
    entries, _ = leaderboard.everything()
    chosen = catalogue.ordered(catalogue.in_cuisine(entries, cuisine), sort)
    pages = catalogue.page_count(len(chosen))
    if number > pages:
        raise NotFound(f"There is no page {number} here: the list has {pages} page{'s' if pages > 1 else ''}.")
    return RestaurantPage(catalogue.page_slice(chosen, number), number, pages, len(chosen), sort, cuisine)


@dataclass(frozen=True)
class TopRated:
    """The best-scored restaurants, overall or in one cuisine, and how the score is made."""

    entries: list[LeaderboardEntry]
    mean: float  # the site-wide mean rating each score is pulled toward
    prior_weight: int  # as if every restaurant had this many more reviews at the mean


def top_rated_get(*, cuisine: str | None = None) -> TopRated:
    entries, mean = leaderboard.everything()
    best = catalogue.ordered(catalogue.in_cuisine(entries, cuisine), "rating")[: catalogue.TOP_COUNT]
    return TopRated(best, mean, settings.LEADERBOARD_PRIOR_WEIGHT)


@dataclass(frozen=True)
class RestaurantPageRead:
    """What a restaurant's page shows, read together (``restaurant_page_read``)."""

    name: str
    summary: RestaurantSummary
    visitor: str | None  # the username the reads were made for
    own_review: Review | None  # the visitor's review of the restaurant (None: none, or no visitor)
    shell: PageShell | None  # the page's shared part as cached for this summary and layout; None: render it
    shell_version: str


@contextlib.contextmanager
def restaurant_page_read(*, name: str, session, layout: str) -> Iterator[RestaurantPageRead]:
    """Everything a view of ``name``'s page reads, in one Redis round trip:
    the summary, the page's shell (rendered with templates of ``layout``),
    and for the user the ``session`` names (not yet checked) their own review
    and their profile. Within the block, Django's auth finds that profile
    already read when it checks the session; after it, nobody does.

    A session this process has seen logged in is read in the same round trip,
    with the keys of the user it was seen as; otherwise it is read first.
    Each value is served by the rules of its own cache, exactly as if read
    alone (a stale summary is refreshed, a fenced profile read from DynamoDB)."""
    ahead = sessions.read_ahead_key(session)
    username = ahead[1] if ahead else session.get(SESSION_KEY)
    reads = page_reads.read_restaurant_page(name, username, session_key=ahead and ahead[0])
    if ahead and reads is not None:
        session.read_ahead(reads.session)
    if ahead and session.get(SESSION_KEY) != username:
        # The session is gone, or names another user than this process saw:
        # none of the visitor's reads are theirs (the view and auth read their own).
        username, reads = session.get(SESSION_KEY), reads and replace(reads, profile=None, own_review=None)
    summary = summaries.restaurant_summary(name, cached=reads and reads.summary)
    own_review = None
    if username:
        own_review = own_review_get(username=username, restaurant=name, cached=reads and reads.own_review)
    version = f"{summary.version}.{layout}"
    shell = fragments.shell_from(reads.shell, version=version) if reads else None
    page = RestaurantPageRead(name, summary, username, own_review, shell, version)
    if reads is None or reads.profile is None:
        yield page
        return
    with visitors.profile_read_ahead(username, reads.profile):
        yield page


def restaurant_page_shell_store(*, page: RestaurantPageRead, shell: PageShell) -> None:
    """Keep the shell rendered for ``page`` for the next visitors."""
    fragments.store_shell(cache_keys.restaurant_tag(page.name), shell, version=page.shell_version)


# --- Reviews -------------------------------------------------------------------


def restaurant_reviews_list(*, name: str, cursor: str | None = None) -> Page[Review]:
    return reads.restaurant_reviews_list(name=name, cursor=cursor)


def user_reviews_list(*, username: str, cursor: str | None = None) -> Page[Review]:
    return reads.user_reviews_list(username=username, cursor=cursor)


def reviewer_page_get(*, username: str, cursor: str | None = None, own: bool = False) -> ReviewerPage:
    """A user's page: whether they have an account, since when, and their
    reviews newest first (``NotFound``: no such user). ``own``: the user looks
    at their own page, read consistently, so a write they just made shows."""
    return reads.reviewer_page_get(username=username, cursor=cursor, consistent=own)


def review_get(*, username: str, restaurant: str) -> Review:
    """The review to edit or delete, read consistently (``NotFound`` if none)."""
    return writes.review_get(username=username, restaurant=restaurant)


def own_review_get(*, username: str, restaurant: str, cached: page_reads.Read | None = None) -> Review | None:
    """The visitor's review of the restaurant they look at, or None. Cached per
    visitor, so a logged-in page view costs no DynamoDB request."""

    def load() -> Review | None:
        try:
            return writes.review_get(username=username, restaurant=restaurant)
        except NotFound:
            return None

    return visitors.own_review(username, restaurant, load, cached=cached)


# --- Staff dashboard -----------------------------------------------------------


@dataclass(frozen=True)
class CacheHealth:
    """What the cache dashboard shows. ``error`` says why ``counters`` and
    ``key_counts`` are empty: Redis could not be read, and the dashboard shows
    the outage rather than failing."""

    servers: list[ServerHealth]
    counters: dict[str, dict]
    key_counts: dict[str, int]
    ttl_policy: list[tuple[str, int]]  # (what, seconds)
    error: str = ""


def cache_health_get() -> CacheHealth:
    try:
        counters, key_counts, error = health.counters(), health.namespace_key_counts(), ""
    except (CacheDown, *REDIS_ERRORS) as failure:
        counters, key_counts, error = {}, {}, str(failure)
    return CacheHealth(
        servers=health.servers(), counters=counters, key_counts=key_counts, ttl_policy=health.ttl_policy(), error=error
    )


def audit_record_list(*, limit: int = 20) -> list[AuditRecord]:
    """The latest staff actions, newest first."""
    return audit.audit_latest(limit=limit)


# --- Readiness (load balancers, orchestrators) -----------------------------------

# A check gives up after this long; one that answers after READINESS_SLOW_SECONDS is "slow".
READINESS_TIMEOUT_SECONDS = 2.5
READINESS_SLOW_SECONDS = 1.0
# DynamoDB timing out this many checks in a row (in this process) is "unavailable".
READINESS_TIMEOUTS_UNAVAILABLE = 3
READINESS_CACHE_SECONDS = 2.0
_readiness_lock = threading.Lock()
_readiness: tuple[float, dict] | None = None
_timeouts_in_a_row: dict[str, int] = {}


def readiness_get() -> dict:
    """Whether this process can serve, and the state of each dependency.

    DynamoDB is the truth: without it the site cannot serve ("unavailable",
    503). Anything else short of "ok" leaves the site serving ("degraded",
    200): Redis down only makes it slower (pages come from DynamoDB), and a
    slow dependency is not a dead one.

    Each check is ``ok``, ``slow`` (it answered, after READINESS_SLOW_SECONDS:
    a loaded machine or a busy DynamoDB), ``timeout`` (no answer within
    READINESS_TIMEOUT_SECONDS) or ``down`` (an error answer: refused, no such
    table, no permission). DynamoDB ``down`` is unavailable at once; its
    timeouts only when READINESS_TIMEOUTS_UNAVAILABLE checks in a row had no
    answer (any answer starts the count again), because one stall under load
    must not take a serving instance out of the load balancer, while a
    DynamoDB that never answers must. Probes arrive every few seconds from
    every load balancer node, so the answer is kept for a moment and a probe
    storm costs nothing."""
    global _readiness
    now = cache_clock.monotonic()
    with _readiness_lock:
        if _readiness and now - _readiness[0] < READINESS_CACHE_SECONDS:
            return _readiness[1]
        checks = {"dynamodb": _check("dynamodb", lambda: dynamo_client.probe_table(timeout=READINESS_TIMEOUT_SECONDS))}
        for alias in settings.CACHES:
            checks[f"redis:{alias}"] = _check(f"redis:{alias}", lambda alias=alias: health.probe(alias))
        dynamodb = checks["dynamodb"]
        if dynamodb["state"] == "down" or dynamodb.get("timeouts", 0) >= READINESS_TIMEOUTS_UNAVAILABLE:
            status = "unavailable"
        elif any(check["state"] != "ok" for check in checks.values()):
            status = "degraded"
        else:
            status = "ok"
        _readiness = (now, {"status": status, "checks": checks})
        return _readiness[1]


def _check(name: str, probe: Callable[[], None]) -> dict:
    started = cache_clock.monotonic()
    try:
        probe()
    except (TimedOut, *health.TIMEOUTS) as error:
        _timeouts_in_a_row[name] = _timeouts_in_a_row.get(name, 0) + 1
        return {
            "state": "timeout",
            "error": type(error).__name__,
            "ms": _ms_since(started),
            "timeouts": _timeouts_in_a_row[name],
        }
    except (DataError, *REDIS_ERRORS) as error:
        _timeouts_in_a_row.pop(name, None)
        return {"state": "down", "error": type(error).__name__, "ms": _ms_since(started)}
    _timeouts_in_a_row.pop(name, None)
    ms = _ms_since(started)
    return {"state": "slow" if ms >= READINESS_SLOW_SECONDS * 1000 else "ok", "ms": ms}


def _ms_since(started: float) -> float:
    return round((cache_clock.monotonic() - started) * 1000, 1)
