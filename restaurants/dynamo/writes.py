"""Writes. Each review write is one DynamoDB transaction that moves the review
and its restaurant's star counter together, so counters never drift.

A write can succeed and still look failed to its author: the answer is lost
to a timeout, the SDK retries, the author posts the form again. So each review
write may name the form *submission* it comes from (a KSUID made when the form
was shown): the transaction's ClientRequestToken is derived from it, and so
are the review's id and times, so a retry sends the same request and DynamoDB
applies it once (for ten minutes). Past that, or when a retry is not quite the
same request, a failed condition is checked against what is stored: if the
review already is what the author asked for, that is their own write, and
they are told it succeeded. A transaction cancelled by another one on the same
items (TransactionConflict) is retried a few times with jittered backoff.
"""

import dataclasses
import datetime as dt
import hashlib

from restaurants.waiting import retrying

from . import item_keys
from .client import call, table_name
from .entities import STAR_ATTRIBUTES, Review, entity_from_item, star_attribute
from .errors import ConditionFailed, InvalidName, NotFound, TokenReused, TransactionCancelled, Unavailable
from .items import deserialize, serialize
from .ksuid import ksuid_time, new_ksuid
from .names import restaurant_name_problem
from .schema import add_cuisines

MAX_REVIEW_LENGTH = 5000
CONFLICT_ATTEMPTS = 4
CONFLICT_BACKOFF_SECONDS = 0.05  # doubled per attempt, jittered


class AlreadyReviewed(ConditionFailed):
    """The user has reviewed this restaurant already (one review each)."""


class ChangedMeanwhile(ConditionFailed):
    """The review changed between reading and writing it; reload and retry."""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _time_of(submission: str | None) -> str:
    """A write's time: its submission's, so that a retry sends the very same request."""
    return ksuid_time(submission).isoformat(timespec="seconds") if submission else _now()


def _token(action: str, submission: str | None) -> str | None:
    """A ClientRequestToken (at most 36 characters) for one action of one submission."""
    if not submission:
        return None
    return hashlib.sha256(f"{action}:{submission}".encode()).hexdigest()[:36]


def _transact(actions: list[dict], *, token: str | None) -> None:
    """One TransactWriteItems, retried while another transaction holds the same
    items (the same token keeps the retries idempotent)."""
    params: dict = {"TransactItems": actions}
    if token:
        params["ClientRequestToken"] = token
    for attempt in retrying(attempts=CONFLICT_ATTEMPTS, first=CONFLICT_BACKOFF_SECONDS, jitter=True):
        try:
            call("TransactWriteItems", **params)
            return
        except TransactionCancelled as error:
            if "TransactionConflict" not in error.reasons:
                raise
            if attempt == CONFLICT_ATTEMPTS - 1:
                raise Unavailable("Other changes to the same restaurant kept conflicting with this one.") from error


def _restaurant_counter_update(restaurant: str, changes: dict[str, int]) -> dict:
    """An Update action that adds to star counters, only if the restaurant exists."""
    names = {f"#c{i}": attribute for i, attribute in enumerate(changes)}
    values = {f":d{i}": delta for i, delta in enumerate(changes.values())}
    return {
        "Update": {
            "TableName": table_name(),
            "Key": serialize(item_keys.restaurant_item_keys(restaurant)),
            "UpdateExpression": "ADD " + ", ".join(f"#c{i} :d{i}" for i in range(len(changes))),
            "ConditionExpression": "attribute_exists(PK)",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": serialize(values),
        }
    }


def review_create(*, username: str, restaurant: str, rating: int, text: str, submission: str | None = None) -> Review:
    review_id = submission or new_ksuid()
    item = {
        **item_keys.review_item_keys(username=username, restaurant=restaurant, review_id=review_id),
        "id": review_id,
        "restaurant": restaurant,
        "username": username,
        "rating": rating,
        "review": text,
        "created_at": _time_of(submission),
    }
    put = {
        "Put": {
            "TableName": table_name(),
            "Item": serialize(item),
            "ConditionExpression": "attribute_not_exists(PK)",
        }
    }
    actions = [put, _restaurant_counter_update(restaurant, {star_attribute(rating): 1})]
    try:
        _transact(actions, token=_token("create", submission))
    except (TransactionCancelled, TokenReused) as error:
        stored = _stored_review(username, restaurant)
        if submission and stored and stored.id == review_id:
            return stored  # this very submission was saved before: its own retry
        if isinstance(error, TokenReused):
            raise AlreadyReviewed("You have already reviewed this restaurant.") from error
        already = AlreadyReviewed("You have already reviewed this restaurant.")
        raise _explain(error, first=already, restaurant=restaurant) from error
    return Review.from_item(item)


