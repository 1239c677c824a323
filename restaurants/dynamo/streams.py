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
"""

import datetime as dt
from dataclasses import dataclass

from . import keys
from .client import call, stream_call
from .errors import ConditionFailed, NotFound
from .items import deserialize, serialize

POSITION_DIGITS = 48  # sequence numbers are decimal strings of up to 40 digits


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

    @property
    def is_own_checkpoint(self) -> bool:
        return keys.is_stream_checkpoint({"PK": self.pk})


def change_from_record(record: dict) -> ItemChange:
    """A GetRecords record, or a record of the event a Lambda on the stream receives."""
    data = record["dynamodb"]
    item_keys = deserialize(data["Keys"])
    return ItemChange(
        sequence=data["SequenceNumber"],
        event=record["eventName"],
        pk=item_keys["PK"],
        sk=item_keys["SK"],
        old=deserialize(data["OldImage"]) if "OldImage" in data else None,
        new=deserialize(data["NewImage"]) if "NewImage" in data else None,
    )


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
        "ExpressionAttributeValues": serialize({":pk": keys.stream_checkpoint_partition(stream.label)}),
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
        **keys.stream_checkpoint_keys(stream.label, shard_id),
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
