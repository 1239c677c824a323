"""The table, declared once: creating it, and upgrading a lab-made table.

``upgrade_table`` only adds: our sparse indexes, the table's stream and TTL, the
index attributes on restaurant items and the cuisine list. It never changes or
removes an attribute the lab wrote, so running it twice (or on our own table)
is a no-op. What other clients wrote wrong is found by the same Scan
(``survey_table``) and mended only when asked (``repair``).

The stream (``NEW_AND_OLD_IMAGES``) is what ``follow_stream`` reads to keep the
caches right whoever writes to the table.
"""

import logging
from collections import Counter
from dataclasses import dataclass, field

from restaurants.waiting import wait_until

from . import item_keys
from .client import call
from .entities import STAR_ATTRIBUTES, cuisine_names, shown_text, star_attribute
from .errors import ConditionFailed, NotFound, Rejected
from .items import deserialize, serialize_value

log = logging.getLogger(__name__)

LAB_INDEX = item_keys.REVIEWS_INDEX
OUR_INDEXES = (item_keys.CUISINE_INDEX, item_keys.ALL_RESTAURANTS_INDEX, item_keys.NAME_SEARCH_INDEX)
ALL_INDEXES = (LAB_INDEX, *OUR_INDEXES)
# Indexes that project only some attributes (the others project ALL).
_PROJECTIONS = {
    item_keys.NAME_SEARCH_INDEX: {
        "ProjectionType": "INCLUDE",
        "NonKeyAttributes": list(item_keys.NAME_SEARCH_PROJECTED),
    },
}
STREAM_VIEW = "NEW_AND_OLD_IMAGES"  # follow_stream compares what an item was with what it is
STREAM_SPECIFICATION = {"StreamEnabled": True, "StreamViewType": STREAM_VIEW}


def _attribute_definitions(index_names) -> list[dict]:
    names = ["PK", "SK"] + [f"{index}{part}" for index in index_names for part in ("PK", "SK")]
    return [{"AttributeName": name, "AttributeType": "S"} for name in names]


def _index_definition(index: str, throughput: dict | None = None) -> dict:
    definition = {
        "IndexName": index,
        "KeySchema": [
            {"AttributeName": f"{index}PK", "KeyType": "HASH"},
            {"AttributeName": f"{index}SK", "KeyType": "RANGE"},
        ],
        "Projection": _PROJECTIONS.get(index, {"ProjectionType": "ALL"}),
    }
    if throughput:
        definition["ProvisionedThroughput"] = throughput
    return definition


def describe_table() -> dict | None:
    try:
        return call("DescribeTable")["Table"]
    except NotFound:
        return None


def create_table(*, stream: bool = True) -> bool:
    """Create the table with every index and its stream; False if it already
    existed. ``stream=False``: for a bulk load first (``enable_stream`` after)."""
    if describe_table() is not None:
        return False
    definition = table_definition()
    if not stream:
        del definition["StreamSpecification"]
    call("CreateTable", **definition)
    wait_until_active()
    enable_expiry()
    return True


