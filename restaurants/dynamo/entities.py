"""Typed entities built from (and turned into) table items."""

import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Generic, TypeVar

from . import item_keys
from .errors import Unreadable

T = TypeVar("T")
log = logging.getLogger(__name__)

# What building an entity raises for an item another client wrote in another shape.
ITEM_SHAPE_ERRORS = (KeyError, TypeError, ValueError)


def entity_from_item(build: Callable[[dict], T], item: dict) -> T:
    """``build(item)``, or ``Unreadable`` (a NotFound) with a log line naming the item."""
    try:
        return build(item)
    except ITEM_SHAPE_ERRORS as error:
        log.warning("Item %s / %s cannot be read (%r).", item.get("PK"), item.get("SK"), error)
        raise Unreadable(f"{item.get('PK')} cannot be shown: its item in the table is incomplete.") from error


STAR_ATTRIBUTES = ("five_stars", "four_stars", "three_stars", "two_stars", "one_stars")


def text_attribute(item: dict, name: str) -> str:
    """A string attribute an entity needs (KeyError if missing, TypeError if
    another client stored something else there)."""
    value = item[name]
    if not isinstance(value, str):
        raise TypeError(f"{name} is {type(value).__name__}, not a string")
    return value


def shown_attribute(item: dict, name: str) -> str:
    """An attribute a page only shows (a restaurant's cuisine, its address),
    as text whatever another client stored there (``shown_text``), logged
    when it was not text. Showing it is better than hiding the restaurant,
    and every caller (a page's version hash, the board's cuisine filter, the
    cuisine index) can count on a string."""
    value = item.get(name, "")
    text = shown_text(value)
    if not isinstance(value, str):
        kind = type(value).__name__
        log.warning("Item %s / %s: %s is %s, shown as %r.", item.get("PK"), item.get("SK"), name, kind, text)
    return text


def shown_text(value: object) -> str:
    """A string as it is, a number as written, a list or set by its strings
    and numbers joined with ", ", anything else (a map, true/false, null,
    binary) as missing."""
    if isinstance(value, list):
        return ", ".join(filter(None, map(_as_text, value)))
    return _as_text(value)


def _as_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return str(value)
    return ""


def rating_attribute(item: dict) -> int:
    """A review's rating: a whole number from 1 to 5. A string, a map or a
    number out of range is another client's shape, not a rating to guess at
    (ValueError or TypeError)."""
    rating = item["rating"]
    if isinstance(rating, bool) or not isinstance(rating, int):
        raise TypeError(f"rating is {type(rating).__name__}, not a whole number")
    if not 1 <= rating <= 5:
        raise ValueError(f"rating {rating} is not from 1 to 5")
    return rating


def cuisine_names(stored: object) -> tuple[list[str], list]:
    """The cuisines in the cuisine list's ``cuisines`` attribute, sorted, and
    the values in it that are none. We write a string set; another client may
    have rewritten it as a list holding a number, a map, a single string."""
    values = [stored] if isinstance(stored, str) else stored if isinstance(stored, list) else [stored]
    usable = [value for value in values if isinstance(value, str) and value]
    return sorted(set(usable)), [value for value in values if not (isinstance(value, str) and value)]


def star_attribute(rating: int) -> str:
    """The restaurant counter a rating of 1..5 increments."""
    return STAR_ATTRIBUTES[5 - rating]


@dataclass(frozen=True)
class StarCounts:
    five: int = 0
    four: int = 0
    three: int = 0
    two: int = 0
    one: int = 0

    @classmethod
    def from_item(cls, item: dict) -> "StarCounts":
        return cls(*(int(item.get(name, 0)) for name in STAR_ATTRIBUTES))

    def by_rating(self) -> list[tuple[int, int]]:
        """(rating, count) pairs from 5 stars down to 1."""
        return [(5, self.five), (4, self.four), (3, self.three), (2, self.two), (1, self.one)]

    @property
    def total(self) -> int:
        return self.five + self.four + self.three + self.two + self.one

    @property
    def average(self) -> float | None:
        if not self.total:
            return None
        return sum(rating * count for rating, count in self.by_rating()) / self.total


@dataclass(frozen=True)
class Restaurant:
    name: str
    cuisine: str
    address: str
    stars: StarCounts = field(default_factory=StarCounts)

    @classmethod
    def from_item(cls, item: dict) -> "Restaurant":
        return cls(
            name=restaurant_name(item),
            cuisine=shown_attribute(item, "cuisine"),
            address=shown_attribute(item, "address"),
            stars=StarCounts.from_item(item),
        )

    @property
    def review_count(self) -> int:
        return self.stars.total

    @property
    def average_rating(self) -> float | None:
        return self.stars.average


def restaurant_name(item: dict) -> str:
    """The restaurant's name is its key's (``REST#<name>``): its page, its
    reviews and every index find it by that. Another client that edits the
    ``name`` attribute alone has not renamed it (that takes new item_keys for the
    item and its reviews), so the attribute is only checked to be there, and
    a different one is logged; shown, it would link to a page that is not
    there. (An item without a PK, as a test builds one, goes by ``name``.)"""
    attribute = text_attribute(item, "name")
    pk = item.get("PK")
    if not (isinstance(pk, str) and item_keys.is_restaurant_item(item)):
        return attribute
    name = item_keys.restaurant_name_of(pk)
    if attribute != name:
        log.warning("Item %s has name %r: shown as %r, the name its key gives.", pk, attribute, name)
    return name


def parse_timestamp(value: str) -> dt.datetime:
    """Lab items carry naive ISO timestamps; ours end in +00:00. Both are UTC."""
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Review:
    id: str
    restaurant: str
    username: str
    rating: int
    review: str
    created_at: dt.datetime

    @classmethod
    def from_item(cls, item: dict) -> "Review":
        return cls(
            id=text_attribute(item, "id"),
            restaurant=text_attribute(item, "restaurant"),
            username=text_attribute(item, "username"),
            rating=rating_attribute(item),
            review=text_attribute(item, "review"),
            created_at=parse_timestamp(text_attribute(item, "created_at")),
        )


@dataclass(frozen=True)
class RestaurantSummary:
    """A restaurant with its newest reviews: what its page shows."""

    restaurant: Restaurant
    latest_reviews: list[Review]

    @property
    def version(self) -> str:
        """Changes whenever anything the summary shows changes: fragments
        cached under it expire by key, never by deletion."""
        r = self.restaurant
        parts = [r.name, r.cuisine, r.address, *(str(count) for _, count in r.stars.by_rating())]
        parts += [f"{review.id}:{review.rating}:{review.review}" for review in self.latest_reviews]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None = None


@dataclass(frozen=True)
class ReviewerPage:
    """What a user's page shows: one page of their reviews, newest first, and
    whether they have an account (a profile item) and since when. A lab or
    demo reviewer may have reviews and no profile; a new user a profile and no
    reviews."""

    username: str
    has_account: bool
    joined: dt.datetime | None
    review_count: int
    page: Page[Review]
