"""Writes. Each review write is one DynamoDB transaction that moves the review
and its restaurant's star counter together, so counters never drift."""

import dataclasses
import datetime as dt

from . import keys
from .client import call, table_name
from .entities import STAR_ATTRIBUTES, Review, entity_from_item, star_attribute
from .errors import ConditionFailed, InvalidName, NotFound, TransactionCancelled
from .items import deserialize, serialize
from .ksuid import new_ksuid
from .names import restaurant_name_problem
from .schema import add_cuisines

MAX_REVIEW_LENGTH = 5000


class AlreadyReviewed(ConditionFailed):
    """The user has reviewed this restaurant already (one review each)."""


class ChangedMeanwhile(ConditionFailed):
    """The review changed between reading and writing it; reload and retry."""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _restaurant_counter_update(restaurant: str, changes: dict[str, int]) -> dict:
    """An Update action that adds to star counters, only if the restaurant exists."""
    names = {f"#c{i}": attribute for i, attribute in enumerate(changes)}
    values = {f":d{i}": delta for i, delta in enumerate(changes.values())}
    return {
        "Update": {
            "TableName": table_name(),
            "Key": serialize(keys.restaurant_item_keys(restaurant)),
            "UpdateExpression": "ADD " + ", ".join(f"#c{i} :d{i}" for i in range(len(changes))),
            "ConditionExpression": "attribute_exists(PK)",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": serialize(values),
        }
    }


def review_create(*, username: str, restaurant: str, rating: int, text: str, review_id: str | None = None) -> Review:
    review_id = review_id or new_ksuid()
    item = {
        **keys.review_item_keys(username=username, restaurant=restaurant, review_id=review_id),
        "id": review_id,
        "restaurant": restaurant,
        "username": username,
        "rating": rating,
        "review": text,
        "created_at": _now(),
    }
    put = {
        "Put": {
            "TableName": table_name(),
            "Item": serialize(item),
            "ConditionExpression": "attribute_not_exists(PK)",
        }
    }
    try:
        call(
            "TransactWriteItems",
            TransactItems=[put, _restaurant_counter_update(restaurant, {star_attribute(rating): 1})],
        )
    except TransactionCancelled as error:
        already = AlreadyReviewed("You have already reviewed this restaurant.")
        raise _explain(error, first=already, restaurant=restaurant) from error
    return Review.from_item(item)


def review_get(*, username: str, restaurant: str) -> Review:
    response = call(
        "GetItem",
        Key=serialize({"PK": keys.user_key(username), "SK": keys.restaurant_key(restaurant)}),
        ConsistentRead=True,
    )
    if "Item" not in response:
        raise NotFound("You have not reviewed this restaurant.")
    return entity_from_item(Review.from_item, deserialize(response["Item"]))


def review_update(*, review: Review, rating: int, text: str) -> Review:
    """Change a review's text and rating; the counters move in the same
    transaction. ``review`` is the version the user edited: if it changed
    meanwhile, nothing is written and ChangedMeanwhile is raised."""
    update = {
        "Update": {
            "TableName": table_name(),
            "Key": serialize(_review_key(review)),
            "UpdateExpression": "SET rating = :rating, review = :text, updated_at = :now",
            "ConditionExpression": "rating = :old_rating AND id = :id",
            "ExpressionAttributeValues": serialize(
                {":rating": rating, ":text": text, ":now": _now(), ":old_rating": review.rating, ":id": review.id}
            ),
        }
    }
    actions = [update]
    if rating != review.rating:
        actions.append(
            _restaurant_counter_update(
                review.restaurant, {star_attribute(review.rating): -1, star_attribute(rating): 1}
            )
        )
    try:
        call("TransactWriteItems", TransactItems=actions)
    except TransactionCancelled as error:
        changed = ChangedMeanwhile("This review changed meanwhile.")
        raise _explain(error, first=changed, restaurant=review.restaurant) from error
    return dataclasses.replace(review, rating=rating, review=text)


def review_delete(*, review: Review) -> None:
    delete = {
        "Delete": {
            "TableName": table_name(),
            "Key": serialize(_review_key(review)),
            "ConditionExpression": "rating = :old_rating AND id = :id",
            "ExpressionAttributeValues": serialize({":old_rating": review.rating, ":id": review.id}),
        }
    }
    try:
        call(
            "TransactWriteItems",
            TransactItems=[delete, _restaurant_counter_update(review.restaurant, {star_attribute(review.rating): -1})],
        )
    except TransactionCancelled as error:
        changed = ChangedMeanwhile("This review changed meanwhile.")
        raise _explain(error, first=changed, restaurant=review.restaurant) from error


def _review_key(review: Review) -> dict:
    return {"PK": keys.user_key(review.username), "SK": keys.restaurant_key(review.restaurant)}


def _explain(error: TransactionCancelled, *, first: Exception, restaurant: str) -> Exception:
    """Name the reason a two-action review transaction was cancelled."""
    failed = error.failed_action()
    if failed == 0:
        return first
    if failed == 1:
        return NotFound(f"No restaurant called “{restaurant}”.")
    return error


class RestaurantExists(ConditionFailed):
    """A restaurant with that name already exists."""


def restaurant_create(*, name: str, cuisine: str, address: str) -> None:
    """``InvalidName`` for a name that breaks the name rule: whoever calls this,
    no such name becomes a key."""
    if problem := restaurant_name_problem(name):
        raise InvalidName(problem)
    item = {
        **keys.restaurant_index_attributes(name, cuisine),
        "name": name,
        "cuisine": cuisine,
        "address": address,
        **dict.fromkeys(STAR_ATTRIBUTES, 0),
    }
    try:
        call("PutItem", Item=serialize(item), ConditionExpression="attribute_not_exists(PK)")
    except ConditionFailed as error:
        raise RestaurantExists(f"A restaurant called “{name}” already exists.") from error
    add_cuisines({cuisine})


def restaurant_update(*, name: str, cuisine: str, address: str) -> None:
    """Change cuisine and address. The name is part of every key that refers
    to the restaurant (its reviews' SK and GSI1PK), so it cannot change."""
    try:
        call(
            "UpdateItem",
            Key=serialize(keys.restaurant_item_keys(name)),
            UpdateExpression="SET cuisine = :cuisine, address = :address, GSI2PK = :by_cuisine",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues=serialize(
                {":cuisine": cuisine, ":address": address, ":by_cuisine": keys.cuisine_key(cuisine)}
            ),
        )
    except ConditionFailed as error:
        raise NotFound(f"No restaurant called “{name}”.") from error
    add_cuisines({cuisine})
