"""Reads: one function per access pattern, each one DynamoDB request (the
summary takes a second while a review written by the lab's create_review.py
sorts before its restaurant, and a bounded few more while reviews no page can
show sort newest; see ``_restaurant_and_newest_reviews``).

Lists hold items other clients wrote too. An item that makes no entity (a
restaurant without a name, a review whose rating is not a number) is left out
of its list with a log line, never allowed to fail the page that lists it; on
its own page it is ``Unreadable``, a NotFound.
"""

import datetime as dt
import logging
from collections.abc import Callable, Iterable

from . import item_keys
from .client import call
from .cursors import decode_cursor, encode_cursor
from .entities import (
    ITEM_SHAPE_ERRORS,
    Page,
    Restaurant,
    RestaurantSummary,
    Review,
    ReviewerPage,
    cuisine_names,
    entity_from_item,
    parse_timestamp,
)
from .errors import InvalidCursor, NotFound, Rejected, Unreadable
from .items import deserialize

SUMMARY_REVIEW_COUNT = 5

log = logging.getLogger(__name__)


def restaurant_summary_get(*, name: str) -> RestaurantSummary:
    """The restaurant and its newest readable reviews in one GSI1 Query (two
    while a review written by the lab's create_review.py sorts before the
    restaurant; at most ``SUMMARY_READ_ON_QUERIES`` more for each while
    unreadable reviews sort newest)."""
    restaurant, reviews = _restaurant_and_newest_reviews(name, count=SUMMARY_REVIEW_COUNT)
    if restaurant is None:
        raise NotFound(f"No restaurant called “{name}”.")
    return RestaurantSummary(restaurant=entity_from_item(Restaurant.from_item, restaurant), latest_reviews=reviews)


def _restaurant_and_newest_reviews(name: str, *, count: int) -> tuple[dict | None, list[Review]]:
    """The restaurant's item (None if GSI1 has none) and its ``count`` newest readable reviews.

    Descending on GSI1SK the restaurant comes first, then its reviews newest
    first. A review with the lab script's ``REVIEW#<ksuid>`` sorts before the
    restaurant instead, so when the first item is not the restaurant a second
    Query reads from the restaurant down, and the misplaced reviews of the
    first (the newest of their kind, since KSUIDs sort by time) are merged in.

    Reviews another client wrote in a shape no page can show take no place
    among the ``count``: each Query reads on past them (``_read_on``)."""
    key = {"S": item_keys.restaurant_key(name)}
    query = dict(IndexName=item_keys.REVIEWS_INDEX, ScanIndexForward=False)
    params = dict(KeyConditionExpression="GSI1PK = :pk", ExpressionAttributeValues={":pk": key}, **query)
    items = _read_on(params, limit=count + 1, enough=lambda items: _first_read_done(items, count))
    if items and item_keys.is_restaurant_item(items[0]):
        return items[0], _built(Review.from_item, [item for item in items[1:] if item_keys.is_review_item(item)])[
            :count
        ]
    misplaced = [item for item in items if item_keys.is_misplaced_review(item)]
    if not misplaced:  # nothing sorts before the restaurant: it is not there
        return None, _built(Review.from_item, [item for item in items if item_keys.is_review_item(item)])[:count]
    params = dict(
        KeyConditionExpression="GSI1PK = :pk AND GSI1SK <= :restaurant",
        ExpressionAttributeValues={":pk": key, ":restaurant": key},
        **query,
    )
    items = _read_on(params, limit=count + 1, enough=lambda items: _readable_reviews(items[1:]) >= count)
    restaurant = items[0] if items and item_keys.is_restaurant_item(items[0]) else None
    reviews = _built(Review.from_item, [item for item in misplaced + items if item_keys.is_review_item(item)])
    reviews.sort(key=lambda review: review.id, reverse=True)
    return restaurant, reviews[:count]


# Past reviews no page can show, a summary's Query reads on (``_read_on``) at
# most this many times, this many items each: a partition of such items costs
# a page view at most SUMMARY_READ_ON_QUERIES more requests, not a read of it all.
SUMMARY_READ_ON_QUERIES = 2
SUMMARY_READ_ON_LIMIT = 25


