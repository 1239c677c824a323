"""The cache actions staff can run from the dashboard: what each is called,
what it does, and how its result is reported. The work itself is a service
(``restaurants.services``); this catalogue is only the admin's face of it."""

import time
from collections.abc import Callable
from dataclasses import dataclass

from restaurants import services

from .forms import PurgeForm


@dataclass(frozen=True)
class CacheAction:
    slug: str
    title: str
    explanation: str
    run: Callable[[dict], str]
    form_class: type | None = None


def _flush(scope: str) -> Callable[[dict], str]:
    def run(data: dict) -> str:
        report = services.cache_flush(scope=scope)
        parts = ", ".join(f"{count} {namespace}" for namespace, count in report.removed.items())
        return f"Removed {report.total} keys ({parts}) in {report.seconds * 1000:.0f} ms."

    return run


def _purge(data: dict) -> str:
    started = time.monotonic()
    name = data["restaurant"]
    removed = services.restaurant_cache_purge(name=name)
    elapsed_ms = (time.monotonic() - started) * 1000
    return f"Purged “{name}”: removed {removed} keys and retired its pages in {elapsed_ms:.0f} ms."


def _warm(data: dict) -> str:
    report = services.cache_warm()
    return f"Warmed {report.summaries} summaries and {report.pages} pages in {report.seconds:.1f} s."


def _rebuild(data: dict) -> str:
    started = time.monotonic()
    count = services.leaderboard_rebuild()
    return f"Ranked {count} restaurants in {(time.monotonic() - started) * 1000:.0f} ms."


ACTIONS = {
    action.slug: action
    for action in (
        CacheAction(
            "flush-pages",
            "Flush the page cache",
            "Removes every cached anonymous page. The next view of each page is rendered again.",
            _flush("pages"),
        ),
        CacheAction(
            "flush-all",
            "Flush all caches",
            "Removes cached pages, fragments, restaurant summaries and the leaderboard. "
            "Sessions are kept: nobody is logged out.",
            _flush("all"),
        ),
        CacheAction(
            "purge",
            "Purge one restaurant",
            "Removes one restaurant's summary, pages and fragments, and retires the list pages.",
            _purge,
            PurgeForm,
        ),
        CacheAction(
            "warm",
            "Warm the cache",
            "Loads every restaurant summary and renders the most visited pages.",
            _warm,
        ),
        CacheAction(
            "rebuild-leaderboard",
            "Rebuild the leaderboard",
            "Recomputes the top-restaurants ranking from DynamoDB.",
            _rebuild,
        ),
    )
}
