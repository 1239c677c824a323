"""Every Prometheus metric of the site, defined once (the lowest layer, so the
model layer, the cache and the web can all record into it).

Labels are bounded sets only: a DynamoDB operation name, a cache kind and
outcome, a URL name (``restaurants:detail``, never the path), a status code.

Under gunicorn each worker is a process of its own, so the counts live in
files: prometheus_client's multiprocess mode, switched on by
``PROMETHEUS_MULTIPROC_DIR`` in the environment *before* the library is first
imported (``deploy/gunicorn.conf.py`` sets it and removes a dead worker's
gauges in its ``child_exit`` hook). ``exposition`` then merges every
process's files; without the variable it reports this process alone.

Recording must stay cheap on the page-cache hit path: the children used per
hit are bound once, here, rather than looked up by label on every request.
"""

import os

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import multiprocess as _multiprocess
from prometheus_client.exposition import generate_latest

# Requests: seconds, for pages from a Redis hit (~1 ms) to a DynamoDB write with retries.
_REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_DYNAMODB_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0)

# What answered a request that no view handled: the WSGI front's page-cache hits,
# and paths that resolve to no view (404s, APPEND_SLASH redirects).
PAGE_CACHE_VIEW = "page_cache"
UNRESOLVED_VIEW = "unresolved"

http_requests = Counter(
    "tastebook_http_requests_total",
    "HTTP requests answered, by URL name and status (page-cache hits: view=page_cache).",
    ["view", "status"],
)
# Requests Django answers; page-cache hits at the WSGI front are counted above, not timed.
http_request_duration = Histogram(
    "tastebook_http_request_duration_seconds",
    "Time Django took to answer a request, by URL name and status.",
    ["view", "status"],
    buckets=_REQUEST_BUCKETS,
)

cache_lookups = Counter(
    "tastebook_cache_lookups_total",
    "Cache lookups by kind (page, fragment, summary, leaderboard) and outcome (hit, miss, stale: served past fresh).",
    ["kind", "outcome"],
)
cache_stampede_waits = Counter(
    "tastebook_cache_stampede_waits_total",
    "Readers that waited for another reader's refresh, by kind and whether it came (served) or not (timed_out).",
    ["kind", "outcome"],
)
# 0 closed, 1 half-open, 2 open. Each process has its own breaker: livemax
# reports the worst state among live workers.
CIRCUIT_STATE_VALUES = {"closed": 0, "half-open": 1, "open": 2}
cache_circuit_state = Gauge(
    "tastebook_cache_circuit_state",
    "Redis circuit breaker: 0 closed, 1 half-open, 2 open (worst live worker).",
    ["circuit"],
    multiprocess_mode="livemax",
)
cache_circuit_trips = Counter(
    "tastebook_cache_circuit_trips_total",
    "Redis errors that opened (or kept open) the circuit.",
    ["circuit"],
)

dynamodb_requests = Counter(
    "tastebook_dynamodb_requests_total",
    "DynamoDB requests by operation (one per call; botocore's retries are in retries_total).",
    ["operation"],
)
dynamodb_request_duration = Histogram(
    "tastebook_dynamodb_request_duration_seconds",
    "DynamoDB call latency by operation, botocore's retries included.",
    ["operation"],
    buckets=_DYNAMODB_BUCKETS,
)
dynamodb_throttles = Counter(
    "tastebook_dynamodb_throttles_total",
    "DynamoDB requests that ended throttled (after botocore's retries), by operation.",
    ["operation"],
)
dynamodb_retries = Counter(
    "tastebook_dynamodb_retries_total",
    "Attempts botocore repeated (throttling, 5xx, connection errors), by operation.",
    ["operation"],
)
dynamodb_errors = Counter(
    "tastebook_dynamodb_errors_total",
    "DynamoDB requests that failed, by operation and error code (conditional-check failures included).",
    ["operation", "code"],
)
dynamodb_consumed_capacity = Counter(
    "tastebook_dynamodb_consumed_capacity_units_total",
    "Capacity units DynamoDB reported consumed (ReturnConsumedCapacity=TOTAL), by operation.",
    ["operation"],
)

# One per record follow_stream (or the Lambda) could not apply and kept as skipped:
# "retired" if what its keys name was retired instead, "unretired" if even that failed.
stream_records_skipped = Counter(
    "tastebook_stream_records_skipped_total",
    "Stream records that could not be applied and were kept for replay, by whether their keys' caches were retired.",
    ["outcome"],
)

# Bound once: the page-cache hit path records without a label lookup.
page_cache_hit_requests = {status: http_requests.labels(PAGE_CACHE_VIEW, str(status)) for status in (200, 304)}


def exposition() -> tuple[bytes, str]:
    """The text format Prometheus scrapes, and its content type: every worker's
    counts when ``PROMETHEUS_MULTIPROC_DIR`` is set, this process's otherwise."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        _multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry), CONTENT_TYPE_LATEST
