"""The single entry point for every DynamoDB call.

One boto3 client per process, with explicit timeouts and the standard retry
mode. ``call`` translates botocore errors into our small exception tree and
counts requests by operation, so tests can pin down what a page costs. It
also records the Prometheus metrics of every call (``restaurants.metrics``):
count, latency, botocore's retries, throttles, errors, and the capacity
DynamoDB says it consumed (asked for with ``ReturnConsumedCapacity=TOTAL``).
``stream_call`` does the same for the table's DynamoDB Stream, which AWS
serves from an endpoint of its own (``dynamodbstreams``).
"""

import collections
import contextlib
import functools
import os
import threading
import time
from collections.abc import Iterator

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ParamValidationError, ReadTimeoutError
from django.conf import settings

from restaurants import metrics

from .errors import (
    ConditionFailed,
    IteratorExpired,
    NotFound,
    RecordsTrimmed,
    Rejected,
    TimedOut,
    TokenReused,
    TransactionCancelled,
    Unavailable,
)

# All become Unavailable; only the first are counted as throttles.
_THROTTLING_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "LimitExceededException",  # GetRecords called too often on one shard
}
_SERVER_ERROR_CODES = {"InternalServerError", "ServiceUnavailable"}

_OPERATIONS_WITHOUT_TABLE_NAME = {
    "ListTables",
    "BatchWriteItem",
    "BatchGetItem",
    "TransactWriteItems",
    "TransactGetItems",
}

# The operations that accept ReturnConsumedCapacity.
_OPERATIONS_WITH_CAPACITY = {
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "TransactGetItems",
    "TransactWriteItems",
}
_THROTTLING_REASONS = {"ThrottlingError", "ProvisionedThroughputExceeded"}

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


@functools.cache
def _probe_client(timeout: float):
    """For readiness probes: short timeouts and no retries, so a probe answers
    within ``timeout`` whatever DynamoDB does."""
    config = Config(connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 1, "mode": "standard"})
    return boto3.session.Session().client("dynamodb", region_name=settings.AWS_REGION, config=config)


def probe_table(*, timeout: float) -> None:
    """DescribeTable on our table (the cheapest call that proves the endpoint,
    the credentials and the table); raises TimedOut when no answer came within
    ``timeout`` (slow is not dead), Unavailable or NotFound."""
    with _lock:
        for counter in _counters:
            counter["DescribeTable"] += 1
    started = time.perf_counter()
    try:
        response = _probe_client(timeout).describe_table(TableName=table_name())
    except ClientError as error:
        _record("DescribeTable", started, error.response, code=error.response.get("Error", {}).get("Code", "Unknown"))
        raise translate(error) from error
    except (ConnectTimeoutError, ReadTimeoutError) as error:
        _record("DescribeTable", started, {}, code=type(error).__name__)
        raise TimedOut(str(error)) from error
    except BotoCoreError as error:
        _record("DescribeTable", started, {}, code=type(error).__name__)
        raise Unavailable(str(error)) from error
    _record("DescribeTable", started, response)


def reset_client() -> None:
    """Forget the cached clients (tests that change endpoints use this)."""
    get_client.cache_clear()
    _probe_client.cache_clear()
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
    if operation in _OPERATIONS_WITH_CAPACITY:
        params.setdefault("ReturnConsumedCapacity", "TOTAL")
    return _run(get_client(), operation, params)


def stream_call(operation: str, **params) -> dict:
    """Run one DynamoDB Streams operation (``"DescribeStream"``, ``"GetRecords"``...)."""
    return _run(get_streams_client(), operation, params)


def _run(client, operation: str, params: dict) -> dict:
    with _lock:
        for counter in _counters:
            counter[operation] += 1
    method = getattr(client, _snake_case(operation))
    started = time.perf_counter()
    try:
        response = method(**params)
    except ClientError as error:
        _record(operation, started, error.response, code=error.response.get("Error", {}).get("Code", "Unknown"))
        raise translate(error) from error
    except ParamValidationError as error:  # refused before it was sent (a value of the wrong type): no retry helps
        _record(operation, started, {}, code=type(error).__name__)
        raise Rejected(str(error)) from error
    except BotoCoreError as error:
        _record(operation, started, {}, code=type(error).__name__)
        raise Unavailable(str(error)) from error
    _record(operation, started, response)
    return response


def _record(operation: str, started: float, response: dict, *, code: str | None = None) -> None:
    metrics.dynamodb_requests.labels(operation).inc()
    metrics.dynamodb_request_duration.labels(operation).observe(time.perf_counter() - started)
    retries = response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
    if retries:
        metrics.dynamodb_retries.labels(operation).inc(retries)
    if code is not None:
        metrics.dynamodb_errors.labels(operation, code).inc()
        if _is_throttling(code, response):
            metrics.dynamodb_throttles.labels(operation).inc()
        return
    capacity = response.get("ConsumedCapacity")
    if capacity:
        # A dict for single-table operations, a list (one per table) for batches and transactions.
        entries = capacity if isinstance(capacity, list) else [capacity]
        units = sum(entry.get("CapacityUnits", 0) for entry in entries)
        if units:
            metrics.dynamodb_consumed_capacity.labels(operation).inc(units)


def _is_throttling(code: str, response: dict) -> bool:
    if code == "TransactionCanceledException":
        return any(reason.get("Code") in _THROTTLING_REASONS for reason in response.get("CancellationReasons", []))
    return code in _THROTTLING_CODES


def translate(error: ClientError) -> Exception:
    code = error.response.get("Error", {}).get("Code", "")
    message = error.response.get("Error", {}).get("Message", str(error))
    if code == "ConditionalCheckFailedException":
        return ConditionFailed(message)
    if code == "TransactionCanceledException":
        reasons = [reason.get("Code", "None") for reason in error.response.get("CancellationReasons", [])]
        if _THROTTLING_REASONS & set(reasons):
            return Unavailable(message)
        return TransactionCancelled(message, reasons)
    if code == "ResourceNotFoundException":
        return NotFound(message)
    if code in _THROTTLING_CODES or code in _SERVER_ERROR_CODES:
        return Unavailable(message)
    if code == "ValidationException":
        return Rejected(message)
    if code == "IdempotentParameterMismatchException":
        return TokenReused(message)
    if code == "ExpiredIteratorException":
        return IteratorExpired(message)
    if code == "TrimmedDataAccessException":
        return RecordsTrimmed(message)
    return error


@functools.cache
def _snake_case(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")
