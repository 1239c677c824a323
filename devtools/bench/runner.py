"""Orchestration: services up, data in, servers up, measure, report, all down.

Everything is started inside one ExitStack, so it is stopped in reverse order
(gunicorn, then Redis, then DynamoDB) on success, on error and on Ctrl-C or
SIGTERM. Only ``var/bench/`` is written (results and gunicorn error logs).
"""

import argparse
import collections
import contextlib
import os
import platform
import secrets
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from devtools.embedded.redis_server import start_redis

from . import floor, measure, report, writes
from .dynamodb_counting import OperationCounter, start_counting_dynamodb
from .web import BenchError, WebServer, cookie_header, start_gunicorn
from .wrk import WrkResult, run_wrk, wrk_executable

BASE_DIR = Path(__file__).resolve().parents[2]
OUTPUT_DIR = BASE_DIR / "var" / "bench"
USERNAME = "bench-visitor"
STAMPEDE_THREADS_PER_WORKER = 8
# Bound by the embedded DynamoDB: a second round would add little but time.
SINGLE_ROUND_CASES = ("e", "e-moto", "h")


@dataclass(frozen=True)
class Case:
    key: str
    title: str
    server: WebServer
    path: str
    dynamodb: OperationCounter
    cookies: dict[str, str] | None = None
    # (e) goes to an embedded DynamoDB; moto answers one query at a time in
    # about 0.5 s on the demo table: more connections only queue into timeouts.
    max_connections: int | None = None


