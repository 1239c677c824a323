"""The single entry point for every DynamoDB call.

One boto3 client per process, with explicit timeouts and the standard retry
mode. ``call`` translates botocore errors into our small exception tree and
counts requests by operation, so tests can pin down what a page costs.
"""

import collections
import contextlib
import functools
import threading
from collections.abc import Iterator

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from .errors import ConditionFailed, NotFound, Rejected, TokenReused, TransactionCancelled, Unavailable

_THROTTLING_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
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


@functools.cache
def get_client():
    """Endpoint and credentials follow boto3's own conventions
    (``AWS_ENDPOINT_URL_DYNAMODB`` unset means real AWS)."""
    config = Config(
        connect_timeout=settings.DYNAMODB_CONNECT_TIMEOUT,
        read_timeout=settings.DYNAMODB_READ_TIMEOUT,
        retries={"mode": settings.DYNAMODB_RETRY_MODE, "max_attempts": settings.DYNAMODB_MAX_ATTEMPTS},
        max_pool_connections=50,
    )
    return boto3.session.Session().client("dynamodb", region_name=settings.AWS_REGION, config=config)


@functools.cache
def _probe_client(timeout: float):
    """For readiness probes: short timeouts and no retries, so a probe answers
    within ``timeout`` whatever DynamoDB does."""
    config = Config(connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 1, "mode": "standard"})
    return boto3.session.Session().client("dynamodb", region_name=settings.AWS_REGION, config=config)


def probe_table(*, timeout: float) -> None:
    """DescribeTable on our table (the cheapest call that proves the endpoint,
    the credentials and the table); raises Unavailable or NotFound."""
    with _lock:
        for counter in _counters:
            counter["DescribeTable"] += 1
    try:
        _probe_client(timeout).describe_table(TableName=table_name())
    except ClientError as error:
        raise translate(error) from error
    except BotoCoreError as error:
        raise Unavailable(str(error)) from error


def reset_client() -> None:
    """Forget the cached clients (tests that change endpoints use this)."""
    get_client.cache_clear()
    _probe_client.cache_clear()


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
    with _lock:
        for counter in _counters:
            counter[operation] += 1
    method = getattr(get_client(), _snake_case(operation))
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
    if code == "IdempotentParameterMismatchException":
        return TokenReused(message)
    return error


@functools.cache
def _snake_case(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")
