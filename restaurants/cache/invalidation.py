"""Keeping the caches right after a write (called by the services).

A review write costs a fixed handful of Redis commands, whatever is cached:
one script on the restaurant's slot (store the new summary, bump the
generation, drop its page group), one to retire the author's pages, and on
the lists' slot one read of the board and one script that moves the
restaurant on it and retires just the list and top pages that change
(``catalogue.put``). Fragments need nothing: their keys hold the summary's
version, which just changed.

If Redis is down at that moment, the write is remembered in this process and
applied as soon as Redis answers again, so nothing stale survives an outage.

Writes by anyone else (the lab's scripts, batch jobs, the console) reach us
through the table's stream: ``table_changed`` retires what each changed item
shows, from the item as it was and as it is; only a restaurant's place on the
board is read from DynamoDB (see ``catalogue.put``).
"""

import functools
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings

from restaurants.dynamo import item_keys, reads
from restaurants.dynamo.entities import Restaurant, RestaurantSummary, Review
from restaurants.dynamo.errors import NotFound, Unreadable
from restaurants.dynamo.streams import ItemChange

from .accounts import sessions
from .data import catalogue, summaries, visitors
from .pages.pages import cdn, retire_group
from .plumbing.connection import CacheDown, primary, redis_or_fallback, redis_or_retry_if_moved, wait_for_replicas
from .plumbing.scripts import LuaScript
from .rules import clock, keys, policy

REFRESH_RESTAURANT = LuaScript("refresh_restaurant")

_pending_lock = threading.Lock()
# (restaurant, username) of writes whose invalidation failed; either may be None.
_pending: set[tuple[str | None, str | None]] = set()
_retried_at = float("-inf")  # when a retry of _pending last failed


def review_written(*, restaurant: str, username: str, summary: RestaurantSummary | None) -> None:
    """Write-through after a review was posted, edited or deleted. Without a
    summary (DynamoDB could not be read after the write) the cached one is
    dropped instead, and the next reader loads it."""

    def user() -> None:
        client = primary()
        retire_group(client, keys.user_tag(username))  # bumps the generation before the delete below
        visitors.forget_own_review(client, username, restaurant)

    def lists() -> None:
        if summary:
            catalogue.put(primary(), restaurant, summary.restaurant)
        else:
            catalogue.forget(primary(), restaurant)
        wait_for_replicas(primary())

    if not _applied(lambda: _refresh_restaurant(restaurant, summary), user, lists):
        _remember(restaurant, username)
        _purge_cdn(keys.restaurant_tag(restaurant), keys.user_tag(username), keys.LISTS_TAG)


def _applied(*steps: Callable[[], None]) -> bool:
    """Run a write's invalidation steps; whether all were applied. On one
    server they go together (if it fails, every step would). In a cluster
    each goes on its own: the steps touch several shards, and one shard down
    must not hold back what the others can retire now."""
    if not settings.REDIS_CLUSTER:
        try:
            redis_or_retry_if_moved(lambda: [step() for step in steps])
        except CacheDown:
            return False
        return True
    applied = True
    for step in steps:
        try:
            redis_or_retry_if_moved(step)
        except CacheDown:
            applied = False
    return applied


def restaurant_changed(name: str, restaurant: Restaurant | None = None) -> None:
    """A restaurant's own data changed (or staff purged it): drop what shows
    it (the search pages included), and put ``restaurant`` (as DynamoDB holds it now) on the board, or,
    when it is not known, drop the board."""

    def lists() -> None:
        if restaurant is not None:
            catalogue.put(primary(), name, restaurant)
        else:
            catalogue.forget(primary(), name)

    def search() -> None:
        retire_group(primary(), keys.SEARCH_TAG)

    if not _applied(lambda: _refresh_restaurant(name, None), search, lists):
        _remember(name, None)
        _purge_cdn(keys.restaurant_tag(name), keys.LISTS_TAG)


def _purge_cdn(*tags: str) -> None:
    """Redis could not retire these groups now (it will, once it answers), but
    a CDN in front must not keep showing them meanwhile."""
    for tag in tags:
        cdn.purge(keys.surrogate_key(tag))


def user_changed(username: str) -> None:
    """An account was made or removed: its user page (cached only while it
    showed something: a 404 is never stored) shows whether it exists."""
    try:
        redis_or_retry_if_moved(lambda: retire_group(primary(), keys.user_tag(username)))
    except CacheDown:
        _remember(None, username)