@dataclass(frozen=True)
class CaseResult:
    case: Case
    wrk: WrkResult
    costs: measure.ViewCosts
    cpu_us: dict[str, float]  # CPU per request during the best run, by process
    rates: list[float]  # requests/s of every round


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devtools.bench", description=__doc__)
    parser.add_argument("--seconds", type=float, default=8, help="measured wrk run per case (default 8)")
    parser.add_argument("--warmup", type=float, default=2, help="wrk warm-up before each run (default 2)")
    parser.add_argument(
        "--rounds", type=int, default=2, help="measured runs per case, best reported (default 2; (e) runs once)"
    )
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--views", type=int, default=200, help="sequential requests per cost count (default 200)")
    parser.add_argument(
        "--views-seconds", type=float, default=10, help="stop a cost count after this long (default 10)"
    )
    parser.add_argument(
        "--writes-seconds", type=float, default=6, help="each measured run under writes, case (w) (default 6)"
    )
    parser.add_argument("--stampede", type=int, default=200, help="concurrent requests on a cold summary")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile page-cache hits and logged-in views even when b/a and d/a meet their targets",
    )
    parser.add_argument(
        "--near-cache",
        action="store_true",
        help="also run (b) and (d) on a server with redis-py's client-side caching on (cases b-near, d-near)",
    )
    parser.add_argument("--output", type=Path, default=OUTPUT_DIR / "results.md")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    previous_sigterm = signal.signal(signal.SIGTERM, _interrupt)
    started = time.monotonic()
    try:
        wrk_executable()
        with contextlib.ExitStack() as running:
            text = _run(args, running)
    except KeyboardInterrupt:
        print("\nInterrupted: everything the bench started is stopped.", file=sys.stderr)
        return 130
    except BenchError as error:
        print(f"bench failed: {error}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous_sigterm)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(text)
    print(f"Written to {args.output} in {time.monotonic() - started:.0f} s.", file=sys.stderr)
    return 0


def _interrupt(signum, frame):
    raise KeyboardInterrupt


_STARTED = time.monotonic()


def _progress(message: str) -> None:
    print(f"[bench {time.monotonic() - _STARTED:5.1f}s] {message}", file=sys.stderr, flush=True)


def _environment(dynamodb_url: str, redis_url: str) -> dict[str, str]:
    """Every setting the site reads that could point elsewhere, pinned to ours."""
    return {
        "DJANGO_SETTINGS_MODULE": "devtools.bench.settings",
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "DYNAMODB_TABLE": "Restaurants",
        "REDIS_URL": redis_url,
        "SESSION_REDIS_URL": redis_url,
        "REDIS_REPLICA_URLS": "",
        "REDIS_CLUSTER": "false",
        "CACHE_KEY_PREFIX": "site",
        "CACHE_ENABLED": "true",
        "CACHE_PRECISE_LIST_RETIREMENT": "true",
        "DJANGO_DEBUG": "false",
        "SITE_URL": "http://127.0.0.1",  # no mail is followed: any address the check accepts
        "DJANGO_SECURE_COOKIES": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "LOG_LEVEL": "WARNING",
    }


def _run(args: argparse.Namespace, running: contextlib.ExitStack) -> str:
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    dynamodb_server = start_counting_dynamodb("dynamodb-local")
    running.callback(dynamodb_server.stop)
    dynamodb = dynamodb_server.counter
    moto_server = start_counting_dynamodb("moto")
    running.callback(moto_server.stop)
    redis_server = start_redis()
    running.callback(redis_server.stop)
    redis_client = redis_server.client()
    os.environ.update(_environment(moto_server.url, redis_server.url))
    _progress(f"{dynamodb_server.kind} at {dynamodb_server.url}, {moto_server.kind} at {moto_server.url}")
    _progress(f"Redis at {redis_server.url}")

    import django

    django.setup()
    from django.core.management import call_command
    from django.urls import reverse

    from restaurants.cache.rules import keys
    from restaurants.dynamo import reads
    from restaurants.dynamo.client import reset_client
    from restaurants.dynamo.normalise import normalised_name
    from restaurants.models import User

    # moto first, for case (e-moto) only; then DynamoDB Local, which everything else uses.
    for server in (moto_server, dynamodb_server):
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = server.url
        reset_client()
        call_command("create_table", verbosity=0, stdout=sys.stderr)
        _progress(f"seeding the demo data into {server.kind} (240 restaurants, 2000 users, 20000 reviews)...")
        call_command("seed_demo", verbosity=0, stdout=sys.stderr)
    password = secrets.token_urlsafe(16)
    User.objects.create_user(USERNAME, "bench@example.com", password)
    hot = max(reads.restaurant_list().items, key=lambda restaurant: restaurant.review_count)
    page = reverse("restaurants:detail", kwargs={"name": hot.name})
    stock_page = reverse("bench_stock_detail", kwargs={"name": hot.name})
    _progress(f"hot restaurant: {hot.name!r} ({hot.review_count} reviews), page {page}")
    names = [restaurant.name for restaurant in reads.restaurant_list(page_size=500).items]
    # The initial most names share: a full first page of results, with a cursor to the next.
    initial, matches = collections.Counter(normalised_name(name)[:1] for name in names).most_common(1)[0]
    search = f"{reverse('restaurants:search')}?{urlencode({'q': initial})}"
    _progress(f"search page {search} ({matches} names start with {initial!r})")
    read_capacity = [
        (
            "restaurant page: summary (GSI1 Query, projection ALL)",
            page,
            measure.read_capacity(lambda: reads.restaurant_summary_get(name=hot.name)),
        ),
        (
            "list page: 24 restaurants (GSI3 Query, projection ALL)",
            reverse("restaurants:list"),
            measure.read_capacity(lambda: reads.restaurant_list()),
        ),
        (
            "search page: 24 results (GSI4 Query, projection INCLUDE name, cuisine, address)",
            search,
            measure.read_capacity(lambda: reads.restaurant_name_search(query=initial)),
        ),
    ]

    servers = {}
    near = (("cached-near", {"CACHE_ENABLED": "true", "BENCH_NEAR_CACHE": "1"}, 1),) if args.near_cache else ()
    for name, env, threads in (
        ("cached", {"CACHE_ENABLED": "true"}, 1),
        ("uncached", {"CACHE_ENABLED": "false"}, 1),
        ("cached-gthread", {"CACHE_ENABLED": "true"}, STAMPEDE_THREADS_PER_WORKER),
        ("uncached-moto", {"CACHE_ENABLED": "false", "AWS_ENDPOINT_URL_DYNAMODB": moto_server.url}, 1),
        *near,
        ("cached-group-retirement", {"CACHE_ENABLED": "true", "CACHE_PRECISE_LIST_RETIREMENT": "false"}, 1),
    ):
        servers[name] = start_gunicorn(name, env=env, log_dir=OUTPUT_DIR, threads=threads)
        running.callback(servers[name].stop)
    cached, uncached = servers["cached"], servers["uncached"]
    _progress("gunicorn up: " + ", ".join(f"{name} {server.base_url}" for name, server in servers.items()))

    cookies = cached.log_in(USERNAME, password)
    _warm_and_check(cached, uncached, page, stock_page, cookies, redis_client)
    _warm_and_check_search(cached, uncached, search)
    _warm_and_check_uncached(servers["uncached-moto"], page)
    if args.near_cache:
        _warm_and_check_near(servers["cached-near"], page, cookies)
    for name, server in _start_floors(cached, page, redis_client, redis_server.url).items():
        servers[name] = server
        running.callback(server.stop)

    cases = [
        Case("a", "minimal view", cached, "/bench/minimal/", dynamodb),
        Case("b", "anonymous page, our page cache (HIT)", cached, page, dynamodb),
        Case("c", "anonymous page, stock cache_page", cached, stock_page, dynamodb),
        Case("d", "logged-in page (summary + fragments)", cached, page, dynamodb, cookies),
        Case("e", f"anonymous page, CACHE_ENABLED=false, {dynamodb_server.kind}", uncached, page, dynamodb),
        Case(
            "e-moto",
            f"anonymous page, CACHE_ENABLED=false, {moto_server.kind}",
            servers["uncached-moto"],
            page,
            moto_server.counter,
            max_connections=2,
        ),
        Case("f", "bare WSGI app, the hit's bytes from memory (floor)", servers["floor"], page, dynamodb),
        Case(
            "f-redis",
            "bare WSGI app, the hit's bytes from one Redis HGET (floor with a round trip)",
            servers["floor-redis"],
            page,
            dynamodb,
        ),
        Case("g", "search page (24 results), our page cache (HIT)", cached, search, dynamodb),
        Case("h", f"search page (24 results), CACHE_ENABLED=false, {dynamodb_server.kind}", uncached, search, dynamodb),
    ]
    if args.near_cache:  # each right after its plain twin, so both see the same load
        near_server = servers["cached-near"]
        cases.insert(2, Case("b-near", "anonymous page, page cache HIT, near cache on", near_server, page, dynamodb))
        cases.insert(5, Case("d-near", "logged-in page, near cache on", near_server, page, dynamodb, cookies))
    runs: dict[str, list[tuple[WrkResult, dict[str, float]]]] = {case.key: [] for case in cases}
    for round_number in range(1, args.rounds + 1):
        for case in cases:
            if round_number > 1 and case.key in SINGLE_ROUND_CASES:
                continue
            runs[case.key].append(_load_test(case, args, round_number, dynamodb_server.pid, redis_client))
    results = []
    for case in cases:
        if case.key == "f":  # no Django, no Redis, nothing to count
            costs = measure.ViewCosts(0, 0.0, dynamodb={}, dynamodb_ms={}, redis_round_trips=0, redis_commands=0)
        else:
            costs = measure.view_costs(
                case.server,
                case.path,
                cookies=case.cookies,
                views=args.views,
                max_seconds=args.views_seconds,
                dynamodb=case.dynamodb,
                redis_client=redis_client,
            )
        best, cpu_us = max(runs[case.key], key=lambda run: run[0].requests_per_second)
        rates = [run.requests_per_second for run, _ in runs[case.key]]
        results.append(CaseResult(case, best, costs, cpu_us, rates))

    _progress("summary misses: one cold request, then stampedes")
    tag = keys.restaurant_tag(hot.name)
    cold_keys = [keys.summary_key(hot.name), keys.page_group_key(tag)]
    stampedes = [
        measure.stampede(
            "one cold logged-in request",
            cached,
            page,
            cookies=cookies,
            cold_keys=cold_keys,
            concurrency=1,
            dynamodb=dynamodb,
            redis_client=redis_client,
        )
    ]
    for server, workers in ((cached, "sync, 2 workers"), (servers["cached-gthread"], "gthread, 2×8 threads")):
        for who, who_cookies in (("logged-in", cookies), ("anonymous", None)):
            stampedes.append(
                measure.stampede(
                    f"{args.stampede} concurrent, {who}, {workers}",
                    server,
                    page,
                    cookies=who_cookies,
                    cold_keys=cold_keys,
                    concurrency=args.stampede,
                    dynamodb=dynamodb,
                    redis_client=redis_client,
                )
            )

    policies = {"just the pages changed": cached, "every list page": servers["cached-group-retirement"]}
    writer_names = {
        policy: [f"bench-writer-{index}-{number}" for number in range(writes.WRITERS)]
        for index, policy in enumerate(policies)
    }
    for username in sum(writer_names.values(), []):
        User.objects.create_user(username, f"{username}@example.com", password)
    mixes = writes.run(
        policies,
        restaurants=reads.restaurant_list(page_size=500).items,
        usernames=writer_names,
        password=password,
        seconds=args.writes_seconds,
        progress=_progress,
    )

    by_key = {result.case.key: result for result in results}
    profile = None
    if args.profile or report.ratio(by_key, "b", "a") < report.TARGET_B_OVER_A:
        _progress("profiling page-cache hits in process")
        profile = measure.profile_hits(page)
    logged_in_profile = None
    if args.profile or report.ratio(by_key, "d", "a") < report.TARGET_D_OVER_A:
        _progress("profiling logged-in views in process")
        logged_in_profile = measure.profile_logged_in(page, cookies=cookies)

    setup = report.Setup(
        restaurant=hot.name,
        reviews=hot.review_count,
        page=page,
        wrk=f"wrk -t{args.threads} -c{args.connections} -d{args.seconds:g}s --latency, best of {args.rounds} rounds "
        f"(cases run in turn; (e) once, with at most 2 connections), after a {args.warmup:g}s warm-up",
        servers="gunicorn -w 2 --threads 1 (sync) --preload; stampedes also on -w 2 --threads "
        f"{STAMPEDE_THREADS_PER_WORKER} (gthread)",
        views=args.views,
        seconds=args.seconds,
        cpus=os.cpu_count() or 1,
        read_capacity=read_capacity,
        machine=f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"Redis {redis_client.info('server')['redis_version']}",
    )
    return report.render(setup, results, stampedes, profile, logged_in_profile=logged_in_profile) + writes.render(mixes)


def _load_test(
    case: Case, args, round_number: int, dynamodb_pid: int, redis_client
) -> tuple[WrkResult, dict[str, float]]:
    """One measured wrk run (after a warm-up run in the first round), with
    the CPU each process spent per request during it."""
    headers = {"Cookie": cookie_header(case.cookies)} if case.cookies else {}
    url = case.server.base_url + case.path
    connections = min(args.connections, case.max_connections or args.connections)
    threads = min(args.threads, connections)
    warmup = args.warmup if round_number == 1 else 0
    _progress(f"({case.key}) {case.title}, round {round_number}: wrk {warmup:g}s warm-up + {args.seconds:g}s")
    if warmup:
        run_wrk(url, seconds=warmup, connections=connections, threads=threads, headers=headers)
    case.dynamodb.wait_until_quiet()  # a slow case's backlog must not eat the measured run
    cpu_before = measure.cpu_seconds(case.server, redis_client, dynamodb_pid)
    result = run_wrk(
        url,
        seconds=args.seconds,
        connections=connections,
        threads=threads,
        headers=headers,
        save_to=OUTPUT_DIR / f"wrk-{case.key}-{round_number}.txt",
    )
    cpu_after = measure.cpu_seconds(case.server, redis_client, dynamodb_pid)
    cpu_us = measure.cpu_per_request_us(cpu_before, cpu_after, result.requests)
    if result.non_2xx or result.errors:
        raise BenchError(f"({case.key}) wrk saw {result.non_2xx} non-2xx responses and {result.errors} errors")
    return result, cpu_us


def _warm_and_check(cached, uncached, page, stock_page, cookies, redis_client) -> None:
    """Fill every cache the measured cases read, and check each case is what it claims."""
    cached.get(page)
    hit = cached.get(page)
    if hit.status != 200 or hit.headers.get("X-Cache") != "HIT":
        raise BenchError(f"the anonymous page is not a page-cache hit: {hit.status} X-Cache={hit.headers['X-Cache']}")
    for _ in range(2):
        stock = cached.get(stock_page)
        if stock.status != 200 or stock.headers.get("X-Cache"):
            raise BenchError(f"the stock-cached page answered {stock.status}, X-Cache={stock.headers['X-Cache']}")
    if not redis_client.keys("benchstock:*cache_page*"):
        raise BenchError("Django's cache_page stored nothing under the benchstock prefix")
    logged_in = cached.get(page, cookies=cookies)
    if logged_in.status != 200 or USERNAME.encode() not in logged_in.body or logged_in.headers.get("X-Cache"):
        raise BenchError("the logged-in page did not render for the bench user outside the page cache")
    _warm_and_check_uncached(uncached, page)


def _warm_and_check_near(near, page, cookies) -> None:
    """The near-cache server answers (b) and (d) as the plain one does."""
    for _ in range(2):
        hit = near.get(page)
    if hit.status != 200 or hit.headers.get("X-Cache") != "HIT":
        raise BenchError(f"near cache: the anonymous page is not a hit: {hit.status} X-Cache={hit.headers['X-Cache']}")
    logged_in = near.get(page, cookies=cookies)
    if logged_in.status != 200 or USERNAME.encode() not in logged_in.body:
        raise BenchError("near cache: the logged-in page did not render for the bench user")


def _start_floors(cached, page, redis_client, redis_url: str) -> dict[str, WebServer]:
    """Case (f): gunicorn serving the page-cache hit's exact response (headers
    and body, taken from a hit now) from memory, with no Django and no Redis;
    case (f-redis): the same body read from Redis with one HGET."""
    hit = cached.get(page)
    if hit.status != 200 or hit.headers.get("X-Cache") != "HIT":
        raise BenchError(f"no page-cache hit to copy for the floor: {hit.status} X-Cache={hit.headers['X-Cache']}")
    added_by_gunicorn = {"date", "server", "connection", "transfer-encoding"}
    headers = [(name, value) for name, value in hit.headers.items() if name.lower() not in added_by_gunicorn]
    page_file = OUTPUT_DIR / "floor-page.bin"
    floor.write_page(page_file, headers, hit.body)
    redis_client.hset(floor.REDIS_KEY, floor.REDIS_FIELD, hit.body)
    env = {"BENCH_FLOOR_PAGE": str(page_file), "BENCH_FLOOR_REDIS_URL": redis_url}
    return {
        name: start_gunicorn(name, env=env, log_dir=OUTPUT_DIR, app=f"devtools.bench.floor:{app}")
        for name, app in (("floor", "application"), ("floor-redis", "application_from_redis"))
    }


def _warm_and_check_search(cached, uncached, search) -> None:
    """The search page is cached like the others, and a full page of results."""
    cached.get(search)
    hit = cached.get(search)
    if hit.status != 200 or hit.headers.get("X-Cache") != "HIT":
        raise BenchError(f"the search page is not a page-cache hit: {hit.status} X-Cache={hit.headers.get('X-Cache')}")
    if b"More results" not in hit.body:
        raise BenchError("the search page measured is not a full page of results")
    _warm_and_check_uncached(uncached, search)


def _warm_and_check_uncached(uncached, page) -> None:
    disabled = uncached.get(page)
    if disabled.status != 200 or disabled.headers.get("X-Cache"):
        raise BenchError("the server with CACHE_ENABLED=false still answered from the page cache")
