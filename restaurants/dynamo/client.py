"""The single entry point for every DynamoDB call.

One boto3 client per process, with explicit timeouts and the standard retry
mode, rebuilt when DynamoDB rejects its credentials. ``call`` translates every
botocore error into our small exception tree (``errors.py``), and
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
from collections.abc import Callable, Hashable, Iterator
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    MetadataRetrievalError,
    NoAuthTokenError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
    ReadTimeoutError,
    RefreshWithMFAUnsupportedError,
    SSOError,
    TokenRetrievalError,
    UnknownCredentialError,
)
from django.conf import settings

from restaurants import metrics

from .errors import (
    AlreadyExists,
    ConditionFailed,
    Conflict,
    CredentialsRejected,
    DataError,
    IteratorExpired,
    NotAuthorized,
    NotFound,
    RecordsTrimmed,
    Rejected,
    TimedOut,
    TokenReused,
    TransactionCancelled,
    Unavailable,
    UnknownError,
)

# All become Unavailable; only the first are counted as throttles.
_THROTTLING_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "LimitExceededException",  # GetRecords called too often on one shard
}
_SERVER_ERROR_CODES = {"InternalServerError", "InternalFailure", "ServiceUnavailable", "ServiceUnavailableException"}

# What each error code DynamoDB and its Streams API document (botocore's
# service models, and AWS's common errors) becomes; a code missing here is an
# UnknownError. The kind is chosen by what the caller should do, and through
# it what the visitor is answered (restaurants/error_pages.py).
_KINDS: dict[str, type[DataError]] = {
    **dict.fromkeys(_THROTTLING_CODES | _SERVER_ERROR_CODES, Unavailable),
    # Worth trying again in a moment: a request timed out, or an item is held by another transaction.
    **dict.fromkeys(
        [
            "RequestTimeout",
            "RequestTimeoutException",
            "TransactionInProgressException",
            "TransactionConflictException",
            "ReplicatedWriteConflictException",
        ],
        Unavailable,
    ),
    # Who we are: fresh credentials from boto3's chain may mend it (the client is rebuilt).
    **dict.fromkeys(
        [
            "ExpiredToken",
            "ExpiredTokenException",
            "UnrecognizedClientException",
            "InvalidClientTokenId",
            "MissingAuthenticationToken",
            "MissingAuthenticationTokenException",
            "IncompleteSignature",
            "IncompleteSignatureException",
            "InvalidSignatureException",  # a rotated secret key still cached with its old id
            "SignatureDoesNotMatch",
        ],
        CredentialsRejected,
    ),
    # What we may do: an operator must mend the policy, or the clock.
    **dict.fromkeys(
        ["AccessDeniedException", "AccessDenied", "NotAuthorized", "OptInRequired", "RequestExpired"], NotAuthorized
    ),
    **dict.fromkeys(
        [
            "ResourceNotFoundException",
            "TableNotFoundException",
            "IndexNotFoundException",
            "GlobalTableNotFoundException",
            "ReplicaNotFoundException",
            "BackupNotFoundException",
            "ExportNotFoundException",
            "ImportNotFoundException",
            "PolicyNotFoundException",
        ],
        NotFound,
    ),
    **dict.fromkeys(
        [
            "TableAlreadyExistsException",
            "GlobalTableAlreadyExistsException",
            "ReplicaAlreadyExistsException",
            "DuplicateItemException",  # a PartiQL INSERT of a key already there
        ],
        AlreadyExists,
    ),
    # A table, backup, export or import busy with another operation (control plane only).
    **dict.fromkeys(
        [
            "ResourceInUseException",
            "TableInUseException",
            "BackupInUseException",
            "ExportConflictException",
            "ImportConflictException",
        ],
        Conflict,
    ),
    # The request itself is wrong: sending it again cannot help.
    **dict.fromkeys(
        [
            "ValidationException",
            "SerializationException",
            "UnknownOperationException",
            "ItemCollectionSizeLimitExceededException",
            "InvalidExportTimeException",
            "InvalidRestoreTimeException",
            "ContinuousBackupsUnavailableException",
            "PointInTimeRecoveryUnavailableException",
            "InvalidAction",
            "InvalidParameterCombination",
            "InvalidParameterValue",
            "InvalidQueryParameter",
            "MalformedQueryString",
            "MissingAction",
            "MissingParameter",
        ],
        Rejected,
    ),
    "ConditionalCheckFailedException": ConditionFailed,
    "IdempotentParameterMismatchException": TokenReused,
    "ExpiredIteratorException": IteratorExpired,
    "TrimmedDataAccessException": RecordsTrimmed,
}

# botocore's own errors about credentials (none found, a provider that failed,
# an SSO token gone): raised before anything was sent.
_CREDENTIAL_ERRORS = (
    NoCredentialsError,
    PartialCredentialsError,
    CredentialRetrievalError,
    UnknownCredentialError,
    RefreshWithMFAUnsupportedError,
    MetadataRetrievalError,
    NoAuthTokenError,
    TokenRetrievalError,
    SSOError,
)

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


class _Clients:
    """The process's boto3 clients, each built on first use and kept.

    A client resolves its credentials when it is built: one built before any
    were available, or holding static keys that expired, fails every call for
    the life of the process. ``drop`` forgets such a client so the next call
    builds another, which asks boto3's credential chain again. One thread
    builds while the others wait, and a late ``drop`` (a call that failed on a
    client already replaced) leaves its replacement alone."""

    def __init__(self):
        self._lock = threading.Lock()
        self._built: dict[Hashable, Any] = {}

    def get(self, key: Hashable, build: Callable[[], Any]) -> Any:
        client = self._built.get(key)
        if client is None:
            with self._lock:
                client = self._built.get(key)
                if client is None:
                    client = self._built[key] = build()
        return client

    def drop(self, client: Any) -> None:
        with self._lock:
            for key in [key for key, built in self._built.items() if built is client]:
                del self._built[key]

    def clear(self) -> None:
        with self._lock:
            self._built.clear()


_clients = _Clients()


def _config() -> Config:
    return Config(
        connect_timeout=settings.DYNAMODB_CONNECT_TIMEOUT,
        read_timeout=settings.DYNAMODB_READ_TIMEOUT,
        retries={"mode": settings.DYNAMODB_RETRY_MODE, "max_attempts": settings.DYNAMODB_MAX_ATTEMPTS},
        max_pool_connections=50,
    )


def get_client():
    """Endpoint and credentials follow boto3's own conventions
    (``AWS_ENDPOINT_URL_DYNAMODB`` unset means real AWS)."""
    return _clients.get(
        "dynamodb",
        lambda: boto3.session.Session().client("dynamodb", region_name=settings.AWS_REGION, config=_config()),
    )


def get_streams_client():
    """The Streams API. boto3 reads ``AWS_ENDPOINT_URL_DYNAMODB_STREAMS`` by
    itself; without it, a local DynamoDB (``AWS_ENDPOINT_URL_DYNAMODB``:
    DynamoDB Local, moto's server) serves streams at its own endpoint."""

    def build():
        endpoint = None
        if not os.environ.get("AWS_ENDPOINT_URL_DYNAMODB_STREAMS"):
            endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or None
        return boto3.session.Session().client(
            "dynamodbstreams", region_name=settings.AWS_REGION, config=_config(), endpoint_url=endpoint
        )

    return _clients.get("dynamodbstreams", build)


def _probe_client(timeout: float):
    """For readiness probes: short timeouts and no retries, so a probe answers
    within ``timeout`` whatever DynamoDB does."""
    config = Config(connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 1, "mode": "standard"})
    return _clients.get(
        ("probe", timeout),
        lambda: boto3.session.Session().client("dynamodb", region_name=settings.AWS_REGION, config=config),
    )


