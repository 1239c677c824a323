"""JSON encoding of cached entities (never pickle)."""

import datetime as dt
import json

from restaurants.dynamo.entities import Restaurant, RestaurantSummary, Review, StarCounts, shown_text


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
            "fresh_until": fresh_until,
            "restaurant": restaurant_to_dict(summary.restaurant),
            "reviews": [review_to_dict(review) for review in summary.latest_reviews],
        },
        ensure_ascii=False,
    )


def loads_summary(raw: bytes | str) -> tuple[RestaurantSummary, float]:
    data = json.loads(raw)
    summary = RestaurantSummary(
        restaurant=restaurant_from_dict(data["restaurant"]),
        latest_reviews=[review_from_dict(review) for review in data["reviews"]],
    )
    return summary, data["fresh_until"]
