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


def profile_hits(path: str, *, requests: int = 1000, lines: int = 25) -> str:
    """cProfile of page-cache hits through Django's handler in this process
    (no gunicorn, no sockets but Redis's): where a hit spends its time."""
    return _profile(path, cookies=None, expect_hit=True, requests=requests, lines=lines, what="hits")


def profile_logged_in(path: str, *, cookies: dict[str, str], requests: int = 500, lines: int = 25) -> str:
    """cProfile of the logged-in page (case d) through Django's handler in this
    process, with the bench visitor's session: where a logged-in view spends
    its time (templates, Redis, auth, sessions, CSRF, middleware)."""
    return _profile(path, cookies=cookies, expect_hit=False, requests=requests, lines=lines, what="logged-in views")


def _profile(path: str, *, cookies, expect_hit: bool, requests: int, lines: int, what: str) -> str:
    from django.test import Client

    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise, STATIC_ROOT not collected
    client = Client()
    for name, value in (cookies or {}).items():
        client.cookies[name] = value
    first = client.get(path)
    if first.status_code != 200:
        raise BenchError(f"profiling {path} answered {first.status_code}")
    if expect_hit and first.get("X-Cache") != "HIT":
        raise BenchError(f"profiling expected a page-cache hit for {path}, got {first.get('X-Cache')}")
    if not expect_hit and first.get("X-Cache"):
        raise BenchError(f"profiling expected a rendered page for {path}, got X-Cache {first.get('X-Cache')}")
    started = time.perf_counter()
    for _ in range(requests):
        client.get(path)
    plain_us = (time.perf_counter() - started) / requests * 1e6
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(requests):
        client.get(path)
    profiler.disable()
    per_request_us = (time.perf_counter() - started) / requests * 1e6
    out = io.StringIO()
    out.write(f"{requests} {what} in process: {plain_us:.0f} µs each, {per_request_us:.0f} µs under cProfile\n\n")
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
