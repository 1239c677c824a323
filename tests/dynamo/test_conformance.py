"""DynamoDB's own rules, where moto and DynamoDB Local have been seen to differ.

Every test here runs against moto's mock and against AWS's DynamoDB Local
(``aws = dynamodb_backend`` in this folder's conftest). Each pins a rule the
model layer relies on: an empty string in a key condition, key and item size
limits, start item_keys checked against the query, pagination item_keys of the shape
DynamoDB itself returns, idempotent transactions.
"""

import pytest
from django.core import signing

from restaurants.dynamo import item_keys, reads, writes
from restaurants.dynamo.client import call
from restaurants.dynamo.cursors import encode_cursor
from restaurants.dynamo.errors import InvalidCursor, Rejected
from restaurants.dynamo.items import serialize

FINE_DINING = "AnyCompany Fine Dining"


def test_an_empty_search_prefix_lists_every_restaurant(lab_table):
    """Both refuse ``begins_with(GSI3SK, "")``: an empty key value."""
    assert len(reads.restaurant_search(prefix="", page_size=50).items) == 10
    with pytest.raises(Rejected):
        call(
            "Query",
            IndexName=item_keys.ALL_RESTAURANTS_INDEX,
            KeyConditionExpression="GSI3PK = :pk AND begins_with(GSI3SK, :prefix)",
            ExpressionAttributeValues={":pk": {"S": item_keys.ALL_RESTAURANTS}, ":prefix": {"S": ""}},
        )


def test_our_page_keys_have_the_shape_dynamodb_returns(lab_table):
    """We ask for one item more than a page and build the next page's key from
    the page's last item; it must equal DynamoDB's own LastEvaluatedKey."""
    ours = reads.restaurant_reviews_list(name=FINE_DINING, page_size=10)
    theirs = call(
        "Query",
        IndexName=item_keys.REVIEWS_INDEX,
        KeyConditionExpression="GSI1PK = :pk AND begins_with(GSI1SK, :review)",
        ExpressionAttributeValues={":pk": {"S": item_keys.restaurant_key(FINE_DINING)}, ":review": {"S": "#REVIEW#"}},
        ScanIndexForward=False,
        Limit=10,
    )["LastEvaluatedKey"]
    assert signing.loads(ours.next_cursor, salt=f"cursor:reviews:{FINE_DINING}") == theirs


def test_a_start_key_outside_the_query_is_an_invalid_cursor_not_a_500(lab_table, aws):
    """DynamoDB Local (like DynamoDB) refuses a start key that does not match the
    key condition; moto ignores it and answers the first page again."""
    other = reads.restaurant_reviews_list(name="Example Corp. Thai", page_size=1).next_cursor
    foreign_key = signing.loads(other, salt="cursor:reviews:Example Corp. Thai")
    forged = encode_cursor(foreign_key, scope=f"reviews:{FINE_DINING}")  # signed: only a bug of ours could make it
    if aws == "dynamodb-local":
        with pytest.raises(InvalidCursor):
            reads.restaurant_reviews_list(name=FINE_DINING, cursor=forged)
    else:
        first_page = reads.restaurant_reviews_list(name=FINE_DINING)
        assert reads.restaurant_reviews_list(name=FINE_DINING, cursor=forged).items == first_page.items


def test_the_longest_names_fit_dynamodbs_key_limits(table):
    """Names are capped at 200 characters; at 4 UTF-8 bytes each, the sort item_keys
    that carry them (``REST#<name>``, at most 1,024 bytes) still fit."""
    name = "\U0001d11e" * 200
    writes.restaurant_create(name=name, cuisine="Music", address="1 Clef Street")
    writes.review_create(username="alice", restaurant=name, rating=5, text="\U0001f3b5" * 5000)
    summary = reads.restaurant_summary_get(name=name)
    assert summary.restaurant.review_count == 1 and len(summary.latest_reviews[0].review) == 5000


def test_an_item_over_400_kb_is_rejected(table):
    item = {**item_keys.user_item_keys("bigitem"), "blob": "x" * 410_000}
    with pytest.raises(Rejected, match="size"):
        call("PutItem", Item=serialize(item))


def test_a_transaction_may_not_name_one_item_twice(table):
    key = serialize(item_keys.user_item_keys("twice"))
    with pytest.raises(Rejected, match="multiple operations on one item"):
        call(
            "TransactWriteItems",
            TransactItems=[
                {"Put": {"TableName": lab_table_name(), "Item": {**key, "a": {"S": "1"}}}},
                {
                    "ConditionCheck": {
                        "TableName": lab_table_name(),
                        "Key": key,
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                },
            ],
        )


def test_a_repeated_client_request_token_applies_once_on_dynamodb_local_only(table, aws):
    """The idempotency the review writes will rely on: DynamoDB (and DynamoDB
    Local) apply a TransactWriteItems once per ClientRequestToken for 10
    minutes; moto applies it every time, so tests of retried posts need DynamoDB Local."""
    key = serialize(item_keys.user_item_keys("counter"))
    increment = {
        "Update": {
            "TableName": lab_table_name(),
            "Key": key,
            "UpdateExpression": "ADD hits :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }
    for _ in range(2):
        call("TransactWriteItems", TransactItems=[increment], ClientRequestToken="same-submission")
    hits = int(call("GetItem", Key=key, ConsistentRead=True)["Item"]["hits"]["N"])
    assert hits == (1 if aws == "dynamodb-local" else 2)


def lab_table_name() -> str:
    from restaurants.dynamo.client import table_name

    return table_name()
