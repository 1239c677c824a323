"""Writes by other clients of the shared table: boto3 straight to DynamoDB,
none of the site's code, so only ``follow_stream`` can tell the caches.

``lab_review_create`` is the AWS lab's create_review.py (the review and its
restaurant's star counter in one transaction); ``hostile_items`` are what a
careless client leaves behind: a cuisine that is a number or a list, an
address that is a map, a review rated with a word.
"""

import datetime as dt

import boto3
from boto3.dynamodb.types import TypeSerializer

from restaurants.dynamo.ksuid import new_ksuid

STARS = {5: "five_stars", 4: "four_stars", 3: "three_stars", 2: "two_stars", 1: "one_stars"}
_serializer = TypeSerializer()


def client(endpoint_url: str, config=None):
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint_url,
        config=config,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _typed(item: dict) -> dict:
    return {name: _serializer.serialize(value) for name, value in item.items()}


def _restaurant(name: str, **attributes) -> dict:
    keys = {"PK": f"REST#{name}", "SK": f"REST#{name}", "GSI1PK": f"REST#{name}", "GSI1SK": f"REST#{name}"}
    return {**keys, "name": name, **dict.fromkeys(STARS.values(), 0), **attributes}


def lab_review_create(
    dynamodb, *, table: str, restaurant: str, username: str, rating: int, review: str, review_id: str | None = None
) -> str:
    """As the lab's create_review.py writes it (``GSI1SK = "REVIEW#<ksuid>"``);
    the review's id. Also the tests' ``lab_scripts.create_review``."""
    review_id = review_id or new_ksuid()
    item = {
        "PK": f"USER#{username}",
        "SK": f"REST#{restaurant}",
        "GSI1PK": f"REST#{restaurant}",
        "GSI1SK": f"REVIEW#{review_id}",
        "id": review_id,
        "restaurant": restaurant,
        "username": username,
        "rating": rating,
        "review": review,
        "created_at": dt.datetime.now().isoformat(),
    }
    counter = {
        "TableName": table,
        "Key": _typed({"PK": f"REST#{restaurant}", "SK": f"REST#{restaurant}"}),
        "ConditionExpression": "attribute_exists(PK)",
        "UpdateExpression": "SET #stars = #stars + :inc",
        "ExpressionAttributeNames": {"#stars": STARS[rating]},
        "ExpressionAttributeValues": {":inc": {"N": "1"}},
    }
    put = {"TableName": table, "Item": _typed(item), "ConditionExpression": "attribute_not_exists(PK)"}
    dynamodb.transact_write_items(TransactItems=[{"Put": put}, {"Update": counter}])
    return review_id


def hostile_items(prefix: str) -> list[dict]:
    """Three restaurants of odd types and a review rated with a word, named with ``prefix``."""
    rated = f"{prefix} rated"
    review = {
        "PK": "USER#chaos-outsider",
        "SK": f"REST#{rated}",
        "GSI1PK": f"REST#{rated}",
        "GSI1SK": f"REVIEW#{new_ksuid()}",
        "restaurant": rated,
        "username": "chaos-outsider",
        "rating": "five",
        "review": "Rated with a word by another client.",
        "created_at": "2026-01-01T00:00:00",
    }
    return [
        _restaurant(f"{prefix} number", cuisine=7, address="7 Number Road"),
        _restaurant(f"{prefix} list", cuisine=["Thai", "Diner"], address="2 List Lane"),
        _restaurant(f"{prefix} map", cuisine="Diner", address={"street": "1 Map Way", "city": "Seattle"}),
        _restaurant(rated, cuisine="Diner", address="5 Word Street"),
        review,
    ]


def put_items(dynamodb, *, table: str, items: list[dict]) -> None:
    for item in items:
        dynamodb.put_item(TableName=table, Item=_typed(item))
