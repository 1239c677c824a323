"""The AWS lab's own scripts, as they write to the table: with the low-level
boto3 client and none of our code, so the site sees what another client did.

- ``create_review.py``: the review and its restaurant's counter in one
  transaction, with ``GSI1SK = "REVIEW#<ksuid>"`` (its items.json has
  ``#REVIEW#<ksuid>``).
- ``create_restaurant.py``: a restaurant with the lab's attributes only
  (no GSI2/GSI3, the cuisine not in our cuisine list).
- ``bulk_load_table.py``: every line of items.json put again, as it is
  (counters as the file has them, our index attributes gone).
"""

import boto3
from boto3.dynamodb.types import TypeSerializer
from django.conf import settings

from devtools.chaos.outside import STARS, lab_review_create

_serializer = TypeSerializer()


def _client():
    # boto3's own client, as the lab's scripts make it (endpoint from the environment).
    return boto3.client("dynamodb", region_name=settings.AWS_REGION)


def _table() -> str:
    return settings.DYNAMODB_TABLE


def _typed(item: dict) -> dict:
    return {name: _serializer.serialize(value) for name, value in item.items()}


def create_review(
    *, restaurant: str, username: str, rating: int, review: str, review_id: str | None = None, client=None, table=None
) -> str:
    """``client``/``table``: another DynamoDB than the tests' (``make run``'s)."""
    return lab_review_create(
        client or _client(),
        table=table or _table(),
        restaurant=restaurant,
        username=username,
        rating=rating,
        review=review,
        review_id=review_id,
    )


def create_restaurant(*, name: str, cuisine: str, address: str) -> None:
    item = {
        "PK": f"REST#{name}",
        "SK": f"REST#{name}",
        "GSI1PK": f"REST#{name}",
        "GSI1SK": f"REST#{name}",
        "name": name,
        "cuisine": cuisine,
        "address": address,
        **dict.fromkeys(STARS.values(), 0),
    }
    _client().put_item(TableName=_table(), Item=_typed(item))


def bulk_load(items: list[dict]) -> None:
    table = boto3.resource("dynamodb", region_name=settings.AWS_REGION).Table(_table())
    with table.batch_writer() as batch:
        for item in items:
            batch.put_item(Item=item)