def retry_pending() -> None:
    """Apply invalidations that failed during a Redis outage (and start
    sending the CDN purges that are due, and put right the session copies
    Redis could not be told about)."""
    global _retried_at
    cdn.retry_pending()
    sessions.retry_pending()
    if not _pending or clock.monotonic() - _retried_at < policy.PENDING_RETRY_SECONDS:
        return
    with _pending_lock:
        pending = list(_pending)
        _pending.clear()
    for name, username in pending:
        try:
            # Whatever the circuit says (see ``redis_or_fallback``), at most every PENDING_RETRY_SECONDS.
            with redis_or_fallback(always_try=True):
                if name is not None:
                    _refresh_restaurant(name, None)
                if username:
                    retire_group(primary(), keys.user_tag(username))
                    if name is not None:
                        visitors.forget_own_review(primary(), username, name)
                elif name is not None:  # a restaurant's own data
                    retire_group(primary(), keys.SEARCH_TAG)
                if name is not None:
                    catalogue.forget(primary(), name)
        except CacheDown:
            _remember(name, username)
            _retried_at = clock.monotonic()


def forget_pending() -> None:
    """For tests: nothing waiting to be replayed, as in a new process."""
    global _retried_at
    sessions.forget_pending()
    with _pending_lock:
        _pending.clear()
        _retried_at = float("-inf")


def _refresh_restaurant(name: str, summary: RestaurantSummary | None) -> None:
    tag = keys.restaurant_tag(name)
    REFRESH_RESTAURANT(
        primary(),
        [keys.summary_key(name), keys.generation_key(tag), keys.page_group_key(tag)],
        [
            summaries.encode_for_write_through(summary) if summary else "",
            policy.summary_keep_seconds(),
            policy.generation_seconds(),
        ],
    )
    cdn.purge(keys.surrogate_key(tag))  # its page group was just retired here


def _remember(name: str | None, username: str | None) -> None:
    with _pending_lock:
        _pending.add((name, username))


def table_changed(changes: Iterable[ItemChange]) -> None:
    """Retire what the changed items show, whoever wrote them (the table's
    stream, read by follow_stream or a Lambda).

    A review: its restaurant's summary and pages, its author's pages and
    own-review entry (list pages show the restaurant's counters, which change
    with the restaurant item). A restaurant: its summary and pages, its entry
    on the board as DynamoDB holds it now (one consistent read, unless the
    board shows the change already, e.g. our own write-through), with the list
    pages that change (``catalogue.put``), and the search pages if what they show of it
    changed (not for its star counters). A profile: the cached profile, and the user's
    pages when it appeared or went. The cuisine list: the list pages. A
    summary or profile that
    already shows the change (our own writes put it there) is kept, so our
    writes cost no second DynamoDB read; pages are retired again, which is
    cheap and also covers a page rendered while a GSI still lagged.

    Unlike the functions above, a Redis failure raises ``CacheDown``: the
    caller keeps the changes and applies them again later. Redis is tried
    whatever this process's circuit says: the follower backs off on its own,
    and a circuit opened by a blip would hold every outside write back for
    its whole interval after Redis is back. Every step is
    idempotent, so applying a change twice does no harm."""
    cdn.retry_pending()
    retirements = _Retirements.of(changes)
    if not settings.CACHE_ENABLED or retirements.empty:
        return
    try:
        _retire(retirements)
    except CacheDown:
        _purge_cdn(*retirements.page_groups)  # the CDN is told now; Redis when the batch is applied again
        raise


def keys_changed(pk: str, sk: str) -> None:
    """Retire what an item's keys alone name: the fallback for a stream record
    that could not be applied (its images undecodable, or an item our code
    cannot handle). A restaurant: its summary and pages, the search pages, and
    the board (dropped: the next reader rebuilds it from DynamoDB). A review:
    its restaurant's summary and pages, its author's pages and own-review
    entry. A profile: the cached profile and the user's pages. The cuisine
    list: the list pages. Raises ``CacheDown`` like ``table_changed``."""
    if not settings.CACHE_ENABLED:
        return
    item = {"PK": pk, "SK": sk}
    with redis_or_fallback(always_try=True):  # the follower backs off on its own
        client = primary()
        if item_keys.is_restaurant_item(item):
            name = item_keys.restaurant_name_of(pk)
            _refresh_restaurant(name, None)
            retire_group(client, keys.SEARCH_TAG)
            catalogue.forget(client, name)
        elif item_keys.is_review_key(pk, sk):
            name, username = item_keys.restaurant_name_of(sk), item_keys.username_of(pk)
            _refresh_restaurant(name, None)
            retire_group(client, keys.user_tag(username))
            visitors.forget_own_review(client, username, name)
        elif item_keys.is_profile_key(pk, sk):
            username = item_keys.username_of(pk)
            visitors.profile_changed(client, username, None)
            retire_group(client, keys.user_tag(username))
        elif item == item_keys.CUISINES_ITEM_KEY:
            retire_group(client, keys.LISTS_TAG)
        wait_for_replicas(client)