def _read_on(params: dict, *, limit: int, enough: Callable[[list[dict]], bool]) -> list[dict]:
    """The items of one Query (``limit`` of them), and more, page by page,
    while ``enough(items)`` is false and the range goes on, within
    ``SUMMARY_READ_ON_QUERIES`` more requests."""
    response = call("Query", Limit=limit, **params)
    items = [deserialize(item) for item in response.get("Items", [])]
    for _ in range(SUMMARY_READ_ON_QUERIES):
        if "LastEvaluatedKey" not in response or enough(items):
            break
        response = call("Query", Limit=SUMMARY_READ_ON_LIMIT, ExclusiveStartKey=response["LastEvaluatedKey"], **params)
        items += [deserialize(item) for item in response.get("Items", [])]
    return items


def _first_read_done(items: list[dict], count: int) -> bool:
    """Whether the summary's first Query has read enough: ``count`` readable
    reviews after the restaurant; or, when the lab script's reviews sort
    before it, ``count`` readable ones of those (the second Query reads from
    the restaurant down), or the end of them."""
    if not items:
        return True
    if item_keys.is_restaurant_item(items[0]):
        return _readable_reviews(items[1:]) >= count
    if not item_keys.is_misplaced_review(items[0]):
        return True  # no restaurant and none of the lab script's reviews: not there
    misplaced = [item for item in items if item_keys.is_misplaced_review(item)]
    return len(misplaced) < len(items) or _readable_reviews(misplaced) >= count


def _readable_reviews(items: list[dict]) -> int:
    """How many of the items are reviews a page can show (unlogged: ``_built``
    logs the others when the summary is made)."""
    readable = 0
    for item in items:
        if item_keys.is_review_item(item):
            try:
                Review.from_item(item)
            except ITEM_SHAPE_ERRORS:
                continue
            readable += 1
    return readable


def restaurant_get(*, name: str, consistent: bool = False) -> Restaurant:
    response = call("GetItem", Key=_key(item_keys.restaurant_item_keys(name)), ConsistentRead=consistent)
    if "Item" not in response:
        raise NotFound(f"No restaurant called “{name}”.")
    return entity_from_item(Restaurant.from_item, deserialize(response["Item"]))


def restaurant_summary_after_write(
    *, name: str, written: Review | None = None, removed_id: str | None = None
) -> RestaurantSummary:
    """The summary as it is right after a review write, for write-through.

    GSI reads are eventually consistent, so the index may not show the write
    yet: counters come from a strongly consistent read of the restaurant item,
    and the written (or removed) review is merged into the newest reviews
    (read one beyond the summary's, in case the removed one is among them)."""
    restaurant = restaurant_get(name=name, consistent=True)
    _, newest = _restaurant_and_newest_reviews(name, count=SUMMARY_REVIEW_COUNT + 1)
    changed = {written.id if written else None, removed_id}
    reviews = [review for review in newest if review.id not in changed]
    if written:
        reviews.append(written)
    reviews.sort(key=lambda review: review.id, reverse=True)
    return RestaurantSummary(restaurant=restaurant, latest_reviews=reviews[:SUMMARY_REVIEW_COUNT])


def restaurant_reviews_list(*, name: str, cursor: str | None = None, page_size: int = 20) -> Page[Review]:
    """A restaurant's reviews, newest first (those written by the lab's
    create_review.py, which sort before the restaurant on GSI1, come first
    until ``upgrade_table --repair`` rewrites them)."""
    scope = f"reviews:{name}"
    params = dict(
        IndexName=item_keys.REVIEWS_INDEX,
        KeyConditionExpression="GSI1PK = :pk",
        ExpressionAttributeValues={":pk": {"S": item_keys.restaurant_key(name)}},
        ScanIndexForward=False,
    )
    return _query_page(
        params, Review.from_item, cursor=cursor, scope=scope, page_size=page_size, keep=item_keys.is_review_item
    )


def user_reviews_list(*, username: str, cursor: str | None = None, page_size: int = 20) -> Page[Review]:
    """A user's reviews, newest first (see ``reviewer_page_get``)."""
    return reviewer_page_get(username=username, cursor=cursor, page_size=page_size).page


# What a user's page needs of the items under USER#<name>: never the profile's
# password hash or email.
_REVIEWER_ATTRIBUTES = ("PK", "SK", "id", "restaurant", "username", "rating", "review", "created_at", "date_joined")