def probe_table(*, timeout: float) -> None:
    """DescribeTable on our table (the cheapest call that proves the endpoint,
    the credentials and the table); raises TimedOut when no answer came within
    ``timeout`` (slow is not dead), Unavailable or NotFound."""
    _run(functools.partial(_probe_client, timeout), "DescribeTable", {"TableName": table_name()})


def reset_client() -> None:
    """Forget the cached clients (tests that change endpoints use this)."""
    _clients.clear()


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
    return _run(get_client, operation, params)


def stream_call(operation: str, **params) -> dict:
    """Run one DynamoDB Streams operation (``"DescribeStream"``, ``"GetRecords"``...)."""
    return _run(get_streams_client, operation, params)


def _run(get: Callable[[], Any], operation: str, params: dict) -> dict:
    """Getting the client is inside the translated block: building one can
    fail too (no region, a profile that does not exist)."""
    with _lock:
        for counter in _counters:
            counter[operation] += 1
    started = time.perf_counter()
    client = None
    try:
        client = get()
        response = getattr(client, _snake_case(operation))(**params)
    except ClientError as error:
        _record(operation, started, error.response, code=error.response.get("Error", {}).get("Code", "Unknown"))
        raise _translated(error, client, operation, params) from error
    except BotoCoreError as error:
        _record(operation, started, {}, code=type(error).__name__)
        raise _translated(error, client, operation, params) from error
    _record(operation, started, response)
    return response


