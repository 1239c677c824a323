"""The embedded DynamoDB: correct under concurrency, fast, and honest about moto."""

import threading
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from devtools.embedded import fast_transactions
from devtools.embedded.moto_server import start_dynamodb

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server():
    embedded = start_dynamodb()
    yield embedded
    embedded.stop()


def make_client(url: str):
    return boto3.client(
        "dynamodb",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def table(server):
    """A fresh table (moto's state is shared by the whole process) with a counter item."""
    client = make_client(server.url)
    name = f"devservices-{uuid.uuid4().hex[:8]}"
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    client.put_item(TableName=name, Item={"PK": {"S": "REST#1"}, "SK": {"S": "META"}, "reviews": {"N": "0"}})
    yield name
    client.delete_table(TableName=name)


def post_review(client, table: str, review_id: str, counter_sk: str = "META") -> None:
    client.transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": table,
                    "Item": {"PK": {"S": f"REVIEW#{review_id}"}, "SK": {"S": "REST#1"}, "text": {"S": "tasty"}},
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
            {
                "Update": {
                    "TableName": table,
                    "Key": {"PK": {"S": "REST#1"}, "SK": {"S": counter_sk}},
                    "UpdateExpression": "ADD reviews :one",
                    "ConditionExpression": "attribute_exists(PK)",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
        ]
    )


def counter(client, table: str) -> int:
    item = client.get_item(TableName=table, Key={"PK": {"S": "REST#1"}, "SK": {"S": "META"}})["Item"]
    return int(item["reviews"]["N"])


def add_filler(client, table: str, count: int) -> None:
    """Other restaurants' items: they make an unserialized moto's race window wide."""
    for start in range(0, count, 25):
        batch = [
            {"PutRequest": {"Item": {"PK": {"S": f"REST#other{i}"}, "SK": {"S": "META"}}}}
            for i in range(start, min(start + 25, count))
        ]
        client.batch_write_item(RequestItems={table: batch})


def test_concurrent_transactions_neither_lose_updates_nor_fail(server, table):
    add_filler(make_client(server.url), table, 2000)
    errors: list[Exception] = []
    start = threading.Barrier(20)

    def post(index: int) -> None:
        client = make_client(server.url)
        start.wait()
        try:
            post_review(client, table, f"{index:02d}")
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    client = make_client(server.url)
    pages = client.get_paginator("scan").paginate(
        TableName=table,
        FilterExpression="begins_with(PK, :review)",
        ExpressionAttributeValues={":review": {"S": "REVIEW#"}},
    )
    reviews = [item for page in pages for item in page["Items"]]
    assert errors == []
    assert len(reviews) == 20
    assert counter(client, table) == 20


def test_a_failed_transaction_leaves_no_trace_and_says_why(server, table):
    client = make_client(server.url)
    post_review(client, table, "kept")

    with pytest.raises(ClientError) as raised:
        post_review(client, table, "rolled-back", counter_sk="NO-SUCH-COUNTER")

    error = raised.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    assert [reason["Code"] for reason in error["CancellationReasons"]] == ["None", "ConditionalCheckFailed"]
    missing = client.get_item(TableName=table, Key={"PK": {"S": "REVIEW#rolled-back"}, "SK": {"S": "REST#1"}})
    assert "Item" not in missing
    assert counter(client, table) == 1


def test_a_failed_transaction_restores_items_it_changed(server, table):
    client = make_client(server.url)
    meta = {"PK": {"S": "REST#1"}, "SK": {"S": "META"}}

    with pytest.raises(ClientError) as raised:
        client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table,
                        "Key": meta,
                        "UpdateExpression": "SET reviews = :many, note = :note",
                        "ExpressionAttributeValues": {":many": {"N": "99"}, ":note": {"S": "oops"}},
                    }
                },
                {
                    "Put": {
                        "TableName": table,
                        "Item": {"PK": {"S": "REST#1"}, "SK": {"S": "META"}, "x": {"S": "dup"}},
                    }
                },
            ]
        )
    assert raised.value.response["Error"]["Code"] == "ValidationException"  # two actions on one item
    assert client.get_item(TableName=table, Key=meta)["Item"] == {**meta, "reviews": {"N": "0"}}

    with pytest.raises(ClientError):
        client.transact_write_items(
            TransactItems=[
                {"Delete": {"TableName": table, "Key": meta}},
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": {"PK": {"S": "REST#1"}, "SK": {"S": "MISSING"}},
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                },
            ]
        )
    assert client.get_item(TableName=table, Key=meta)["Item"] == {**meta, "reviews": {"N": "0"}}


def test_the_fast_transaction_path_is_installed(server):
    from moto.dynamodb.models import DynamoDBBackend

    assert fast_transactions.is_installed()
    assert DynamoDBBackend.transact_write_items is fast_transactions._transact_write_items


def test_the_patch_refuses_a_moto_version_it_was_not_written_for(monkeypatch):
    assert fast_transactions.SUPPORTED_MOTO_VERSION == "5.2.5"
    monkeypatch.setattr(fast_transactions, "moto_version", lambda: "5.2.6")
    monkeypatch.setattr(fast_transactions, "_installed", False)

    with pytest.raises(fast_transactions.UnsupportedMotoVersion, match="5.2.6"):
        fast_transactions.install()


def test_fast_scans_keep_motos_order(server):
    from moto.backends import get_backend

    from devtools.embedded import fast_scans

    client = make_client(server.url)
    name = f"order-{uuid.uuid4().hex[:8]}"
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("PK", "SK")],
        BillingMode="PAY_PER_REQUEST",
    )
    for number in range(300):
        key = {"PK": {"S": f"P#{number % 17}"}, "SK": {"S": f"{(number * 7919) % 1000:04d}"}}
        client.put_item(TableName=name, Item=key)
    table = get_backend("dynamodb")["123456789012"]["us-east-1"].tables[name]
    fast = [(i.hash_key.value, i.range_key.value) for i in table.all_items()]
    moto = [(i.hash_key.value, i.range_key.value) for i in fast_scans.original_all_items()(table)]
    assert fast == moto and len(fast) == 300
    client.delete_table(TableName=name)


def test_fast_scans_refuse_another_moto_version(monkeypatch):
    from devtools.embedded import fast_scans

    monkeypatch.setattr(fast_scans, "moto_version", lambda: "5.2.6")
    monkeypatch.setattr(fast_scans, "_original_all_items", None)
    with pytest.raises(fast_scans.UnsupportedMotoVersion, match="5.2.6"):
        fast_scans.install()
