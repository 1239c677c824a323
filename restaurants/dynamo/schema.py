"""The table, declared once: creating it, and upgrading a lab-made table.

``upgrade_table`` only adds: our two sparse indexes, the index attributes on
restaurant items and the cuisine list. It never changes or removes an
attribute the lab wrote, so running it twice (or on our own table) is a no-op.
"""

import time

from . import keys
from .client import call
from .errors import NotFound
from .items import deserialize, serialize_value

LAB_INDEX = keys.REVIEWS_INDEX
OUR_INDEXES = (keys.CUISINE_INDEX, keys.ALL_RESTAURANTS_INDEX)
ALL_INDEXES = (LAB_INDEX, *OUR_INDEXES)


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
        "Projection": {"ProjectionType": "ALL"},
    }
    if throughput:
        definition["ProvisionedThroughput"] = throughput
    return definition


def describe_table() -> dict | None:
    try:
        return call("DescribeTable")["Table"]
    except NotFound:
        return None


def create_table() -> bool:
    """Create the table with every index; False if it already existed."""
    if describe_table() is not None:
        return False
    call("CreateTable", **table_definition())
    wait_until_active()
    return True


def table_definition() -> dict:
    """The table's keys, indexes and billing, as CreateTable takes them (the
    CloudFormation template in deploy/ is checked against this)."""
    return {
        "AttributeDefinitions": _attribute_definitions(ALL_INDEXES),
        "KeySchema": [
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [_index_definition(index) for index in ALL_INDEXES],
        "BillingMode": "PAY_PER_REQUEST",
    }


def wait_until_active(timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        table = describe_table() or {}
        statuses = [table.get("TableStatus")] + [i["IndexStatus"] for i in table.get("GlobalSecondaryIndexes", [])]
        if all(status == "ACTIVE" for status in statuses):
            return
        time.sleep(1)
    raise TimeoutError("The table did not become ACTIVE in time.")


def upgrade_table(progress=lambda message: None) -> list[str]:
    """Bring a lab-made (or older) table up to date; returns what it did."""
    done: list[str] = []
    table = describe_table()
    if table is None:
        raise NotFound("The table does not exist: run create_table first.")
    existing = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
    throughput = _index_throughput(table)
    for index in OUR_INDEXES:
        if index in existing:
            continue
        progress(f"Adding index {index}...")
        call(
            "UpdateTable",
            AttributeDefinitions=_attribute_definitions([index]),
            GlobalSecondaryIndexUpdates=[{"Create": _index_definition(index, throughput)}],
        )
        wait_until_active()
        done.append(f"added index {index}")

    cuisines: set[str] = set()
    backfilled = 0
    for item in scan_items(projection="PK, SK, #n, cuisine, GSI2PK, GSI3PK", names={"#n": "name"}):
        if not keys.is_restaurant_item(item) or "name" not in item:
            continue
        cuisine = item.get("cuisine", "")
        cuisines.add(cuisine)
        if "GSI2PK" not in item or "GSI3PK" not in item:
            _add_index_attributes(item["name"], cuisine)
            backfilled += 1
    if backfilled:
        done.append(f"added index attributes to {backfilled} restaurants")
    if cuisines - set(_stored_cuisines()):
        add_cuisines(cuisines)
        done.append(f"recorded {len(cuisines)} cuisines")
    return done


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


def _add_index_attributes(name: str, cuisine: str) -> None:
    attributes = keys.restaurant_index_attributes(name, cuisine)
    added = {name: value for name, value in attributes.items() if name.startswith(("GSI2", "GSI3"))}
    call(
        "UpdateItem",
        Key={k: {"S": v} for k, v in keys.restaurant_item_keys(name).items()},
        UpdateExpression="SET " + ", ".join(f"{attr} = :{attr}" for attr in added),
        ConditionExpression="attribute_exists(PK)",
        ExpressionAttributeValues={f":{attr}": {"S": value} for attr, value in added.items()},
    )


def _stored_cuisines() -> list[str]:
    response = call("GetItem", Key={k: {"S": v} for k, v in keys.CUISINES_ITEM_KEY.items()})
    return deserialize(response.get("Item", {})).get("cuisines", [])


def add_cuisines(cuisines) -> None:
    cuisines = {c for c in cuisines if c}
    if not cuisines:
        return
    call(
        "UpdateItem",
        Key={k: {"S": v} for k, v in keys.CUISINES_ITEM_KEY.items()},
        UpdateExpression="ADD cuisines :c",
        ExpressionAttributeValues={":c": serialize_value(cuisines)},
    )


def scan_items(*, projection: str | None = None, names: dict | None = None):
    """Every item in the table as plain values, page by page (for commands, never for requests)."""
    for item in scan_typed_items(projection=projection, names=names):
        yield deserialize(item)


def scan_typed_items(*, projection: str | None = None, names: dict | None = None):
    """Every item in the table exactly as DynamoDB returns it (typed: numbers as
    DynamoDB's decimal strings, binary as bytes, sets as sets): what a backup keeps."""
    params: dict = {}
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
