"""What one page view costs (sequential requests, counters read around them),
what a cold summary costs under concurrency, and a profile of a page-cache hit."""

import collections
import cProfile
import io
import os
import pstats
import threading
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import redis

from .dynamodb_counting import OperationCounter
from .web import BenchError, Response, WebServer


@dataclass(frozen=True)
class ViewCosts:
    views: int
    seconds: float
    dynamodb: dict[str, float]  # requests per view, by operation
    dynamodb_ms: dict[str, float]  # server time per request, by operation
    redis_round_trips: float
    redis_commands: float

    @property
    def dynamodb_total(self) -> float:
        return sum(self.dynamodb.values())


@dataclass(frozen=True)
class StampedeResult:
    label: str
    requests: int
    dynamodb: collections.Counter[str]
    statuses: collections.Counter[int]
    x_cache: collections.Counter[str]
    seconds: float


def redis_commands_processed(client: redis.Redis) -> int:
    """Commands Redis has run, all clients together, leaving out INFO itself."""
    stats = client.info("commandstats")
    return sum(entry["calls"] for name, entry in stats.items() if name != "cmdstat_info")


def view_costs(
    server: WebServer,
    path: str,
    *,
    cookies: dict[str, str] | None,
    views: int,
    max_seconds: float,
    dynamodb: OperationCounter,
    redis_client: redis.Redis,
) -> ViewCosts:
    """Reset the counters, make ``views`` sequential requests (fewer if they
    take longer than ``max_seconds``), divide.

    Round trips come from the workers' shared counter (``redis_counting``),
    commands from Redis's own statistics; the counters view costs neither.
    A load test's leftover backlog is drained first, so it is not counted."""
    dynamodb.wait_until_quiet()
    server.counters(reset=True)
    dynamodb.reset()
    commands_before = redis_commands_processed(redis_client)
    started = time.monotonic()
    done = 0
    while done < views and (done == 0 or time.monotonic() - started < max_seconds):
        response = server.get(path, cookies=cookies)
        if response.status != 200:
            raise BenchError(f"{server.name} {path} answered {response.status} while counting")
        done += 1
    seconds = time.monotonic() - started
    round_trips = server.counters()["redis_round_trips"]
    commands = redis_commands_processed(redis_client) - commands_before
    operations = dynamodb.snapshot()
    return ViewCosts(
        views=done,
        seconds=seconds,
        dynamodb={operation: count / done for operation, count in sorted(operations.items())},
        dynamodb_ms=dynamodb.mean_milliseconds(),
        redis_round_trips=round_trips / done,
        redis_commands=commands / done,
    )


def stampede(
    label: str,
    server: WebServer,
    path: str,
    *,
    cookies: dict[str, str] | None,
    cold_keys: list[str],
    concurrency: int,
    dynamodb: OperationCounter,
    redis_client: redis.Redis,
) -> StampedeResult:
    """Delete ``cold_keys``, then fire ``concurrency`` requests at once (one thread each)."""
    dynamodb.wait_until_quiet()
    redis_client.delete(*cold_keys)
    dynamodb.reset()
    start_together = threading.Barrier(concurrency, timeout=30)

    def one_request(_: int) -> Response:
        start_together.wait()
        return server.get(path, cookies=cookies)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="stampede") as pool:
        responses = list(pool.map(one_request, range(concurrency)))
    seconds = time.monotonic() - started
    return StampedeResult(
        label=label,
        requests=concurrency,
        dynamodb=dynamodb.snapshot(),
        statuses=collections.Counter(response.status for response in responses),
        x_cache=collections.Counter(response.headers.get("X-Cache", "-") for response in responses),
        seconds=seconds,
    )


_CAPACITY_METRIC = "tastebook_dynamodb_consumed_capacity_units_total"


def read_capacity(read: Callable[[], object], *, operations: tuple[str, ...] = ("Query", "GetItem")) -> float:
    """Capacity units DynamoDB reported for ``read()``, made in this process
    through the model layer (which asks ``ReturnConsumedCapacity=TOTAL`` and
    counts the answer in ``_CAPACITY_METRIC``)."""
    from prometheus_client import REGISTRY

    def total() -> float:
        return sum(REGISTRY.get_sample_value(_CAPACITY_METRIC, {"operation": op}) or 0.0 for op in operations)

    before = total()
    read()
    return total() - before


