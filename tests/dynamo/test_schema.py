import boto3
import pytest

from restaurants.dynamo import reads
from restaurants.dynamo.client import count_requests
from restaurants.dynamo.schema import create_table, describe_table, scan_items, upgrade_table
from tests.conftest import lab_items


@pytest.fixture
def lab_made_table(aws, settings):
    """A table made and loaded the way the AWS lab's own scripts do it."""
    dynamodb = boto3.resource("dynamodb", region_name="us-east-1")
    table = dynamodb.create_table(
        TableName=settings.DYNAMODB_TABLE,
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": "S"} for name in ("PK", "SK", "GSI1PK", "GSI1SK")
        ],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "GSI1",
                "KeySchema": [
                    {"AttributeName": "GSI1PK", "KeyType": "HASH"},
                    {"AttributeName": "GSI1SK", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
                "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
            }
        ],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )
    with table.batch_writer() as batch:
        for item in lab_items():
            batch.put_item(Item=item)
    return table


def _by_key(items):
    return {(item["PK"], item["SK"]): item for item in items}


def test_upgrade_adds_our_indexes_and_keeps_every_lab_attribute(lab_made_table):
    done = upgrade_table()

    indexes = {index["IndexName"] for index in describe_table()["GlobalSecondaryIndexes"]}
    assert indexes == {"GSI1", "GSI2", "GSI3", "GSI4"}
    assert {"added index GSI2", "added index GSI3", "added index GSI4"} <= set(done)
    stored = _by_key(scan_items())
    for key, lab_item in _by_key(lab_items()).items():
        assert {name: stored[key][name] for name in lab_item} == lab_item


def test_upgrade_is_idempotent(lab_made_table):
    upgrade_table()
    before = _by_key(scan_items())
    assert upgrade_table() == []
    assert _by_key(scan_items()) == before


def test_upgraded_lab_table_serves_every_access_pattern(lab_made_table):
    upgrade_table()
    with count_requests() as requests:
        summary = reads.restaurant_summary_get(name="AnyCompany Fine Dining")
        restaurants = reads.restaurant_list(page_size=50)
        thai = reads.restaurant_list(cuisine="Thai")
        cuisines = reads.cuisine_list()
        found = reads.restaurant_name_search(query="example corp. thái")
    assert [r.name for r in found.items] == ["Example Corp. Thai"]
    assert [r.username for r in summary.latest_reviews][:2] == ["markmartin", "kgraham"]
    assert len(restaurants.items) == 10
    assert [r.name for r in thai.items] == ["Example Corp. Thai"]
    assert len(cuisines) == 7
    assert requests["Scan"] == 0


def test_upgrade_adds_the_name_search_index_projecting_what_results_show(lab_made_table):
    upgrade_table()
    (index,) = [i for i in describe_table()["GlobalSecondaryIndexes"] if i["IndexName"] == "GSI4"]
    assert index["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["name", "cuisine", "address"]}
    stored = _by_key(scan_items())
    fine_dining = stored[("REST#AnyCompany Fine Dining", "REST#AnyCompany Fine Dining")]
    assert (fine_dining["GSI4PK"], fine_dining["GSI4SK"]) == (
        "NAMES",
        "anycompany fine dining #AnyCompany Fine Dining",
    )


def test_upgrade_gives_restaurants_of_an_older_table_of_ours_their_search_keys(table):
    """A table of ours from before name search: its restaurants lack GSI4's keys."""
    from restaurants.dynamo.bulk import write_items

    write_items(lab_items())
    for item in scan_items():
        if "GSI4PK" in item:
            boto3.client("dynamodb", region_name="us-east-1").update_item(
                TableName=describe_table()["TableName"],
                Key={"PK": {"S": item["PK"]}, "SK": {"S": item["SK"]}},
                UpdateExpression="REMOVE GSI4PK, GSI4SK",
            )
    assert reads.restaurant_name_search(query="anycompany").items == []

    assert "added index attributes to 10 restaurants" in upgrade_table()
    assert len(reads.restaurant_name_search(query="anycompany").items) == 5


def test_create_table_is_idempotent(aws):
    assert create_table() is True
    assert create_table() is False


def test_upgrade_without_a_table_says_so(aws):
    from restaurants.dynamo.errors import NotFound

    with pytest.raises(NotFound, match="create_table"):
        upgrade_table()
