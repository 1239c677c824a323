import json
from pathlib import Path

import pytest
from moto import mock_aws

from restaurants.dynamo import client
from restaurants.dynamo.schema import create_table

LAB_ITEMS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "aws-lab-items.jsonl"
FIXTURE_LAB_ITEMS = Path(__file__).resolve().parent / "data" / "aws-lab-items.jsonl"


def lab_items() -> list[dict]:
    path = LAB_ITEMS if LAB_ITEMS.exists() else FIXTURE_LAB_ITEMS
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture
def aws():
    """moto's in-process mock, with a fresh boto3 client."""
    with mock_aws():
        client.reset_client()
        yield
    client.reset_client()


@pytest.fixture
def table(aws):
    create_table()
    return aws


@pytest.fixture
def lab_review_ids():
    return [item["id"] for item in lab_items() if "id" in item]


@pytest.fixture
def lab_table(table):
    """Our table holding the lab's items.json, loaded as load_items does."""
    from restaurants.dynamo.bulk import write_items

    write_items(lab_items())
    return table
