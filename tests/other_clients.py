"""Items written straight into the table, as any program with the table's
credentials could write them: no admin form, no load_items in between."""

from restaurants.dynamo import item_keys
from restaurants.dynamo.client import call
from restaurants.dynamo.items import serialize
from restaurants.dynamo.schema import add_cuisines

SLASHES = "/" * 67  # the name: 201 characters once escaped, one more than a URL segment holds
LONG_USERNAME = "u" * 250


def put_straight(item: dict) -> None:
    call("PutItem", Item=serialize(item))


def put_restaurant(name: str, cuisine: str = "Thai") -> None:
    put_straight(
        {**item_keys.restaurant_index_attributes(name, cuisine), "name": name, "cuisine": cuisine, "address": "x"}
    )
    add_cuisines({cuisine})


def put_review(*, username: str, restaurant: str, **attributes) -> None:
    review_id = "ffff" + "0" * 36
    put_straight(
        {
            **item_keys.review_item_keys(username=username, restaurant=restaurant, review_id=review_id),
            "id": review_id,
            "restaurant": restaurant,
            "username": username,
            "rating": 4,
            "review": "Written by another client.",
            "created_at": "2026-01-01T00:00:00+00:00",
            **attributes,
        }
    )
