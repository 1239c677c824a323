"""The list pages as offsets into the sorted board, and which of them a write changes.

Every list page (all restaurants or one cuisine's, by name, rating or number
of reviews, 24 a page) and every top page (the 20 best-scored, overall or in
one cuisine) is a slice of the board (``leaderboard.py``) in one order. So the
board tells how many pages there are ("25-48 of 240"), and, when a write moves
one restaurant, exactly which pages differ afterwards: those whose slice
differs, found by comparing the slices before and after (a few sorts of a few
hundred entries, well under a millisecond).

``put`` is the only way a restaurant's numbers reach the board: in one script
it writes the entry (and its journal record, see ``leaderboard``), bumps the
lists' generation (so no page rendered from the board as it was is stored
after) and deletes just the changed pages' fields from the lists' page group
(for every release that stored pages there, so a rolling deploy's two agree);
and it does so only if the generation is still the one read with the board,
so the pages it retires were computed from the board it changes. A write that
loses that race reads again. Nothing else changes a list page: a review only
moves its restaurant's numbers, and the site-wide mean moves only with a
rebuild, whose publish retires every list page.
"""

import logging
from collections.abc import Callable, Iterable

from django.conf import settings
from django.urls import reverse

from restaurants.dynamo.entities import Restaurant

from ..pages import cdn
from ..pages.pages import page_field
from ..plumbing.scripts import LuaScript
from ..rules import clock, keys, policy
from . import leaderboard
from .leaderboard import Entry

log = logging.getLogger(__name__)

PER_PAGE = 24
TOP_COUNT = 20
PUT_TRIES = 5
EVERY_PAGE = "*"

# The orders a list can be sorted in: the default first. Ties go by name.
SORTS: dict[str, Callable[[Entry], tuple]] = {
    "name": lambda entry: (entry.name,),
    "rating": lambda entry: (-entry.score, entry.name),
    "reviews": lambda entry: (-entry.review_count, entry.name),
}
DEFAULT_SORT = "name"

PUT_ENTRY = LuaScript("put_board_entry")
DROP_BOARD = LuaScript("drop_board")


# --- Reading: sorting and paging --------------------------------------------------


def in_cuisine(entries: Iterable[Entry], cuisine: str | None) -> list[Entry]:
    return [entry for entry in entries if not cuisine or entry.cuisine == cuisine]


def ordered(entries: Iterable[Entry], sort: str) -> list[Entry]:
    return sorted(entries, key=SORTS[sort])


