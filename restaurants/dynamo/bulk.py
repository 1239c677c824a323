"""Bulk writes for the data commands (load, seed, import)."""

import time
from collections.abc import Iterable

from . import keys
from .client import call, table_name
from .items import serialize
from .schema import add_cuisines

BATCH_SIZE = 25  # BatchWriteItem's limit


def with_our_attributes(item: dict) -> dict:
    """A lab item plus the attributes our extra indexes need. Lab attributes
    are kept as they are; ours are only added where missing."""
    if keys.is_restaurant_item(item) and "name" in item:
        extra = keys.restaurant_index_attributes(item["name"], item.get("cuisine", ""))
        return {**extra, **item}
    return item


def is_derived_item(item: dict) -> bool:
    """Bookkeeping items that a load rebuilds itself (and a backup leaves out):
    the cuisine list, and follow_stream's positions in a stream that a restored
    table does not have."""
    return {"PK": item.get("PK"), "SK": item.get("SK")} == keys.CUISINES_ITEM_KEY or keys.is_stream_checkpoint(item)


def write_items(items: Iterable[dict], *, on_batch=lambda count: None) -> int:
    """Put every item with BatchWriteItem, retrying what comes back unprocessed.
    Restaurant items get our index attributes and their cuisine is recorded;
    derived bookkeeping items are skipped, since they are rebuilt here."""
    written = 0
    cuisines: set[str] = set()
    batch: dict[tuple[str, str], dict] = {}
    for item in items:
        if is_derived_item(item):
            continue
        item = with_our_attributes(item)
        if keys.is_restaurant_item(item):
            cuisines.add(item.get("cuisine", ""))
        key = (item["PK"], item["SK"])
        if key in batch or len(batch) == BATCH_SIZE:  # one batch may not name a key twice
            written += _write_batch(list(batch.values()), on_batch)
            batch = {}
        batch[key] = item
    if batch:
        written += _write_batch(list(batch.values()), on_batch)
    add_cuisines(cuisines)
    return written


def _write_batch(batch: list[dict], on_batch) -> int:
    pending = {table_name(): [{"PutRequest": {"Item": serialize(item)}} for item in batch]}
    for attempt in range(10):
        response = call("BatchWriteItem", RequestItems=pending)
        pending = response.get("UnprocessedItems") or {}
        if not pending:
            on_batch(len(batch))
            return len(batch)
        time.sleep(min(0.05 * 2**attempt, 2))
    raise RuntimeError("DynamoDB kept items unprocessed after 10 attempts.")
