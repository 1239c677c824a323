"""Case (f): a bare WSGI application that answers every request with the
bytes of the cached page, held in memory. It runs on the same gunicorn as
the other cases, so its throughput is the floor of this server stack:
accepting, parsing and answering a request of that size, with no Django, no
Redis and no page-cache code at all. A page-cache hit can approach it, never
pass it.

The page is read once, at import (``--preload``: before the fork), from the
file the bench wrote: ``BENCH_FLOOR_PAGE`` holds the response's header lines
(JSON), a blank line, then the body.
"""

import json
import os
from pathlib import Path


def _load(path: Path) -> tuple[list[tuple[str, str]], bytes]:
    raw = path.read_bytes()
    headers, _, body = raw.partition(b"\n\n")
    return [(str(name), str(value)) for name, value in json.loads(headers)], body


def write_page(path: Path, headers: list[tuple[str, str]], body: bytes) -> None:
    """Keep a response for the floor application to serve."""
    path.write_bytes(json.dumps(headers).encode() + b"\n\n" + body)


_HEADERS, _BODY = _load(Path(os.environ["BENCH_FLOOR_PAGE"])) if "BENCH_FLOOR_PAGE" in os.environ else ([], b"")


def application(environ, start_response):
    start_response("200 OK", _HEADERS)
    return [_BODY]