def page_count(total: int) -> int:
    """Pages of a list of ``total`` (an empty list still has its first page)."""
    return max(1, -(-total // PER_PAGE))


def page_slice(entries: list[Entry], number: int) -> list[Entry]:
    return entries[(number - 1) * PER_PAGE : number * PER_PAGE]


# --- Which pages a change retires -----------------------------------------------


def list_fields(cuisine: str, sort: str, number: int) -> list[str]:
    """The page-cache fields of one list page: its address, and the same page
    asked for with the defaults spelled out (``?sort=name``, ``?page=1``)."""
    sorts = ["", sort] if sort == DEFAULT_SORT else [sort]
    numbers = ["", "1"] if number == 1 else [str(number)]
    path = reverse("restaurants:list")
    return [page_field(path, {"cuisine": cuisine, "sort": s, "page": n}) for s in sorts for n in numbers]


def top_fields(cuisine: str) -> list[str]:
    return [page_field(reverse("restaurants:top"), {"cuisine": cuisine})]


def changed_fields(before: dict[str, Entry], after: dict[str, Entry]) -> set[str]:
    """The page-cache fields of every list and top page that differs between
    the two boards: in the scopes (all restaurants, a cuisine) of a changed
    entry, each page whose slice differs in some order (every page when the
    number of restaurants changed, since each page shows it)."""
    changed = [name for name in before.keys() | after.keys() if before.get(name) != after.get(name)]
    scopes = {""} | {entry.cuisine for name in changed for entry in (before.get(name), after.get(name)) if entry}
    fields: set[str] = set()
    for cuisine in scopes:
        old, new = in_cuisine(before.values(), cuisine), in_cuisine(after.values(), cuisine)
        for sort in SORTS:
            old_order, new_order = ordered(old, sort), ordered(new, sort)
            pages = max(page_count(len(old_order)), page_count(len(new_order)))
            for number in range(1, pages + 1):
                if len(old) != len(new) or page_slice(old_order, number) != page_slice(new_order, number):
                    fields.update(list_fields(cuisine, sort, number))
            if sort == "rating" and old_order[:TOP_COUNT] != new_order[:TOP_COUNT]:
                fields.update(top_fields(cuisine))
    return fields


# --- Writing -------------------------------------------------------------------------


def put(
    client,
    name: str,
    restaurant: Restaurant | None,
    *,
    latest: Callable[[], Restaurant | None] | None = None,
) -> None:
    """Put a restaurant's state as DynamoDB confirmed it (None: removed) on the
    board, retiring exactly the list and top pages that change.

    ``latest``, when given (the stream's changes), reads the restaurant as
    DynamoDB holds it now, and that is what is put, unless the board shows
    ``restaurant`` (the change's own state) already. It is called after the
    board is read, and the put is made only if the board has not moved since,
    so no state older than one another writer put can replace it, however
    the consumers of the stream, and the batches each reads, interleave. (A
    change's state alone cannot be ordered against the board's: a batch can
    span a state the site's write-through or another consumer put.) A board
    that keeps changing is dropped, for the next reader to rebuild."""
    for _ in range(PUT_TRIES):
        board = leaderboard.read_all(client)
        current = board.entries.get(name) if board is not None else None
        target = restaurant
        if latest is not None:
            shown = board is not None and restaurant is not None
            if shown and current == leaderboard.entry_of(restaurant, mean=board.mean):
                return  # shows this change: a later change has a record of its own
            target = latest()
        state = leaderboard.details(target) if target else ""
        record = _journal_record(state or leaderboard.REMOVED)
        if board is None:  # no board: pages shown meanwhile came from DynamoDB; retire them all
            _put(client, "*", name, state, record, [EVERY_PAGE])
            return
        new = leaderboard.entry_of(target, mean=board.mean) if target else None
        if new == current:
            return  # the board shows it already (the stream bringing back our own write)
        after = dict(board.entries)
        if new is None:
            after.pop(name, None)
        else:
            after[name] = new
        if not settings.CACHE_PRECISE_LIST_RETIREMENT:
            fields = [EVERY_PAGE]
        else:
            fields = sorted(changed_fields(board.entries, after))
        if _put(client, board.generation, name, state, record, fields):
            return
    # Putting this state regardless could replace a later one another writer put.
    log.info("The board kept changing under a write to %r: dropping it (and every list page).", name)
    forget(client, name)


def forget(client, name: str) -> None:
    """A write to ``name`` whose result we could not read back: drop the board
    (the next reader rebuilds it from DynamoDB) and every list page, and
    journal "unknown" so a rebuild that overlaps the write is not published."""
    DROP_BOARD(
        client,
        [
            keys.leaderboard_key(),
            keys.leaderboard_details_key(),
            keys.leaderboard_fresh_key(),
            keys.leaderboard_journal_key(),
            keys.generation_key(keys.LISTS_TAG),
            keys.page_group_key(keys.LISTS_TAG),
        ],
        [name, _journal_record(leaderboard.UNKNOWN), policy.journal_seconds(), policy.generation_seconds()],
    )
    _purge_cdn()


def _journal_record(state: str) -> str:
    return f"{clock.now():.3f}|{state}"


def _put(client, generation: str, name: str, state: str, record: str, fields: list[str]) -> bool:
    done = bool(
        PUT_ENTRY(
            client,
            [
                keys.leaderboard_key(),
                keys.leaderboard_details_key(),
                keys.leaderboard_journal_key(),
                keys.generation_key(keys.LISTS_TAG),
                keys.page_group_key(keys.LISTS_TAG),
                keys.page_releases_key(keys.LISTS_TAG),
            ],
            [
                generation,
                name,
                state,
                record,
                policy.journal_seconds(),
                policy.generation_seconds(),
                settings.LEADERBOARD_PRIOR_WEIGHT,
                *fields,
            ],
        )
    )
    if done and fields:
        _purge_cdn()
    return done


def _purge_cdn() -> None:
    """A CDN knows list pages by their group alone (``Surrogate-Key``), so the
    pages retired here one by one are purged there as the whole group."""
    cdn.purge(keys.surrogate_key(keys.LISTS_TAG))