def table_definition() -> dict:
    """The table's item_keys, indexes and billing, as CreateTable takes them (the
    CloudFormation template in deploy/ is checked against this)."""
    return {
        "AttributeDefinitions": _attribute_definitions(ALL_INDEXES),
        "KeySchema": [
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [_index_definition(index) for index in ALL_INDEXES],
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": STREAM_SPECIFICATION,
    }


# What CreateTable cannot say: the table's TTL attribute (only session items carry it).
TIME_TO_LIVE_SPECIFICATION = {"AttributeName": item_keys.EXPIRY_ATTRIBUTE, "Enabled": True}


def enable_expiry() -> None:
    call("UpdateTimeToLive", TimeToLiveSpecification=TIME_TO_LIVE_SPECIFICATION)


def _enable_expiry(*, dry_run: bool) -> list[str]:
    """DynamoDB deletes expired session items (late: readers check the time
    themselves). A table has one TTL attribute: another one is left alone."""
    described = call("DescribeTimeToLive")["TimeToLiveDescription"]
    status, attribute = described.get("TimeToLiveStatus"), described.get("AttributeName")
    if status in ("ENABLED", "ENABLING"):
        if attribute == item_keys.EXPIRY_ATTRIBUTE:
            return []
        return [
            f"left the table's TTL on {attribute} alone: expired sessions are refused all the same, "
            f"but DynamoDB will not delete them ({item_keys.EXPIRY_ATTRIBUTE})"
        ]
    if dry_run:
        return [f"would enable expiry on {item_keys.EXPIRY_ATTRIBUTE} (sessions)"]
    enable_expiry()
    return [f"enabled expiry on {item_keys.EXPIRY_ATTRIBUTE} (sessions)"]


def enable_stream() -> None:
    call("UpdateTable", StreamSpecification=STREAM_SPECIFICATION)
    wait_until_active()


def wait_until_active(timeout: float = 600) -> None:
    def active() -> bool:
        table = describe_table() or {}
        statuses = [table.get("TableStatus")] + [i["IndexStatus"] for i in table.get("GlobalSecondaryIndexes", [])]
        return all(status == "ACTIVE" for status in statuses)

    wait_until(active, timeout=timeout, every=1, what="the table and its indexes to become ACTIVE")


def upgrade_table(progress=lambda message: None, *, dry_run: bool = False, survey: "Survey | None" = None) -> list[str]:
    """Bring a lab-made (or older) table up to date; returns what it did (with
    ``dry_run``, what it would do, changing nothing). ``survey``: the table's
    Scan, if the caller made one already."""
    done: list[str] = []
    table = describe_table()
    if table is None:
        raise NotFound("The table does not exist: run create_table first.")
    existing = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
    throughput = _index_throughput(table)
    for index in OUR_INDEXES:
        if index in existing:
            continue
        if dry_run:
            done.append(f"would add index {index}")
            continue
        progress(f"Adding index {index}...")
        call(
            "UpdateTable",
            AttributeDefinitions=_attribute_definitions([index]),
            GlobalSecondaryIndexUpdates=[{"Create": _index_definition(index, throughput)}],
        )
        wait_until_active()
        done.append(f"added index {index}")
    done += _enable_stream(table, dry_run=dry_run)
    done += _enable_expiry(dry_run=dry_run)

    survey = survey or survey_table()
    unindexed = [item for item in survey.restaurants.values() if index_attributes_missing(item)]
    if not dry_run:
        for item in unindexed:
            add_index_attributes(item["name"], item.get("cuisine", ""))
    if unindexed:
        done.append(f"{'would add' if dry_run else 'added'} index attributes to {len(unindexed)} restaurants")
    cuisines = {shown_text(item.get("cuisine", "")) for item in survey.restaurants.values()} - {""}
    if cuisines - set(_stored_cuisines()):
        if not dry_run:
            add_cuisines(cuisines)
        done.append(f"{'would record' if dry_run else 'recorded'} {len(cuisines)} cuisines")
    return done


def _enable_stream(table: dict, *, dry_run: bool) -> list[str]:
    stream = table.get("StreamSpecification") or {}
    if stream.get("StreamEnabled"):
        if stream.get("StreamViewType") == STREAM_VIEW:
            return []
        # Changing the view means disabling the stream first, which would cut
        # off whoever reads it now: the operator decides.
        return [
            f"left the table's {stream.get('StreamViewType')} stream alone: follow_stream needs {STREAM_VIEW} "
            "(disable the stream, then run upgrade_table again)"
        ]
    if dry_run:
        return [f"would enable the table's stream ({STREAM_VIEW})"]
    enable_stream()
    return [f"enabled the table's stream ({STREAM_VIEW})"]


@dataclass
class Survey:
    """What one Scan of the table found, for upgrade_table and its repairs."""

    restaurants: dict[str, dict] = field(default_factory=dict)  # by name
    counted: dict[str, Counter] = field(default_factory=dict)  # by restaurant name: star attribute -> reviews
    misplaced_reviews: list[dict] = field(default_factory=list)  # GSI1SK as the lab's create_review.py writes it


_OUR_INDEX_KEYS = tuple(f"{index}{part}" for index in OUR_INDEXES for part in ("PK", "SK"))
_SURVEYED = ("PK", "SK", "name", "cuisine", "rating", "GSI1SK", *_OUR_INDEX_KEYS)


def survey_table() -> Survey:
    """One consistent Scan: restaurants, reviews counted by rating, misplaced reviews."""
    survey = Survey()
    names = {f"#a{i}": name for i, name in enumerate((*_SURVEYED, *STAR_ATTRIBUTES))}
    for item in scan_items(projection=", ".join(names), names=names, consistent=True):
        if item_keys.is_restaurant_item(item) and "name" in item:
            survey.restaurants[item["name"]] = item
        elif item_keys.is_review_key(item["PK"], item["SK"]) and item.get("rating") in (1, 2, 3, 4, 5):
            name = item_keys.restaurant_name_of(item["SK"])
            survey.counted.setdefault(name, Counter())[star_attribute(item["rating"])] += 1
            if item_keys.is_misplaced_review(item):
                survey.misplaced_reviews.append(item)
    return survey


def _index_throughput(table: dict) -> dict | None:
    if table.get("BillingModeSummary", {}).get("BillingMode") == "PAY_PER_REQUEST":
        return None
    provisioned = table.get("ProvisionedThroughput") or {}
    if not provisioned.get("ReadCapacityUnits"):
        return None
    return {
        "ReadCapacityUnits": provisioned["ReadCapacityUnits"],
        "WriteCapacityUnits": provisioned["WriteCapacityUnits"],
    }


def _our_index_attributes(item: dict) -> dict[str, str]:
    """Filed under the cuisine the restaurant's pages show (``shown_text``:
    another client's cuisine may be a number or a list)."""
    attributes = item_keys.restaurant_index_attributes(item["name"], shown_text(item.get("cuisine", "")))
    return {name: value for name, value in attributes.items() if name.startswith(OUR_INDEXES)}


def index_attributes_missing(item: dict) -> bool:
    """A restaurant item (with its ``name``) that our indexes do not list, or
    list under another cuisine: written by another client (the lab's
    create_restaurant.py or bulk_load_table.py, the console). A name that is
    not text cannot be indexed: such an item is left as it is."""
    if not isinstance(item.get("name"), str):
        return False
    return any(item.get(name) != value for name, value in _our_index_attributes(item).items())


def add_index_attributes(name: str, cuisine: object) -> bool:
    """Set our index attributes on a restaurant item; False if it is gone."""
    added = _our_index_attributes({"name": name, "cuisine": cuisine})
    try:
        call(
            "UpdateItem",
            Key={k: {"S": v} for k, v in item_keys.restaurant_item_keys(name).items()},
            UpdateExpression="SET " + ", ".join(f"{attr} = :{attr}" for attr in added),
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues={f":{attr}": {"S": value} for attr, value in added.items()},
        )
    except ConditionFailed:
        return False
    return True


def _stored_cuisines() -> list[str]:
    response = call("GetItem", Key=_cuisines_key())
    return cuisine_names(deserialize(response.get("Item", {})).get("cuisines", []))[0]


def add_cuisines(cuisines) -> None:
    """Add to the cuisine list (a string set, so concurrent adds all count).

    DynamoDB refuses ADD to an attribute of another type: one another client
    rewrote (a list holding a number) is written again as a string set of its
    strings and these, if it is still not one (a concurrent rewrite wins, and
    the ADD is tried again). Otherwise the write it follows (a restaurant
    created or edited) would seem to fail after it had succeeded."""
    cuisines = {c for c in cuisines if c}
    if not cuisines:
        return
    try:
        _add_cuisines(cuisines)
    except Rejected:
        response = call("GetItem", Key=_cuisines_key(), ConsistentRead=True)
        stored = deserialize(response.get("Item", {})).get("cuisines", [])
        kept, dropped = cuisine_names(stored)
        try:
            call(
                "UpdateItem",
                Key=_cuisines_key(),
                UpdateExpression="SET cuisines = :c",
                ConditionExpression="NOT attribute_type(cuisines, :string_set)",
                ExpressionAttributeValues={":c": serialize_value(cuisines | set(kept)), ":string_set": {"S": "SS"}},
            )
        except ConditionFailed:
            _add_cuisines(cuisines)
            return
        log.warning("The cuisine list was not a string set: rewritten as one, without %r.", dropped)


def _add_cuisines(cuisines: set[str]) -> None:
    call(
        "UpdateItem",
        Key=_cuisines_key(),
        UpdateExpression="ADD cuisines :c",
        ExpressionAttributeValues={":c": serialize_value(cuisines)},
    )


def _cuisines_key() -> dict:
    return {k: {"S": v} for k, v in item_keys.CUISINES_ITEM_KEY.items()}


def scan_items(*, projection: str | None = None, names: dict | None = None, consistent: bool = False):
    """Every item in the table as plain values, page by page (for commands, never for requests)."""
    for item in scan_typed_items(projection=projection, names=names, consistent=consistent):
        yield deserialize(item)


def scan_typed_items(*, projection: str | None = None, names: dict | None = None, consistent: bool = False):
    """Every item in the table exactly as DynamoDB returns it (typed: numbers as
    DynamoDB's decimal strings, binary as bytes, sets as sets): what a backup keeps."""
    params: dict = {"ConsistentRead": consistent}
    if projection:
        params["ProjectionExpression"] = projection
    if names:
        params["ExpressionAttributeNames"] = names
    while True:
        response = call("Scan", **params)
        yield from response.get("Items", [])
        if "LastEvaluatedKey" not in response:
            return
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]
