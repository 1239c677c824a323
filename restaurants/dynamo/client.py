"""The single entry point for every DynamoDB call.

One boto3 client per process, with explicit timeouts and the standard retry
mode. ``call`` translates botocore errors into our small exception tree and
counts requests by operation, so tests can pin down what a page costs.
``stream_call`` does the same for the table's DynamoDB Stream, which AWS
serves from an endpoint of its own (``dynamodbstreams``).
"""

import collections
import contextlib
import functools
import os
import threading
from collections.abc import Iterator

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from .errors import (
    ConditionFailed,
    IteratorExpired,
    NotFound,
    RecordsTrimmed,
    Rejected,
    TransactionCancelled,
    Unavailable,
)

_THROTTLING_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "LimitExceededException",  # GetRecords called too often on one shard
}

_OPERATIONS_WITHOUT_TABLE_NAME = {
    "ListTables",
    "BatchWriteItem",
    "BatchGetItem",
    "TransactWriteItems",
    "TransactGetItems",
}

_lock = threading.Lock()
_counters: list[collections.Counter] = []


def _config() -> Config:
    return Config(
        connect_timeout=settings.DYNAMODB_CONNECT_TIMEOUT,
        read_timeout=settings.DYNAMODB_READ_TIMEOUT,
        retries={"mode": settings.DYNAMODB_RETRY_MODE, "max_attempts": settings.DYNAMODB_MAX_ATTEMPTS},
        max_pool_connections=50,
    )


@functools.cache
def get_client():
    """Endpoint and credentials follow boto3's own conventions
    (``AWS_ENDPOINT_URL_DYNAMODB`` unset means real AWS)."""
    return boto3.session.Session().client("dynamodb", region_name=settings.AWS_REGION, config=_config())


@functools.cache
def get_streams_client():
    """The Streams API. boto3 reads ``AWS_ENDPOINT_URL_DYNAMODB_STREAMS`` by
    itself; without it, a local DynamoDB (``AWS_ENDPOINT_URL_DYNAMODB``:
    DynamoDB Local, moto's server) serves streams at its own endpoint."""
    endpoint = None
    if not os.environ.get("AWS_ENDPOINT_URL_DYNAMODB_STREAMS"):
        endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or None
    return boto3.session.Session().client(
        "dynamodbstreams", region_name=settings.AWS_REGION, config=_config(), endpoint_url=endpoint
    )


def reset_client() -> None:
    """Forget the cached clients (tests that change endpoints use this)."""
    get_client.cache_clear()
    get_streams_client.cache_clear()


def table_name() -> str:
    return settings.DYNAMODB_TABLE


@contextlib.contextmanager
def count_requests() -> Iterator[collections.Counter]:
    """Count the DynamoDB requests made inside the block, by operation name."""
    counter: collections.Counter = collections.Counter()
    with _lock:
        _counters.append(counter)
    try:
        yield counter
    finally:
        with _lock:
            _counters.remove(counter)


def call(operation: str, **params) -> dict:
    """Run one DynamoDB operation (``"Query"``, ``"PutItem"``...) on our table."""
    if operation not in _OPERATIONS_WITHOUT_TABLE_NAME:
        params.setdefault("TableName", table_name())
    return _run(get_client(), operation, params)


def stream_call(operation: str, **params) -> dict:
    """Run one DynamoDB Streams operation (``"DescribeStream"``, ``"GetRecords"``...)."""
    return _run(get_streams_client(), operation, params)


def _run(client, operation: str, params: dict) -> dict:
    with _lock:
        for counter in _counters:
            counter[operation] += 1
    method = getattr(client, _snake_case(operation))
    try:
        return method(**params)
    except ClientError as error:
        raise translate(error) from error
    except BotoCoreError as error:
        raise Unavailable(str(error)) from error


def translate(error: ClientError) -> Exception:
    code = error.response.get("Error", {}).get("Code", "")
    message = error.response.get("Error", {}).get("Message", str(error))
    if code == "ConditionalCheckFailedException":
        return ConditionFailed(message)
    if code == "TransactionCanceledException":
        reasons = [reason.get("Code", "None") for reason in error.response.get("CancellationReasons", [])]
        if "ThrottlingError" in reasons or "ProvisionedThroughputExceeded" in reasons:
            return Unavailable(message)
        return TransactionCancelled(message, reasons)
    if code == "ResourceNotFoundException":
        return NotFound(message)
    if code in _THROTTLING_CODES:
        return Unavailable(message)
    if code == "ValidationException":
        return Rejected(message)
    if code == "ExpiredIteratorException":
        return IteratorExpired(message)
    if code == "TrimmedDataAccessException":
        return RecordsTrimmed(message)
    return error


@functools.cache
def _snake_case(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")
