"""Bulk writes for the data commands (load, seed, import).

Items are written in DynamoDB's typed form (``{"S": ...}``) exactly as given,
so a restore from a backup puts back what was exported, attribute for
attribute. Plain items (the lab's items.json, the demo data) are turned into
that form first by ``typed_lab_item``, which adds the attributes our indexes
need. Which items may be written at all is ``item_checks.item_problem``'s
question; the commands ask it of every line before writing the first.
"""

from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from restaurants.waiting import retrying

from . import item_keys
from .client import call, table_name
from .items import serialize
from .schema import add_cuisines

BATCH_SIZE = 25  # BatchWriteItem's limit
WORKERS = 4  # batches in flight at once
BATCH_ATTEMPTS = 10  # a batch's UnprocessedItems are sent again, with backoff (0.05 s doubled, at most 2 s)


def with_our_attributes(item: dict) -> dict:
    """A lab item plus the attributes our extra indexes need. Lab attributes
    are kept as they are; ours are only added where missing."""
    if item_keys.is_restaurant_item(item) and isinstance(item.get("name"), str):
        extra = item_keys.restaurant_index_attributes(item["name"], item.get("cuisine", ""))
        return {**extra, **item}
    return item


def typed_lab_item(item: dict) -> dict:
    """A plain item in typed form, with our index attributes. Numbers should
    be int or Decimal (a float keeps only its repr's digits). Raises TypeError,
    ValueError or a decimal error for a value DynamoDB cannot hold (a number
    past 38 digits, NaN)."""
    return serialize(with_our_attributes(item))


def is_derived_item(item: dict) -> bool:
    """Bookkeeping items that a load rebuilds itself (and a backup leaves out):
    the cuisine list, follow_stream's positions in a stream that a restored
    table does not have, and sessions (a restore must not log anyone back in)."""
    return (
        {"PK": item.get("PK"), "SK": item.get("SK")} == item_keys.CUISINES_ITEM_KEY
        or item_keys.is_stream_checkpoint(item)
        or item_keys.is_session_item(item)
    )


def is_derived_typed_item(item: dict) -> bool:
    return is_derived_item(_plain_keys(item))


def write_items(items: Iterable[dict], *, on_batch=lambda count: None) -> int:
    """Plain items (the demo data, tests): ``typed_lab_item`` then ``write_typed_items``."""
    return write_typed_items((typed_lab_item(item) for item in items if not is_derived_item(item)), on_batch=on_batch)


def write_typed_items(items: Iterable[dict], *, on_batch=lambda count: None, workers: int | None = None) -> int:
    """Put every typed item with BatchWriteItem, as it is, retrying what comes
    back unprocessed, up to ``workers`` batches at once (one at a time, a
    large load is bound by the round trip, not by DynamoDB). An item whose key
    a batch still in flight holds waits for every batch in flight, so the
    last line of a file for a key is the one stored, as it would be in order.
    The cuisines of restaurant items are recorded; derived bookkeeping items
    are skipped, since they are rebuilt here. ``workers`` defaults to
    ``WORKERS`` as it is at the call (a benchmark may set it)."""
    workers = workers or WORKERS
    written = 0
    cuisines: set[str] = set()
    batch: dict[tuple[str, str], dict] = {}
    in_flight: dict[Future, set[tuple[str, str]]] = {}

    def finish(futures) -> None:
        nonlocal written
        for future in futures:
            count = future.result()  # a batch that failed fails the load
            written += count
            del in_flight[future]
            on_batch(count)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bulk-write") as pool:
        for item in items:
            plain_keys = _plain_keys(item)
            if is_derived_item(plain_keys):
                continue
            if item_keys.is_restaurant_item(plain_keys) and isinstance(item.get("cuisine", {}).get("S"), str):
                cuisines.add(item["cuisine"]["S"])
            key = (plain_keys["PK"], plain_keys["SK"])
            if any(key in held for held in in_flight.values()):
                finish(list(in_flight))
            if key in batch or len(batch) == BATCH_SIZE:  # one batch may not name a key twice
                if len(in_flight) >= workers:
                    finish(wait(in_flight, return_when=FIRST_COMPLETED).done)
                in_flight[pool.submit(_write_batch, list(batch.values()))] = set(batch)
                batch = {}
                if any(key in held for held in in_flight.values()):
                    finish(list(in_flight))
            batch[key] = item
        if batch:
            in_flight[pool.submit(_write_batch, list(batch.values()))] = set(batch)
        finish(list(in_flight))
    add_cuisines(cuisines)
    return written


def _plain_keys(item: dict) -> dict:
    return {"PK": item.get("PK", {}).get("S"), "SK": item.get("SK", {}).get("S")}


def _write_batch(batch: list[dict]) -> int:
    pending = {table_name(): [{"PutRequest": {"Item": item}} for item in batch]}
    for _ in retrying(attempts=BATCH_ATTEMPTS, first=0.05, cap=2):
        response = call("BatchWriteItem", RequestItems=pending)
        pending = response.get("UnprocessedItems") or {}
        if not pending:
            return len(batch)
    raise RuntimeError(f"DynamoDB kept items unprocessed after {BATCH_ATTEMPTS} attempts.")