def _retire(retirements: "_Retirements") -> None:
    with redis_or_fallback(always_try=True):  # the follower backs off on its own
        client = primary()
        # Summaries before pages: a page rendered from a summary about to be
        # dropped is then either stored before its group is retired below, or
        # refused by the generation the retirement bumps.
        for name, change in retirements.summary_changes.items():
            summaries.drop_unless_showing(client, name, change)
        for username, item in retirements.profiles.items():
            visitors.profile_changed(client, username, item)
        for name, new in retirements.board.items():
            catalogue.put(client, name, new, latest=functools.partial(_restaurant_as_stored, name))
        for tag in retirements.page_groups:
            retire_group(client, tag)
        for username, restaurant in retirements.own_reviews:  # after their generation was bumped
            visitors.forget_own_review(client, username, restaurant)
        wait_for_replicas(client)


@dataclass
class _Retirements:
    """Everything a batch of changes retires, each thing once."""

    page_groups: set[str] = field(default_factory=set)
    own_reviews: set[tuple[str, str]] = field(default_factory=set)
    profiles: dict[str, dict | None] = field(default_factory=dict)
    board: dict[str, Restaurant | None] = field(default_factory=dict)  # the last new state
    summary_changes: dict[str, summaries.StreamedChange] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.page_groups or self.profiles)

    @classmethod
    def of(cls, changes: Iterable[ItemChange]) -> "_Retirements":
        retirements = cls()
        for change in changes:
            if change.is_own_checkpoint or change.old == change.new:
                continue
            if item_keys.is_restaurant_item({"PK": change.pk, "SK": change.sk}):
                retirements._restaurant(change)
            elif item_keys.is_review_key(change.pk, change.sk):
                retirements._review(change)
            elif item_keys.is_profile_key(change.pk, change.sk):
                retirements._profile(change)
            elif {"PK": change.pk, "SK": change.sk} == item_keys.CUISINES_ITEM_KEY:
                retirements.page_groups.add(keys.LISTS_TAG)
        return retirements

    def _summary(self, name: str) -> summaries.StreamedChange:
        self.page_groups.add(keys.restaurant_tag(name))
        return self.summary_changes.setdefault(name, summaries.StreamedChange())

    def _restaurant(self, change: ItemChange) -> None:
        name = item_keys.restaurant_name_of(change.pk)
        summary = self._summary(name)
        if _searched_attributes(change.old) != _searched_attributes(change.new):
            self.page_groups.add(keys.SEARCH_TAG)
        restaurant = _restaurant_or_none(change.new)
        if restaurant is None:
            summary.unknown = True
        summary.restaurant = restaurant
        self.board[name] = restaurant

    def _profile(self, change: ItemChange) -> None:
        """The cached profile; and the user's page, which shows whether the
        account exists and since when (not a login's ``last_login``)."""
        username = item_keys.username_of(change.pk)
        self.profiles[username] = change.new
        if (change.old or {}).get("date_joined") != (change.new or {}).get("date_joined"):
            self.page_groups.add(keys.user_tag(username))

    def _review(self, change: ItemChange) -> None:
        name, username = item_keys.restaurant_name_of(change.sk), item_keys.username_of(change.pk)
        summary = self._summary(name)
        self.page_groups.add(keys.user_tag(username))
        self.own_reviews.add((username, name))
        old_id = (change.old or {}).get("id")
        try:
            review = Review.from_item(change.new) if change.new is not None else None
        except (KeyError, TypeError, ValueError):
            summary.unknown = True
            return
        if old_id and (review is None or review.id != old_id):
            summary.written.pop(old_id, None)
            summary.removed.add(old_id)
        if review is not None:
            summary.removed.discard(review.id)
            summary.written[review.id] = review
        elif not old_id:
            summary.unknown = True


def _restaurant_or_none(item: dict | None) -> Restaurant | None:
    try:
        return Restaurant.from_item(item) if item is not None else None
    except (KeyError, TypeError, ValueError):
        return None


def _restaurant_as_stored(name: str) -> Restaurant | None:
    """The restaurant as DynamoDB holds it now (a consistent read), for the
    board; None if it is gone. Raises ``Unavailable`` (the batch is applied
    again) or ``Unreadable`` (the record is skipped: its keys retire the board)."""
    try:
        return reads.restaurant_get(name=name, consistent=True)
    except Unreadable:
        raise
    except NotFound:
        return None


# What a search page shows of a restaurant, and where GSI4 files it: a change
# to anything else (its star counters, on every review) leaves search pages be.
_SEARCHED = (*item_keys.NAME_SEARCH_PROJECTED, f"{item_keys.NAME_SEARCH_INDEX}PK", f"{item_keys.NAME_SEARCH_INDEX}SK")


def _searched_attributes(item: dict | None) -> tuple | None:
    return None if item is None else tuple(item.get(name) for name in _SEARCHED)
