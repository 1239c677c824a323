"""Case (f): a bare WSGI application that answers every request with the
bytes of the cached page, held in memory. It runs on the same gunicorn as
the other cases, so its throughput is the floor of this server stack:
accepting, parsing and answering a request of that size, with no Django, no
Redis and no page-cache code at all. A page-cache hit can approach it, never
pass it.

Case (f-redis), ``application_from_redis``: the same, but the body comes from
one ``HGET`` through redis-py (a client of its own, default options), as a hit's
does: the floor of any hit that asks Redis, which a near cache alone could pass.

The page is read once, at import (``--preload``: before the fork), from the
file the bench wrote: ``BENCH_FLOOR_PAGE`` holds the response's header lines
(JSON), a blank line, then the body.
"""

import json
import os
from pathlib import Path

import redis

from . import redis_counting

# Where case (f-redis) keeps the page (the bench's own Redis, never the site's keys).
REDIS_KEY, REDIS_FIELD = "bench:floor", "page"


def _load(path: Path) -> tuple[list[tuple[str, str]], bytes]:
    raw = path.read_bytes()
    headers, _, body = raw.partition(b"\n\n")
    return [(str(name), str(value)) for name, value in json.loads(headers)], body


def write_page(path: Path, headers: list[tuple[str, str]], body: bytes) -> None:
    """Keep a response for the floor application to serve."""
    path.write_bytes(json.dumps(headers).encode() + b"\n\n" + body)


_HEADERS, _BODY = _load(Path(os.environ["BENCH_FLOOR_PAGE"])) if "BENCH_FLOOR_PAGE" in os.environ else ([], b"")


_REDIS = (
    redis.Redis.from_url(os.environ["BENCH_FLOOR_REDIS_URL"], connection_class=redis_counting.CountingConnection)
    if "BENCH_FLOOR_REDIS_URL" in os.environ
    else None
)
COUNTERS_PATH = "/bench/counters/"  # as in the bench's URLconf: the cost count reads it here too


def application(environ, start_response):
    start_response("200 OK", _HEADERS)
    return [_BODY]


def application_from_redis(environ, start_response):
    if environ["PATH_INFO"] == COUNTERS_PATH:
        body = json.dumps(redis_counting.counters(reset="reset=1" in environ.get("QUERY_STRING", ""))).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
    body = _REDIS.hget(REDIS_KEY, REDIS_FIELD)
    start_response("200 OK", _HEADERS)
    return [body]
