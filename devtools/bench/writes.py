"""Throughput under writes: anonymous readers of list and restaurant pages,
with review posts by logged-in writers mixed in.

Two runs on each of two cached servers, one retiring just the list pages a
review changes (``CACHE_PRECISE_LIST_RETIREMENT=true``, the default), one
retiring every list page per review (``false``, the former policy), each run
from a warm cache (every page visited once):

- "1 in 50": every 50th request (counted over all client threads) is a review
  post, the rest are anonymous reads, half list pages and half restaurant
  pages, as fast as the server answers;
- "1 write/s": the same reads, flat out, beside one writer posting once a second.

Reads are spread uniformly: list pages over every sort, scope (all
restaurants, each cuisine) and page number, plus the top pages; restaurant
pages over every restaurant. Each post is a new review by one of the
writers (new users, so none has reviewed anything yet) of the next restaurant
in a shuffled order, so posts spread over every demo restaurant. What counts
is what each anonymous read was answered with (``X-Cache: HIT``), by kind.
"""

import collections
import http.client
import itertools
import random
import re
import statistics
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlencode

from .web import BenchError, WebServer, cookie_header

PER_PAGE = 24  # restaurants per list page (restaurants.cache.data.catalogue.PER_PAGE)
SORTS = ("name", "rating", "reviews")
WRITERS = 8
CLIENT_THREADS = 12
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class KindStats:
    requests: int = 0
    hits: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    failures: collections.Counter = field(default_factory=collections.Counter)  # what each error answered

    @property
    def hit_ratio(self) -> float:
        return self.hits / self.requests if self.requests else 0.0

    def add(self, other: "KindStats") -> None:
        self.requests += other.requests
        self.hits += other.hits
        self.errors += other.errors
        self.failures.update(other.failures)
        self.latencies_ms += other.latencies_ms


@dataclass(frozen=True)
class MixResult:
    label: str
    seconds: float
    kinds: dict[str, KindStats]  # "list", "restaurant", "post"

    def rate(self, kind: str) -> float:
        return self.kinds[kind].requests / self.seconds

    def p50(self, kind: str) -> float:
        latencies = self.kinds[kind].latencies_ms
        return statistics.median(latencies) if latencies else 0.0