def _stored_review(username: str, restaurant: str) -> Review | None:
    try:
        return review_get(username=username, restaurant=restaurant)
    except NotFound:
        return None


def review_get(*, username: str, restaurant: str) -> Review:
    response = call(
        "GetItem",
        Key=serialize({"PK": item_keys.user_key(username), "SK": item_keys.restaurant_key(restaurant)}),
        ConsistentRead=True,
    )
    if "Item" not in response:
        raise NotFound("You have not reviewed this restaurant.")
    return entity_from_item(Review.from_item, deserialize(response["Item"]))


def review_update(*, review: Review, rating: int, text: str, submission: str | None = None) -> Review:
    """Change a review's text and rating; the counters move in the same
    transaction. ``review`` is the version the user edited: if it changed
    meanwhile (and not into exactly what they ask for), nothing is written
    and ChangedMeanwhile is raised."""
    update = {
        "Update": {
            "TableName": table_name(),
            "Key": serialize(_review_key(review)),
            "UpdateExpression": "SET rating = :rating, review = :text, updated_at = :now",
            "ConditionExpression": "rating = :old_rating AND id = :id",
            "ExpressionAttributeValues": serialize(
                {
                    ":rating": rating,
                    ":text": text,
                    ":now": _time_of(submission),
                    ":old_rating": review.rating,
                    ":id": review.id,
                }
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
        _transact(actions, token=_token("update", submission))
    except (TransactionCancelled, TokenReused) as error:
        stored = _stored_review(review.username, review.restaurant)
        if stored and stored.id == review.id and (stored.rating, stored.review) == (rating, text):
            return stored  # already what the author asked for: their own earlier try
        changed = ChangedMeanwhile("This review changed meanwhile.")
        if isinstance(error, TokenReused):
            raise changed from error
        raise _explain(error, first=changed, restaurant=review.restaurant) from error
    return dataclasses.replace(review, rating=rating, review=text)


def review_delete(*, review: Review, submission: str | None = None) -> None:
    """Delete the review the user saw. If it is gone already, it was deleted
    (by this user's earlier try): that is success too."""
    delete = {
        "Delete": {
            "TableName": table_name(),
            "Key": serialize(_review_key(review)),
            "ConditionExpression": "rating = :old_rating AND id = :id",
            "ExpressionAttributeValues": serialize({":old_rating": review.rating, ":id": review.id}),
        }
    }
    actions = [delete, _restaurant_counter_update(review.restaurant, {star_attribute(review.rating): -1})]
    try:
        _transact(actions, token=_token("delete", submission))
    except (TransactionCancelled, TokenReused) as error:
        if _stored_review(review.username, review.restaurant) is None:
            return
        changed = ChangedMeanwhile("This review changed meanwhile.")
        if isinstance(error, TokenReused):
            raise changed from error
        raise _explain(error, first=changed, restaurant=review.restaurant) from error


def _review_key(review: Review) -> dict:
    return {"PK": item_keys.user_key(review.username), "SK": item_keys.restaurant_key(review.restaurant)}


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
        **item_keys.restaurant_index_attributes(name, cuisine),
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
            Key=serialize(item_keys.restaurant_item_keys(name)),
            UpdateExpression="SET cuisine = :cuisine, address = :address, GSI2PK = :by_cuisine",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues=serialize(
                {":cuisine": cuisine, ":address": address, ":by_cuisine": item_keys.cuisine_key(cuisine)}
            ),
        )
    except ConditionFailed as error:
        raise NotFound(f"No restaurant called “{name}”.") from error
    add_cuisines({cuisine})