def reviewer_page_get(
    *, username: str, cursor: str | None = None, page_size: int = 20, consistent: bool = False
) -> ReviewerPage:
    """A user's page: their profile (if any) and one page of their reviews,
    newest first (by ``created_at``, then id).

    A user's reviews are stored by restaurant name (``SK = REST#<name>``), and
    one user reviews each restaurant at most once, so the partition holds at
    most one item per restaurant. It is read whole, profile included (``#PROFILE``
    sorts first), with one Query (more only past 1 MB), and sorted here. That
    stays right whoever writes (the lab's scripts, a restore: every review
    carries ``created_at`` and ``id``), needs no index that other clients'
    writes would lack, and can be read consistently, which the owner's view
    of their own page does right after a write. The cursor is the position
    (time, id) of the last review shown, signed.

    ``NotFound`` when there is neither a profile nor a review."""
    scope = f"reviewer:{username}"
    before = _reviewer_position(decode_cursor(cursor, scope=scope))
    names = {f"#a{i}": name for i, name in enumerate(_REVIEWER_ATTRIBUTES)}
    params = dict(
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": item_keys.user_key(username)}},
        ProjectionExpression=", ".join(names),
        ExpressionAttributeNames=names,
        ConsistentRead=consistent,
    )
    profile, review_items = None, []
    while True:
        response = call("Query", **params)
        for item in map(deserialize, response.get("Items", [])):
            if item.get("SK") == item_keys.PROFILE_SK:
                profile = item
            elif item_keys.is_review_key(item.get("PK", ""), item.get("SK", "")):
                review_items.append(item)
        if "LastEvaluatedKey" not in response:
            break
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    if profile is None and not review_items:
        raise NotFound(f"No reviewer called {username}.")
    reviews = sorted(_built(Review.from_item, review_items), key=_newest_first_position, reverse=True)
    if before is not None:
        reviews = [review for review in reviews if _newest_first_position(review) < before]
    shown = reviews[:page_size]
    next_cursor = None
    if len(reviews) > page_size:
        time, review_id = _newest_first_position(shown[-1])
        next_cursor = encode_cursor({"time": time, "id": review_id}, scope=scope)
    return ReviewerPage(
        username=username,
        has_account=profile is not None,
        joined=_joined(profile),
        review_count=len(review_items),
        page=Page(items=shown, next_cursor=next_cursor),
    )


def _newest_first_position(review: Review) -> tuple[str, str]:
    """Sorts reviews by time, then id (KSUIDs sort by time too): UTC ISO text
    compares as the times do."""
    return review.created_at.astimezone(dt.UTC).isoformat(timespec="microseconds"), review.id


def _reviewer_position(position: dict | None) -> tuple[str, str] | None:
    if position is None:
        return None
    time, review_id = position.get("time"), position.get("id")
    if not (isinstance(time, str) and isinstance(review_id, str)):
        raise InvalidCursor("This page link is not valid any more.")
    return time, review_id


def _joined(profile: dict | None) -> dt.datetime | None:
    try:
        return parse_timestamp(profile["date_joined"]) if profile else None
    except (KeyError, TypeError, ValueError):
        return None  # a profile another client wrote without a (readable) date


def restaurant_list(*, cuisine: str | None = None, cursor: str | None = None, page_size: int = 24) -> Page[Restaurant]:
    """Restaurants by name, all of them or one cuisine's, from a sparse index."""
    if cuisine:
        params = dict(
            IndexName=item_keys.CUISINE_INDEX,
            KeyConditionExpression="GSI2PK = :pk",
            ExpressionAttributeValues={":pk": {"S": item_keys.cuisine_key(cuisine)}},
        )
    else:
        params = dict(
            IndexName=item_keys.ALL_RESTAURANTS_INDEX,
            KeyConditionExpression="GSI3PK = :pk",
            ExpressionAttributeValues={":pk": {"S": item_keys.ALL_RESTAURANTS}},
        )
    scope = f"restaurants:{cuisine or ''}"
    return _query_page(params, Restaurant.from_item, cursor=cursor, scope=scope, page_size=page_size)


def restaurant_search(*, prefix: str, cursor: str | None = None, page_size: int = 25) -> Page[Restaurant]:
    """Restaurants whose name starts with ``prefix`` (case-sensitive), by name.

    DynamoDB refuses an empty string in a key condition, so no prefix means
    no ``begins_with`` at all: every restaurant."""
    condition, values = "GSI3PK = :pk", {":pk": {"S": item_keys.ALL_RESTAURANTS}}
    if prefix:
        condition += " AND begins_with(GSI3SK, :prefix)"
        values[":prefix"] = {"S": prefix}
    params = dict(
        IndexName=item_keys.ALL_RESTAURANTS_INDEX, KeyConditionExpression=condition, ExpressionAttributeValues=values
    )
    return _query_page(params, Restaurant.from_item, cursor=cursor, scope=f"search:{prefix}", page_size=page_size)


