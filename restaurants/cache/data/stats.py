"""Hit and miss counters per cache kind, readable by the admin dashboard.

Counting must not cost a Redis round trip on the hot path, so each process
counts in memory and adds its counts to one bounded Redis hash at most every
few seconds (and from ``flush_counts`` on demand). The same events feed the
Prometheus counter ``tastebook_cache_lookups_total`` (``restaurants.metrics``).
"""

import collections
import threading

from restaurants import metrics

from ..plumbing.connection import CacheDown, primary, redis_or_fallback
from ..rules import clock, keys

KINDS = ("page", "fragment", "summary", "leaderboard")
OUTCOMES = ("hit", "miss", "stale")
FLUSH_EVERY_SECONDS = 5.0

# Bound once: recording a hit costs no label lookup.
_lookups = {(kind, outcome): metrics.cache_lookups.labels(kind, outcome) for kind in KINDS for outcome in OUTCOMES}

_lock = threading.Lock()
_pending: collections.Counter = collections.Counter()  # (kind, outcome) -> count not yet in Redis
_next_flush = clock.monotonic() + FLUSH_EVERY_SECONDS


def record(kind: str, outcome: str) -> None:
    """One lookup: Prometheus's counter now (a scrape is exact), the
    dashboard's Redis hash with this process's next flush (at most
    ``FLUSH_EVERY_SECONDS`` later, at its next lookup)."""
    global _next_flush
    _lookups[kind, outcome].inc()
    now = clock.monotonic()
    with _lock:
        _pending[kind, outcome] += 1
        if now < _next_flush:
            return
        _next_flush = now + FLUSH_EVERY_SECONDS
    flush_counts()


def record_stampede_wait(kind: str, *, served: bool) -> None:
    """A reader waited for another reader's refresh (stampede protection);
    ``served``: the refresh arrived in time, rather than the reader going to DynamoDB."""
    metrics.cache_stampede_waits.labels(kind, "served" if served else "timed_out").inc()


def flush_counts() -> None:
    with _lock:
        counts = dict(_pending)
        _pending.clear()
    if not counts:
        return
    try:
        with redis_or_fallback():
            pipe = primary().pipeline(transaction=False)
            for (kind, outcome), value in counts.items():
                pipe.hincrby(keys.stats_key(), f"{kind}:{outcome}", value)
            pipe.execute()
    except CacheDown:
        pass  # counts from an outage are lost; the outage itself is logged


def read_counts() -> dict[str, dict[str, int]]:
    """{kind: {"hit": n, "miss": n, "stale": n, "ratio": 0..1 or None}}."""
    flush_counts()
    with redis_or_fallback():
        raw = primary().hgetall(keys.stats_key())
    counts = {kind: dict.fromkeys(OUTCOMES, 0) for kind in KINDS}
    for name, value in raw.items():
        kind, _, outcome = name.decode().partition(":")
        if kind in counts and outcome in OUTCOMES:
            counts[kind][outcome] = int(value)
    for row in counts.values():
        served = row["hit"] + row["stale"]
        total = served + row["miss"]
        row["ratio"] = served / total if total else None
    return counts


def reset_counts() -> None:
    with _lock:
        _pending.clear()
    with redis_or_fallback():
        primary().delete(keys.stats_key())
