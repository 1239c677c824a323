"""The embedded DynamoDB, both kinds: DynamoDB Local and moto's server (the fallback).

Each must keep transactions atomic under concurrency and say why one failed;
DynamoDB Local must keep its data on disk across a SIGKILL.
"""

import ipaddress
import os
import signal
import socket
import threading
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from devtools.embedded.dynamodb import start_embedded_dynamodb
from devtools.embedded.dynamodb_local import DynamoDBLocalUnavailable, start_dynamodb_local
from devtools.embedded.moto_server import start_moto_dynamodb

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", params=["dynamodb-local", "moto"])
def server(request):
    embedded = start_dynamodb_local() if request.param == "dynamodb-local" else start_moto_dynamodb()
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


def test_concurrent_transactions_never_lose_an_update(server, table):
    """moto is safe only because we serialize it; DynamoDB Local, like AWS, may
    cancel a transaction that races another on the same item (TransactionConflict),
    but never applies half of one or loses one it accepted."""
    add_filler(make_client(server.url), table, 2000)
    errors: list[ClientError] = []
    start = threading.Barrier(20)

    def post(index: int) -> None:
        client = make_client(server.url)
        start.wait()
        try:
            post_review(client, table, f"{index:02d}")
        except ClientError as exc:
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
    reasons = {reason["Code"] for error in errors for reason in error.response.get("CancellationReasons", [])}
    assert reasons <= {"None", "TransactionConflict"}, errors
    if server.kind.startswith("moto"):
        assert errors == []
    assert len(reviews) == 20 - len(errors) > 0
    assert counter(client, table) == len(reviews)


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


def test_dynamodb_local_keeps_every_write_through_a_sigkill(tmp_path):
    first = start_dynamodb_local(db_path=tmp_path / "db")
    client = make_client(first.url)
    client.create_table(
        TableName="kept",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.put_item(TableName="kept", Item={"PK": {"S": "written-just-before-the-kill"}})
    os.kill(first.process.pid, signal.SIGKILL)
    first.process.wait()

    with start_dynamodb_local(db_path=tmp_path / "db") as second:
        item = make_client(second.url).get_item(TableName="kept", Key={"PK": {"S": "written-just-before-the-kill"}})
    assert "Item" in item


def listening_addresses(port: int) -> set[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The local addresses of the sockets listening on ``port``, from the
    kernel's tables (nothing is sent anywhere: the rules of this workplace
    allow traffic to loopback only, and a listener's address says it all)."""
    found = set()
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].rsplit(":", 1)
            if int(hex_port, 16) != port or fields[3] != "0A":  # 0A: LISTEN
                continue
            raw = bytes.fromhex(address)  # 32-bit words in host (little-endian) order
            raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            found.add(ipaddress.ip_address(socket.inet_ntop(family, raw)))
    return found


def is_loopback(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def test_dynamodb_local_answers_on_loopback_and_listens_nowhere_else(server):
    if server.kind == "moto server (fallback)":
        pytest.skip("the loopback-only listener is DynamoDB Local's")
    assert make_client(server.url).list_tables()["TableNames"] is not None
    addresses = listening_addresses(server.port)
    assert addresses and all(is_loopback(address) for address in addresses), addresses


def test_without_java_the_fallback_is_moto_and_says_so(monkeypatch):
    monkeypatch.delenv("EMBEDDED_DYNAMODB", raising=False)
    monkeypatch.setattr("devtools.embedded.dynamodb_local.java_executable", lambda: None)
    notices: list[str] = []
    with start_embedded_dynamodb(notice=notices.append) as server:
        assert server.kind == "moto server (fallback)" and not server.persistent
        assert make_client(server.url).list_tables()["TableNames"] is not None
    assert len(notices) == 1 and "no Java runtime" in notices[0] and "moto" in notices[0]


def test_make_test_refuses_the_fallback(monkeypatch):
    monkeypatch.setenv("EMBEDDED_DYNAMODB", "dynamodb-local")
    monkeypatch.setattr("devtools.embedded.dynamodb_local.java_executable", lambda: None)
    with pytest.raises(DynamoDBLocalUnavailable, match="no Java runtime"):
        start_embedded_dynamodb(notice=pytest.fail)
