"""How long a review post's TransactWriteItems takes on the embedded server.

Run ``python -m devtools.embedded.bench_transactions [--sizes 1000,5000,20000]``.
For each table size it loads that many items, then times the same two-action
transaction we use for a review post (Put with attribute_not_exists, Update
incrementing a counter with attribute_exists), first with moto's own
implementation, then with ``fast_transactions``. Both run in this process
over HTTP, so the numbers include boto3 and the WSGI round trip.
"""

import argparse
import statistics
import time
import uuid

import boto3

from . import fast_transactions
from .moto_server import start_dynamodb


def dynamodb_client(url: str):
    return boto3.client(
        "dynamodb",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def make_table(client, name: str, size: int) -> None:
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    client.put_item(TableName=name, Item={"PK": {"S": "REST#bench"}, "SK": {"S": "META"}, "reviews": {"N": "0"}})
    for start in range(0, size, 25):
        requests = [
            {
                "PutRequest": {
                    "Item": {"PK": {"S": f"REST#{i % 500}"}, "SK": {"S": f"REVIEW#{i}"}, "text": {"S": "x" * 200}}
                }
            }
            for i in range(start, min(start + 25, size))
        ]
        client.batch_write_item(RequestItems={name: requests})


def post_review(client, table: str) -> None:
    client.transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": table,
                    "Item": {"PK": {"S": "REST#bench"}, "SK": {"S": f"REVIEW#{uuid.uuid4()}"}, "text": {"S": "ok"}},
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
            {
                "Update": {
                    "TableName": table,
                    "Key": {"PK": {"S": "REST#bench"}, "SK": {"S": "META"}},
                    "UpdateExpression": "ADD reviews :one",
                    "ConditionExpression": "attribute_exists(PK)",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
        ]
    )


def median_ms(client, table: str, repeats: int) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        post_review(client, table)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,5000,20000")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)

    server = start_dynamodb()
    client = dynamodb_client(server.url)
    try:
        print(f"{'items':>7} {'moto ms':>9} {'patched ms':>11} {'ratio':>7}")
        for size in (int(s) for s in args.sizes.split(",")):
            table = f"bench-{size}-{uuid.uuid4().hex[:6]}"
            make_table(client, table, size)
            post_review(client, table)  # warm up parsers and connections
            fast_transactions.uninstall()
            original = median_ms(client, table, max(3, args.repeats // (1 + size // 5000)))
            fast_transactions.install()
            patched = median_ms(client, table, args.repeats)
            print(f"{size:>7} {original:>9.1f} {patched:>11.1f} {original / patched:>6.0f}x")
            client.delete_table(TableName=table)
    finally:
        fast_transactions.install()
        server.stop()


if __name__ == "__main__":
    main()