def _translated(error: ClientError | BotoCoreError, client: Any, operation: str, params: dict) -> DataError:
    translated = translate(error, operation=operation, table=_table_of(params))
    if isinstance(translated, CredentialsRejected) and client is not None:
        _clients.drop(client)
    return translated


def _table_of(params: dict) -> str | None:
    """The table a request names; those of a batch or a transaction, comma-separated."""
    if "TableName" in params:
        return params["TableName"]
    names = sorted(params.get("RequestItems", {}))
    names += sorted(
        {request.get("TableName", "") for action in params.get("TransactItems", []) for request in action.values()}
    )
    if params.get("StreamArn"):  # arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>
        names.append(params["StreamArn"].partition(":table/")[2].partition("/")[0])
    return ",".join(name for name in names if name) or None


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


def translate(
    error: ClientError | BotoCoreError, *, operation: str | None = None, table: str | None = None
) -> DataError:
    """Our tree's error for any botocore error, never botocore's own: the kind
    by its code (``_KINDS``), and the code, operation, table and request id
    kept on it for the log."""
    if isinstance(error, ClientError):
        body = error.response.get("Error", {})
        code = body.get("Code") or "Unknown"
        message = body.get("Message") or str(error)
        request_id = error.response.get("ResponseMetadata", {}).get("RequestId")
        operation = operation or error.operation_name
    else:
        code, message, request_id = type(error).__name__, str(error), None
    context = {"code": code, "operation": operation, "table": table, "request_id": request_id}
    if code == "TransactionCanceledException":
        reasons = [reason.get("Code", "None") for reason in error.response.get("CancellationReasons", [])]
        if _THROTTLING_REASONS & set(reasons):
            return Unavailable(message, **context)
        return TransactionCancelled(message, reasons, **context)
    return _kind(error, code)(message, **context)


def _kind(error: ClientError | BotoCoreError, code: str) -> type[DataError]:
    if isinstance(error, ClientError):
        kind = _KINDS.get(code, UnknownError)
        if kind is UnknownError and error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500:
            return Unavailable  # a 5xx with a code of its own (or none, from a proxy): DynamoDB's side
        return kind
    if isinstance(error, ConnectTimeoutError | ReadTimeoutError):
        return TimedOut
    if isinstance(error, ParamValidationError):  # refused before it was sent (a value of the wrong type)
        return Rejected
    if isinstance(error, _CREDENTIAL_ERRORS):
        return CredentialsRejected
    return Unavailable  # not reachable as configured: connection refused or reset, no region...


@functools.cache
def _snake_case(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")
