"""Filling the caches ahead of visitors (``warm_cache`` and the admin)."""

import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode

from restaurants.dynamo import reads

from ..data import leaderboard, summaries

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WarmReport:
    summaries: int
    pages: int
    seconds: float


def warm(*, pages: bool = True) -> WarmReport:
    """Every restaurant's summary, the leaderboard, and (as an anonymous
    visitor) the first list page in each order and of each cuisine, the top
    page and every restaurant page."""
    started = time.monotonic()
    names, cursor = [], None
    while True:
        page = reads.restaurant_list(cursor=cursor, page_size=500)
        names += [restaurant.name for restaurant in page.items]
        if not (cursor := page.next_cursor):
            break
    for name in names:
        summaries.restaurant_summary(name)
    leaderboard.top()
    visited = 0
    if pages:
        visitor = Client(HTTP_HOST=_host())
        lists = reverse("restaurants:list")
        urls = [lists, f"{lists}?sort=rating", f"{lists}?sort=reviews", reverse("restaurants:top")]
        urls += [f"{lists}?{urlencode({'cuisine': c})}" for c in reads.cuisine_list()]
        urls += [url for name in names if (url := _detail_url(name))]
        for url in urls:
            visitor.get(url)
            visited += 1
    return WarmReport(summaries=len(names), pages=visited, seconds=time.monotonic() - started)


def _detail_url(name: str) -> str | None:
    """None for a name no URL can carry (another client's item that breaks the
    name rule): its page cannot be visited, so it is not warmed."""
    try:
        return reverse("restaurants:detail", args=[name])
    except NoReverseMatch:
        log.warning("Not warming the page of %r: the name cannot be put in a URL.", name)
        return None


def _host() -> str:
    hosts = [host for host in settings.ALLOWED_HOSTS if host not in ("*",) and not host.startswith(".")]
    return hosts[0] if hosts else "localhost"
