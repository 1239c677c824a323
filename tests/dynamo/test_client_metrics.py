"""Every DynamoDB call through ``client.call`` records its metrics by operation."""

import pytest
from prometheus_client import REGISTRY

from restaurants.dynamo import client
from restaurants.dynamo.errors import NotFound, Unavailable
from restaurants.dynamo.item_keys import restaurant_item_keys


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def get_restaurant() -> dict:
    return client.call("GetItem", Key={k: {"S": v} for k, v in restaurant_item_keys("Nowhere").items()})


def test_a_call_moves_its_operation_counter_and_latency(table):
    before = sample("tastebook_dynamodb_requests_total", operation="GetItem")
    observed = sample("tastebook_dynamodb_request_duration_seconds_count", operation="GetItem")
    get_restaurant()
    assert sample("tastebook_dynamodb_requests_total", operation="GetItem") == before + 1
    assert sample("tastebook_dynamodb_request_duration_seconds_count", operation="GetItem") == observed + 1


def test_reads_and_writes_ask_for_consumed_capacity_and_record_it(table):
    before = sample("tastebook_dynamodb_consumed_capacity_units_total", operation="PutItem")
    answer = client.call("PutItem", Item={"PK": {"S": "METRICS#1"}, "SK": {"S": "METRICS#1"}})
    units = answer["ConsumedCapacity"]["CapacityUnits"]
    assert units > 0
    assert sample("tastebook_dynamodb_consumed_capacity_units_total", operation="PutItem") == before + units


def test_an_error_is_counted_by_its_code(table):
    before = sample("tastebook_dynamodb_errors_total", operation="DeleteTable", code="ResourceNotFoundException")
    client.call("DeleteTable")
    with pytest.raises(NotFound):
        client.call("DeleteTable")
    after = sample("tastebook_dynamodb_errors_total", operation="DeleteTable", code="ResourceNotFoundException")
    assert after == before + 1


@pytest.mark.parametrize("code", ["ThrottlingException", "ProvisionedThroughputExceededException"])
def test_a_throttle_moves_the_throttle_counter(table, dynamodb_answers_error, code):
    dynamodb_answers_error(code, operation="GetItem")
    before = sample("tastebook_dynamodb_throttles_total", operation="GetItem")
    errors = sample("tastebook_dynamodb_errors_total", operation="GetItem", code=code)
    with pytest.raises(Unavailable):
        get_restaurant()
    assert sample("tastebook_dynamodb_throttles_total", operation="GetItem") == before + 1
    assert sample("tastebook_dynamodb_errors_total", operation="GetItem", code=code) == errors + 1


def test_a_server_error_is_unavailable_but_no_throttle(table, dynamodb_answers_error):
    dynamodb_answers_error("InternalServerError", operation="GetItem")
    before = sample("tastebook_dynamodb_throttles_total", operation="GetItem")
    with pytest.raises(Unavailable):
        get_restaurant()
    assert sample("tastebook_dynamodb_throttles_total", operation="GetItem") == before
