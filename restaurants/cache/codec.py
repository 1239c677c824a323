"""JSON encoding of cached entities (never pickle)."""

import datetime as dt
import json

from restaurants.dynamo.entities import Restaurant, RestaurantSummary, Review, StarCounts


def restaurant_to_dict(restaurant: Restaurant) -> dict:
    return {
        "name": restaurant.name,
        "cuisine": restaurant.cuisine,
        "address": restaurant.address,
        "stars": [count for _, count in restaurant.stars.by_rating()],
    }


def restaurant_from_dict(data: dict) -> Restaurant:
    return Restaurant(
        name=data["name"], cuisine=data["cuisine"], address=data["address"], stars=StarCounts(*data["stars"])
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
