"""JSON encoding of cached entities (never pickle).

A cached summary is data, not HTML: it is not keyed by the release, so it
stays warm across deploys. Its encoding carries a format number instead
(``SUMMARY_FORMAT``, bumped when the JSON changes shape): an entry this
release cannot read is a miss (``UnknownFormat``), read again from DynamoDB
and replaced, never an error. Not in the key: two releases side by side
share one key, so a write's one refresh or delete retires the summary for
both (they may replace each other's entries meanwhile, at a Query each).
"""

import datetime as dt
import json

from restaurants.dynamo.entities import Restaurant, RestaurantSummary, Review, StarCounts, shown_text

# Entries from before formats were numbered have format 1's shape.
SUMMARY_FORMAT = 1


class UnknownFormat(ValueError):
    """A cached entry this release cannot read (another format, or damaged): a miss."""


def restaurant_to_dict(restaurant: Restaurant) -> dict:
    return {
        "name": restaurant.name,
        "cuisine": restaurant.cuisine,
        "address": restaurant.address,
        "stars": [count for _, count in restaurant.stars.by_rating()],
    }


def restaurant_from_dict(data: dict) -> Restaurant:
    """As ``Restaurant.from_item`` reads it: a summary cached before the entity
    turned another client's cuisine or address into text may hold a number,
    a list or a map there, and the page's version needs text."""
    return Restaurant(
        name=data["name"],
        cuisine=shown_text(data["cuisine"]),
        address=shown_text(data["address"]),
        stars=StarCounts(*data["stars"]),
    )


def review_to_dict(review: Review) -> dict:
    return {**review.__dict__, "created_at": review.created_at.isoformat()}


def review_from_dict(data: dict) -> Review:
    return Review(**{**data, "created_at": dt.datetime.fromisoformat(data["created_at"])})


def dumps_summary(summary: RestaurantSummary, *, fresh_until: float) -> str:
    return json.dumps(
        {
            "format": SUMMARY_FORMAT,
            "fresh_until": fresh_until,
            "restaurant": restaurant_to_dict(summary.restaurant),
            "reviews": [review_to_dict(review) for review in summary.latest_reviews],
        },
        ensure_ascii=False,
    )


def loads_summary(raw: bytes | str) -> tuple[RestaurantSummary, float]:
    """The summary and until when it is fresh; ``UnknownFormat`` if this release cannot read it."""
    try:
        data = json.loads(raw)
        if data.get("format", 1) != SUMMARY_FORMAT:
            raise UnknownFormat(f"summary format {data.get('format')!r}, this release reads {SUMMARY_FORMAT}")
        summary = RestaurantSummary(
            restaurant=restaurant_from_dict(data["restaurant"]),
            latest_reviews=[review_from_dict(review) for review in data["reviews"]],
        )
        return summary, float(data["fresh_until"])
    except UnknownFormat:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as error:  # JSON of another shape
        raise UnknownFormat(f"unreadable summary: {error!r}") from error