def list_paths(restaurants) -> list[str]:
    """Every list page (each sort, all restaurants and each cuisine, each page) and every top page."""
    scopes = {"": len(restaurants)}
    for restaurant in restaurants:
        scopes[restaurant.cuisine] = scopes.get(restaurant.cuisine, 0) + 1
    paths = []
    for cuisine, count in sorted(scopes.items()):
        for sort in SORTS:
            for number in range(1, max(1, -(-count // PER_PAGE)) + 1):
                params = {
                    "cuisine": cuisine,
                    "sort": "" if sort == "name" else sort,
                    "page": number if number > 1 else "",
                }
                query = urlencode([(key, value) for key, value in params.items() if value])
                paths.append(f"/?{query}" if query else "/")
        paths.append(f"/top/?{urlencode({'cuisine': cuisine})}" if cuisine else "/top/")
    return paths


def restaurant_path(name: str) -> str:
    return f"/restaurants/{quote(name, safe='')}/"


@dataclass
class Writer:
    cookies: dict[str, str]
    token: str


def writers_for(server: WebServer, usernames: list[str], password: str, any_restaurant: str) -> list[Writer]:
    """Log each writer in and take a CSRF token from a form they are shown."""
    writers = []
    for username in usernames:
        cookies = server.log_in(username, password)
        page = server.get(restaurant_path(any_restaurant), cookies=cookies)
        token = _CSRF.search(page.body.decode())
        if page.status != 200 or token is None:
            raise BenchError(f"no review form for writer {username} (status {page.status})")
        writers.append(Writer(cookies, token.group(1)))
    return writers


class _Posts:
    """The next (writer, restaurant) pair no writer has used yet."""

    def __init__(self, writers: list[Writer], names: list[str], seed: int) -> None:
        order = names[:]
        random.Random(seed).shuffle(order)
        self._pairs = ((writer, name) for name in itertools.cycle(order) for writer in writers)
        self._used: set[tuple[int, str]] = set()
        self._lock = threading.Lock()

    def next(self) -> tuple[Writer, str]:
        with self._lock:
            for writer, name in self._pairs:
                if (id(writer), name) not in self._used:
                    self._used.add((id(writer), name))
                    return writer, name
        raise BenchError("every writer has reviewed every restaurant")


def _request(server: WebServer, method: str, path: str, *, headers=None, body=None) -> tuple[int, str, str]:
    """Status, ``X-Cache`` and ``Location`` of one request on a new connection."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        response.read()
        return response.status, response.headers.get("X-Cache", ""), response.headers.get("Location", "")
    finally:
        connection.close()


def _post(server: WebServer, posts: _Posts, stats: KindStats, number: int) -> None:
    writer, name = posts.next()
    body = urlencode(
        {"rating": number % 5 + 1, "review": f"bench review {number}", "csrfmiddlewaretoken": writer.token}
    )
    headers = {
        "Cookie": cookie_header(writer.cookies),
        "Content-Type": "application/x-www-form-urlencoded",
        "Referer": server.base_url + restaurant_path(name),
    }
    started = time.perf_counter()
    status, _, location = _request(server, "POST", restaurant_path(name) + "review/", headers=headers, body=body)
    stats.latencies_ms.append((time.perf_counter() - started) * 1000)
    stats.requests += 1
    # Published, back to the restaurant (Django leaves characters such as "'" unquoted).
    if status != 302 or unquote(location) != unquote(restaurant_path(name)):
        stats.errors += 1
        stats.failures[f"POST {status} {location}".strip()] += 1


def mixed_load(
    server: WebServer,
    *,
    label: str,
    lists: list[str],
    restaurants: list[str],
    posts: _Posts,
    seconds: float,
    write_every: int | None,
    writes_per_second: float | None = None,
    seed: int = 50,
) -> MixResult:
    """Reads on CLIENT_THREADS threads for ``seconds``; a post every
    ``write_every`` requests (counted over all threads), or on a thread of its
    own at ``writes_per_second``."""
    stop = threading.Event()
    counter = itertools.count(1)
    results: list[dict[str, KindStats]] = []

    def reader(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        mine = {"list": KindStats(), "restaurant": KindStats(), "post": KindStats()}
        results.append(mine)
        while not stop.is_set():
            number = next(counter)
            if write_every and number % write_every == 0:
                _post(server, posts, mine["post"], number)
                continue
            kind = "list" if number % 2 else "restaurant"
            path = rng.choice(lists) if kind == "list" else restaurant_path(rng.choice(restaurants))
            started = time.perf_counter()
            status, x_cache, _ = _request(server, "GET", path)
            stats = mine[kind]
            stats.latencies_ms.append((time.perf_counter() - started) * 1000)
            stats.requests += 1
            stats.hits += x_cache == "HIT"
            if status != 200:
                stats.errors += 1
                stats.failures[f"GET {status}"] += 1

    def paced_writer() -> None:
        mine = {"post": KindStats()}
        results.append(mine)
        number, next_at = 0, time.monotonic()
        while not stop.wait(max(0.0, next_at - time.monotonic())):
            number += 1
            _post(server, posts, mine["post"], number)
            next_at += 1 / writes_per_second

    threads = [threading.Thread(target=reader, args=(i,), daemon=True) for i in range(CLIENT_THREADS)]
    if writes_per_second:
        threads.append(threading.Thread(target=paced_writer, daemon=True))
    started = time.monotonic()
    for thread in threads:
        thread.start()
    stop.wait(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    elapsed = time.monotonic() - started
    kinds = {"list": KindStats(), "restaurant": KindStats(), "post": KindStats()}
    for mine in results:
        for kind, stats in mine.items():
            kinds[kind].add(stats)
    errors = sum(stats.errors for stats in kinds.values())
    if errors:
        failures = collections.Counter()
        for stats in kinds.values():
            failures.update(stats.failures)
        answered = ", ".join(f"{what} ×{count}" for what, count in failures.most_common())
        raise BenchError(f"{label}: {errors} requests failed (non-200 reads, posts not answered 302): {answered}")
    return MixResult(label, elapsed, kinds)


def warm(server: WebServer, paths: list[str]) -> None:
    """Visit each page once, on CLIENT_THREADS threads, so a run starts from a
    warm cache and measures what writes do to it, not first visits."""
    queue = iter(paths)
    lock = threading.Lock()

    def visit() -> None:
        while True:
            with lock:
                path = next(queue, None)
            if path is None:
                return
            _request(server, "GET", path)

    threads = [threading.Thread(target=visit, daemon=True) for _ in range(CLIENT_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)


def run(
    servers: dict[str, WebServer],
    *,
    restaurants,
    usernames: dict[str, list[str]],
    password: str,
    seconds: float,
    progress,
) -> list[MixResult]:
    """Each mix on each server (label: how it retires list pages), from a warm cache."""
    names = [restaurant.name for restaurant in restaurants]
    lists = list_paths(restaurants)
    results = []
    for policy, server in servers.items():
        # Writers of their own per server: every post is a new review.
        writers = writers_for(server, usernames[policy], password, names[0])
        posts = _Posts(writers, names, seed=2026)
        warm(server, [restaurant_path(name) for name in names])
        for mix, every, rate in (("1 in 50 requests a review post", 50, None), ("1 review post a second", None, 1.0)):
            label = f"{mix}, {policy}"
            progress(f"(w) {label}: warm {len(lists)} list pages, then {seconds:g}s")
            warm(server, lists)
            results.append(
                mixed_load(
                    server,
                    label=label,
                    lists=lists,
                    restaurants=names,
                    posts=posts,
                    seconds=seconds,
                    write_every=every,
                    writes_per_second=rate,
                )
            )
    return results


def render(results: list[MixResult]) -> str:
    lines = [
        "",
        f"Throughput under writes (w): {CLIENT_THREADS} client threads of anonymous readers (half list pages, "
        "half restaurant pages, uniform over every list and top page and every restaurant), with review posts "
        f"by {WRITERS} logged-in writers spread over every restaurant; hit = answered `X-Cache: HIT`:",
        "",
        "| Run | list req/s | list hit ratio | list p50 ms | restaurant req/s | restaurant hit ratio "
        "| restaurant p50 ms | posts/s | post p50 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        lines.append(
            f"| (w) {result.label} | {result.rate('list'):,.0f} | {result.kinds['list'].hit_ratio:.1%} "
            f"| {result.p50('list'):.1f} | {result.rate('restaurant'):,.0f} "
            f"| {result.kinds['restaurant'].hit_ratio:.1%} | {result.p50('restaurant'):.1f} "
            f"| {result.rate('post'):.1f} | {result.p50('post'):.1f} |"
        )
    return "\n".join(lines) + "\n"
