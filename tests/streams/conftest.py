"""The stream consumer's suites run against moto's mock and against DynamoDB Local."""

import pytest

from restaurants import stream_follower


@pytest.fixture
def aws(dynamodb_backend):
    return dynamodb_backend


@pytest.fixture
def follower(lab_table):
    """The consumer, caught up with the lab's items (its first start retires every cache)."""
    consumer = stream_follower.StreamFollower()
    consumer.catch_up()
    return consumer
