"""The stream consumer's suites run against moto's mock and against DynamoDB Local."""

import pytest


@pytest.fixture
def aws(dynamodb_backend):
    return dynamodb_backend
