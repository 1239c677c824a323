"""The table's DynamoDB Stream: its shards, its records, and where we are in it.

Every write to the table, whoever makes it (the site, the lab's scripts, a
batch job, the console), appears in the stream as a record with the item as
it was and as it is (``NEW_AND_OLD_IMAGES``). ``follow_stream`` reads it to
retire the caches each change affects.

A stream is a set of shards. Each holds records in order for 4 hours or so,
then closes and hands over to one or more children (a split), and keeps its
records for 24 hours. A shard is read after its parent is drained, so that
changes to an item are seen in order. Our position in each shard (the last
sequence number whose changes were applied) is kept in the table itself
(``PK=STREAM#<stream label>``, ``SK=<shard id>``): it survives a restart of
the consumer, of Redis (which empties our cache) and of DynamoDB Local.
Writing it is itself a change to the table, which comes back in the stream;
``ItemChange.is_own_checkpoint`` lets the consumer skip those.

A record whose images cannot be decoded still names its item (``Keys`` are
plain strings): it becomes an ``ItemChange`` with ``unreadable`` set, never an
exception, so one odd item cannot stop the stream. Records the consumer could
not apply are kept as skipped records (``PK=STREAM#SKIPPED``, one item per
record, the record itself as JSON) for an operator to list and replay
(``follow_stream --skipped``, ``--replay-skipped``).
"""

import datetime as dt
import json
from dataclasses import dataclass, field

from . import item_keys
from .client import call, stream_call
from .errors import ConditionFailed, NotFound
from .items import deserialize, serialize

POSITION_DIGITS = 48  # sequence numbers are decimal strings of up to 40 digits
# A skipped record is kept whole if it fits in an item (400 KB); else its item_keys alone.
SKIPPED_RECORD_MAX_CHARS = 350_000


@dataclass(frozen=True)
class ItemChange:
    """One stream record: an item as it was (``old``) and as it is (``new``),
    either None for an insert or a removal, plain Python values."""

    sequence: str
    event: str  # INSERT, MODIFY or REMOVE
    pk: str
    sk: str
    old: dict | None
    new: dict | None
    # Why the images could not be decoded (old and new are then None); None if they were.
    unreadable: str | None = None
    # The record as received (typed images), kept to store it if it cannot be applied.
    record: dict | None = field(default=None, compare=False, repr=False)

    @property
    def is_own_checkpoint(self) -> bool:
        return item_keys.is_stream_checkpoint({"PK": self.pk})


def change_from_record(record: dict) -> ItemChange:
    """A GetRecords record, or a record of the event a Lambda on the stream
    receives. A record that cannot be decoded makes an ``unreadable`` change
    (its item_keys "" if even they cannot be read), never an exception."""
    data = record.get("dynamodb") if isinstance(record, dict) else None
    data = data if isinstance(data, dict) else {}
    pk, sk, unreadable = "", "", None
    old = new = None
    try:
        item_keys = deserialize(data["Keys"])
        pk, sk = item_keys["PK"], item_keys["SK"]
        if not isinstance(pk, str) or not isinstance(sk, str):
            raise TypeError(f"the record's item_keys are not two strings: {data['Keys']!r}")
        old, new = (_image(data[name]) if name in data else None for name in ("OldImage", "NewImage"))
    except (KeyError, TypeError, ValueError, AttributeError) as error:  # boto3's TypeDeserializer on a shape it rejects
        old, new, unreadable = None, None, f"{type(error).__name__}: {error}"
    return ItemChange(
        sequence=str(data.get("SequenceNumber", "")),
        event=str(record.get("eventName", "")) if isinstance(record, dict) else "",
        pk=pk if isinstance(pk, str) else "",
        sk=sk if isinstance(sk, str) else "",
        old=old,
        new=new,
        unreadable=unreadable,
        record=record,
    )


def _image(typed: dict) -> dict:
    if not isinstance(typed, dict):
        raise TypeError(f"an image is not a map: {typed!r}")
    return deserialize({name: _empty_maps_typed(value) for name, value in typed.items()})


def _empty_maps_typed(value):
    """DynamoDB Local's stream images carry every empty map (``{"M": {}}``),
    top-level or nested, as a bare ``{}``, which boto3 cannot decode. Only an
    empty map is ever written that way, so ``{}`` is read as one."""
    if not isinstance(value, dict):
        return value
    if not value:
        return {"M": {}}
    if isinstance(value.get("M"), dict):
        return {"M": {name: _empty_maps_typed(inner) for name, inner in value["M"].items()}}
    if isinstance(value.get("L"), list):
        return {"L": [_empty_maps_typed(inner) for inner in value["L"]]}
    return value


@dataclass(frozen=True)
class Stream:
    arn: str
    label: str


def table_stream() -> Stream:
    """The table's current stream (``NotFound`` if the table has none)."""
    table = call("DescribeTable")["Table"]
    if not (table.get("StreamSpecification") or {}).get("StreamEnabled") or "LatestStreamArn" not in table:
        raise NotFound("The table has no stream: run `manage.py upgrade_table` to enable it.")
    return Stream(arn=table["LatestStreamArn"], label=table["LatestStreamLabel"])


@dataclass(frozen=True)
class Shard:
    id: str
    parent_id: str | None
    closed: bool  # no new records will come; read to the end, then its children


def shards(stream: Stream) -> list[Shard]:
    """Every shard the stream still holds, oldest first (DescribeStream, paged)."""
    found: list[Shard] = []
    params: dict = {"StreamArn": stream.arn}
    while True:
        description = stream_call("DescribeStream", **params)["StreamDescription"]
        for shard in description.get("Shards", []):
            found.append(
                Shard(
                    id=shard["ShardId"],
                    parent_id=shard.get("ParentShardId"),
                    closed="EndingSequenceNumber" in shard.get("SequenceNumberRange", {}),
                )
            )
        if not description.get("LastEvaluatedShardId"):
            return found
        params["ExclusiveStartShardId"] = description["LastEvaluatedShardId"]


