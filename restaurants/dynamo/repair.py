"""Mending what other clients wrote wrong (``upgrade_table --repair``).

Two things the lab's scripts leave behind on a table we share with them:

- reviews written by its ``create_review.py``, whose ``GSI1SK`` is
  ``REVIEW#<ksuid>`` rather than the ``#REVIEW#<ksuid>`` of its items.json:
  the site reads them correctly (``selectors``), at the price of a second
  Query per summary; rewriting them puts them back in their place;
- star counters that disagree with the reviews stored, e.g. after its
  ``bulk_load_table.py`` was run again on a live table and put back the
  counters of items.json.

Both are found by ``schema.survey_table`` (one Scan) and each fix is a
conditional write, so a concurrent change is never overwritten: the fix is
skipped and reported, and running the command again picks it up.
"""

from collections import Counter
from dataclasses import dataclass

from . import item_keys
from .client import call
from .entities import STAR_ATTRIBUTES, StarCounts, star_attribute
from .errors import ConditionFailed
from .items import deserialize, serialize
from .schema import Survey


@dataclass(frozen=True)
class CounterMismatch:
    name: str
    stored: StarCounts
    counted: StarCounts

    def describe(self) -> str:
        changes = [
            f"{attribute} {old} -> {new}"
            for attribute, (_, old), (_, new) in zip(
                STAR_ATTRIBUTES, self.stored.by_rating(), self.counted.by_rating(), strict=True
            )
            if old != new
        ]
        return f"{self.name}: " + ", ".join(changes)


def _star_counts(counter: Counter | dict) -> StarCounts:
    return StarCounts.from_item({attribute: counter.get(attribute, 0) for attribute in STAR_ATTRIBUTES})


def counter_mismatches(survey: Survey) -> list[CounterMismatch]:
    """Restaurants whose counters are not the number of their stored reviews."""
    found = []
    for name, item in sorted(survey.restaurants.items()):
        stored = StarCounts.from_item(item)
        counted = _star_counts(survey.counted.get(name, Counter()))
        if stored != counted:
            found.append(CounterMismatch(name, stored, counted))
    return found


def review_sort_key_repair(review: dict) -> bool:
    """Rewrite a misplaced review's ``GSI1SK`` to the lab's items.json form;
    False if it changed since it was found."""
    try:
        call(
            "UpdateItem",
            Key=serialize({"PK": review["PK"], "SK": review["SK"]}),
            UpdateExpression="SET GSI1SK = :repaired",
            ConditionExpression="GSI1SK = :found",
            ExpressionAttributeValues=serialize(
                {":repaired": item_keys.repaired_review_sort_key(review["GSI1SK"]), ":found": review["GSI1SK"]}
            ),
        )
    except ConditionFailed:
        return False
    return True


def counters_recount(mismatch: CounterMismatch) -> bool:
    """Set the counters to the reviews counted; False (nothing written) if the
    restaurant or its reviews changed since the survey: run it again.

    The restaurant is read again (consistently) and its reviews counted again
    on GSI1; only if both still say what the Scan said are the counters set,
    on condition that they are still the ones read."""
    current = call("GetItem", Key=serialize(item_keys.restaurant_item_keys(mismatch.name)), ConsistentRead=True)
    if "Item" not in current or StarCounts.from_item(deserialize(current["Item"])) != mismatch.stored:
        return False
    if _count_on_index(mismatch.name) != mismatch.counted:
        return False
    names = {f"#s{i}": attribute for i, attribute in enumerate(STAR_ATTRIBUTES)}
    new = dict(zip(STAR_ATTRIBUTES, (count for _, count in mismatch.counted.by_rating()), strict=True))
    old = dict(zip(STAR_ATTRIBUTES, (count for _, count in mismatch.stored.by_rating()), strict=True))
    conditions = []
    for i, attribute in enumerate(STAR_ATTRIBUTES):
        unchanged = f"#s{i} = :old{i}"
        conditions.append(f"(attribute_not_exists(#s{i}) OR {unchanged})" if old[attribute] == 0 else unchanged)
    values = {f":new{i}": new[attribute] for i, attribute in enumerate(STAR_ATTRIBUTES)}
    values |= {f":old{i}": old[attribute] for i, attribute in enumerate(STAR_ATTRIBUTES)}
    try:
        call(
            "UpdateItem",
            Key=serialize(item_keys.restaurant_item_keys(mismatch.name)),
            UpdateExpression="SET " + ", ".join(f"#s{i} = :new{i}" for i in range(len(STAR_ATTRIBUTES))),
            ConditionExpression="attribute_exists(PK) AND " + " AND ".join(conditions),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=serialize(values),
        )
    except ConditionFailed:
        return False
    return True


def _count_on_index(name: str) -> StarCounts:
    counted: Counter = Counter()
    params: dict = {
        "IndexName": item_keys.REVIEWS_INDEX,
        "KeyConditionExpression": "GSI1PK = :pk",
        "ProjectionExpression": "PK, SK, #rating",
        "ExpressionAttributeNames": {"#rating": "rating"},
        "ExpressionAttributeValues": serialize({":pk": item_keys.restaurant_key(name)}),
    }
    while True:
        response = call("Query", **params)
        for item in map(deserialize, response.get("Items", [])):
            if item_keys.is_review_key(item["PK"], item["SK"]) and item.get("rating") in (1, 2, 3, 4, 5):
                counted[star_attribute(item["rating"])] += 1
        if "LastEvaluatedKey" not in response:
            return _star_counts(counted)
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]