def restaurant_name_search(*, query: str, cursor: str | None = None, page_size: int = 24) -> Page[Restaurant]:
    """Restaurants whose name, in its normal form, starts with ``query``'s
    (case, accents, punctuation and a leading "the" or "#1" left out: see
    ``normalise``), in that order: one Query on GSI4 per page.

    A query with no letter or digit matches nothing, without a request
    (DynamoDB refuses ``begins_with`` on an empty string). Results carry what
    GSI4 projects (name, cuisine, address), no star counters."""
    prefix = item_keys.name_search_prefix(query)
    if not prefix:
        decode_cursor(cursor, scope="name-search:")  # a bad cursor is still a bad cursor
        return Page(items=[])
    index = item_keys.NAME_SEARCH_INDEX
    params = dict(
        IndexName=index,
        KeyConditionExpression="#pk = :pk AND begins_with(#sk, :prefix)",
        ExpressionAttributeNames={"#pk": f"{index}PK", "#sk": f"{index}SK"},
        ExpressionAttributeValues={":pk": {"S": item_keys.NAME_SEARCH_PARTITION}, ":prefix": {"S": prefix}},
    )
    scope = f"name-search:{prefix}"
    return _query_page(params, Restaurant.from_item, cursor=cursor, scope=scope, page_size=page_size)


def cuisine_list() -> list[str]:
    """The cuisines the filter offers, sorted: the ``cuisines`` string set of
    the ``META``/``CUISINES`` item. The table is shared, so another client may
    have rewritten it in another shape (a list holding a number, a map): the
    strings in it are kept, anything else is left out and logged once per
    process and value, and the list pages stay up."""
    response = call("GetItem", Key=_key(item_keys.CUISINES_ITEM_KEY))
    stored = deserialize(response.get("Item", {})).get("cuisines", [])
    cuisines, unusable = cuisine_names(stored)
    if unusable:
        where = f"The cuisine list ({item_keys.CUISINES_ITEM_KEY})"
        _log_once(f"{where} holds {_shape(unusable)}: left out of the filter.", stored)
    return cuisines


_logged: set[str] = set()  # the odd values logged by this process
_LOGGED_AT_MOST = 100  # values remembered: a client rewriting the item in a loop cannot grow the set


def _log_once(message: str, value: object) -> None:
    """A warning about a value read on every page view, logged the first time
    this process reads it (another value logs again, up to ``_LOGGED_AT_MOST``)."""
    seen = repr(value)[:1000]
    if seen not in _logged and len(_logged) < _LOGGED_AT_MOST:
        _logged.add(seen)
        log.warning(message)


def _shape(values: list) -> str:
    return ", ".join(sorted({repr(value) if value == "" else type(value).__name__ for value in values}))


def _query_page(params: dict, build, *, cursor: str | None, scope: str, page_size: int, keep=None) -> Page:
    """One Query for one page. It asks for one item more than the page holds,
    so the last page is known to be the last and carries no cursor. ``keep``
    drops at most one item of the range (a restaurant among its reviews), so
    one more is asked for."""
    start_key = decode_cursor(cursor, scope=scope)
    if start_key:
        params["ExclusiveStartKey"] = start_key
    try:
        response = call("Query", Limit=page_size + (2 if keep else 1), **params)
    except Rejected as error:
        if start_key:  # DynamoDB checks a start key against the key condition; moto does not
            raise InvalidCursor("This page link is not valid any more.") from error
        raise
    items = response.get("Items", [])
    if keep:
        items = [item for item in items if keep(deserialize(item))]
    next_key = response.get("LastEvaluatedKey")
    if len(items) > page_size:
        items = items[:page_size]
        next_key = {name: items[-1][name] for name in _key_attributes(params.get("IndexName"))}
    return Page(
        items=_built(build, (deserialize(item) for item in items)),
        next_cursor=encode_cursor(next_key, scope=scope),
    )


def _built(build: Callable[[dict], object], items: Iterable[dict]) -> list:
    """The entities of the items that make one; the others are logged and left out."""
    entities = []
    for item in items:
        try:
            entities.append(entity_from_item(build, item))
        except Unreadable:
            pass  # logged; the rest of the list is shown
    return entities


def _key_attributes(index_name: str | None) -> tuple[str, ...]:
    if index_name is None:
        return ("PK", "SK")
    return ("PK", "SK", f"{index_name}PK", f"{index_name}SK")


def _key(plain: dict[str, str]) -> dict:
    return {name: {"S": value} for name, value in plain.items()}