def profile_hits(path: str, *, requests: int = 2000, lines: int = 25) -> str:
    """cProfile of page-cache hits through the site's WSGI application in this
    process (``reviews_site.wsgi``: the front that answers hits, then Django),
    with the CPU a hit costs without the profiler. No gunicorn, no sockets but
    Redis's: where the application's own share of a hit goes."""
    from urllib.parse import unquote_to_bytes

    from reviews_site.wsgi import application

    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise, STATIC_ROOT not collected
    path_info = unquote_to_bytes(path).decode("latin-1")  # as a WSGI server passes it

    def hit() -> str:
        answered = {}

        def start_response(status, headers, exc_info=None):
            answered.update(headers)

        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path_info,
            "QUERY_STRING": "",
            "SCRIPT_NAME": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1:8000",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(),
        }
        b"".join(application(environ, start_response))
        return answered.get("X-Cache", "-")

    if hit() != "HIT" and hit() != "HIT":
        raise BenchError(f"profiling expected a page-cache hit for {path}")
    cpu_started = time.process_time()
    for _ in range(requests):
        hit()
    cpu_us = (time.process_time() - cpu_started) / requests * 1e6
    heading = (
        f"{requests} hits through reviews_site.wsgi in process: {cpu_us:.0f} µs of CPU each without the "
        "profiler (the application's share of a hit: no HTTP parsing, no socket to the client)"
    )
    return _profiled(hit, requests=requests, lines=lines, heading=heading)


def profile_logged_in(path: str, *, cookies: dict[str, str], requests: int = 500, lines: int = 25) -> str:
    """cProfile of the logged-in page (case d) through Django's handler in this
    process, with the bench visitor's session: where a logged-in view spends
    its time (templates, Redis, auth, sessions, CSRF, middleware)."""
    from django.test import Client

    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise, STATIC_ROOT not collected
    client = Client()
    for name, value in cookies.items():
        client.cookies[name] = value
    first = client.get(path)
    if first.status_code != 200 or first.get("X-Cache"):
        raise BenchError(f"profiling expected a rendered page for {path}: {first.status_code} {first.get('X-Cache')}")
    cpu_started = time.process_time()
    for _ in range(requests):
        client.get(path)
    cpu_us = (time.process_time() - cpu_started) / requests * 1e6
    heading = f"{requests} logged-in views in process: {cpu_us:.0f} µs of CPU each without the profiler"
    return _profiled(lambda: client.get(path), requests=requests, lines=lines, heading=heading)


def _profiled(call: Callable[[], object], *, requests: int, lines: int, heading: str) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        call()
    profiler.disable()
    out = io.StringIO()
    out.write(heading + "\n\n")
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    out.write("By own time:\n")
    stats.sort_stats("tottime").print_stats(lines)
    out.write("By cumulative time:\n")
    stats.sort_stats("cumulative").print_stats(lines)
    return out.getvalue()


CPU_SOURCES = ("gunicorn workers", "Redis", "DynamoDB Local", "bench process (counter, moto)", "wrk")
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS  # utime + stime


def _children_of(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rpartition(")")[2].split()[1]) == pid:
                children.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue  # a process that ended while we looked
    return children


def cpu_seconds(server: WebServer, redis_client: redis.Redis, dynamodb_pid: int) -> dict[str, float]:
    """CPU used so far by each party to a load test (``wrk`` once it has exited)."""
    workers = _children_of(server.process.pid)
    info = redis_client.info("cpu")
    times = os.times()
    return {
        "gunicorn workers": sum(_process_cpu_seconds(pid) for pid in workers),
        "Redis": info["used_cpu_user"] + info["used_cpu_sys"],
        "DynamoDB Local": _process_cpu_seconds(dynamodb_pid),
        "bench process (counter, moto)": times.user + times.system,
        "wrk": times.children_user + times.children_system,
    }


def cpu_per_request_us(before: dict[str, float], after: dict[str, float], requests: int) -> dict[str, float]:
    return {source: (after[source] - before[source]) / max(requests, 1) * 1e6 for source in CPU_SOURCES}