def shard_iterator(stream: Stream, shard_id: str, *, after: str | None, latest: bool = False) -> str:
    """Where to read a shard from: just after ``after``, or its oldest record
    (``latest``: only records written from now on)."""
    params: dict = {"StreamArn": stream.arn, "ShardId": shard_id}
    if latest:
        params["ShardIteratorType"] = "LATEST"
    elif after is None:
        params["ShardIteratorType"] = "TRIM_HORIZON"
    else:
        params.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=after)
    return stream_call("GetShardIterator", **params)["ShardIterator"]


def read_records(iterator: str, *, limit: int = 1000) -> tuple[list[ItemChange], str | None]:
    """The next records of a shard and the iterator after them; None once a
    closed shard has no more."""
    response = stream_call("GetRecords", ShardIterator=iterator, Limit=limit)
    return [change_from_record(record) for record in response.get("Records", [])], response.get("NextShardIterator")


@dataclass(frozen=True)
class Checkpoint:
    shard_id: str
    sequence: str | None  # the last record applied; None if none yet
    finished: bool  # the shard is closed and every record of it was applied


def checkpoints(stream: Stream) -> dict[str, Checkpoint]:
    """Our position in each shard of ``stream`` read so far (consistent read)."""
    found: dict[str, Checkpoint] = {}
    params: dict = {
        "KeyConditionExpression": "PK = :pk",
        "ExpressionAttributeValues": serialize({":pk": item_keys.stream_checkpoint_partition(stream.label)}),
        "ConsistentRead": True,
    }
    while True:
        response = call("Query", **params)
        for item in map(deserialize, response.get("Items", [])):
            found[item["SK"]] = Checkpoint(item["SK"], item.get("sequence"), bool(item.get("finished")))
        if "LastEvaluatedKey" not in response:
            return found
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def checkpoint_save(stream: Stream, shard_id: str, *, sequence: str | None, finished: bool = False) -> bool:
    """Record that every record of the shard up to ``sequence`` was applied.
    Never moves back: False if a checkpoint further on is stored (another
    consumer of the same stream got there first)."""
    position = (sequence or "").zfill(POSITION_DIGITS)
    item = {
        **item_keys.stream_checkpoint_keys(stream.label, shard_id),
        "position": position,
        "finished": finished,
        "updated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    if sequence is not None:
        item["sequence"] = sequence
    try:
        call(
            "PutItem",
            Item=serialize(item),
            ConditionExpression="attribute_not_exists(#position) OR #position < :position "
            "OR (#position = :position AND #finished <> :true)",
            ExpressionAttributeNames={"#position": "position", "#finished": "finished"},
            ExpressionAttributeValues=serialize({":position": position, ":true": True}),
        )
    except ConditionFailed:
        return False
    return True


# --- Records the consumer could not apply ----------------------------------------------


@dataclass(frozen=True)
class Skipped:
    sequence: str
    pk: str
    sk: str
    reason: str
    retired: bool  # what the record's item_keys name was retired when it was skipped
    skipped_at: str
    record: dict | None  # None if it was too large to keep (its item_keys are above)


def skipped_save(change: ItemChange, *, reason: str, retired: bool) -> bool:
    """Keep a record the consumer could not apply, for an operator to replay
    (one item per record: storing it twice, after a retried batch, overwrites).
    True if it was not stored before."""
    record = json.dumps(change.record, default=str) if change.record is not None else ""
    item = {
        **item_keys.skipped_record_keys(change.sequence.zfill(POSITION_DIGITS)),
        "sequence": change.sequence,
        "item_pk": change.pk,
        "item_sk": change.sk,
        "reason": reason[:2000],
        "retired": retired,
        "skipped_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    if record and len(record) <= SKIPPED_RECORD_MAX_CHARS:
        item["record"] = record
    response = call("PutItem", Item=serialize(item), ReturnValues="ALL_OLD")
    return "Attributes" not in response


def skipped_records() -> list[Skipped]:
    """Every record kept as skipped, oldest first (consistent read)."""
    found: list[Skipped] = []
    params: dict = {
        "KeyConditionExpression": "PK = :pk",
        "ExpressionAttributeValues": serialize({":pk": item_keys.SKIPPED_RECORDS_PARTITION}),
        "ConsistentRead": True,
    }
    while True:
        response = call("Query", **params)
        for item in map(deserialize, response.get("Items", [])):
            found.append(
                Skipped(
                    sequence=item["sequence"],
                    pk=item["item_pk"],
                    sk=item["item_sk"],
                    reason=item.get("reason", ""),
                    retired=bool(item.get("retired")),
                    skipped_at=item.get("skipped_at", ""),
                    record=json.loads(item["record"]) if item.get("record") else None,
                )
            )
        if "LastEvaluatedKey" not in response:
            return found
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def change_of_stored_item(sequence: str, pk: str, sk: str) -> ItemChange:
    """A skipped record replayed from its item as the table holds it now
    (consistent read): what it was before is unknown (``old`` None)."""
    response = call("GetItem", Key=serialize({"PK": pk, "SK": sk}), ConsistentRead=True)
    item = deserialize(response["Item"]) if "Item" in response else None
    return ItemChange(sequence=sequence, event="MODIFY" if item else "REMOVE", pk=pk, sk=sk, old=None, new=item)


def skipped_delete(skipped: Skipped) -> None:
    call("DeleteItem", Key=serialize(item_keys.skipped_record_keys(skipped.sequence.zfill(POSITION_DIGITS))))
