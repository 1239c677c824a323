"""Flushing our caches by namespace (commands and the admin, never requests).

No FLUSHDB: the Redis may be shared with sessions, and cluster mode has no
shared database to flush. Keys are found with SCAN (on every primary of a
cluster) and removed with UNLINK, one key per command so no command spans
slots; a pipeline keeps that to one round trip per batch.
"""

import time
from dataclasses import dataclass

from ..pages import cdn
from ..plumbing.connection import primary
from ..rules import keys

PAGES = ("page", "releases")  # the page groups, and which releases stored pages in each
DATA = ("summary", "fragment", "mine", "profile", "leaderboard", "lock")
ALL = (*PAGES, *DATA, "generation")
# What ``flush_cache --pages/--data/--all`` and the admin's flush actions remove.
SCOPES = {"pages": PAGES, "data": DATA, "all": ALL}
BATCH = 500


@dataclass(frozen=True)
class FlushReport:
    removed: dict[str, int]
    seconds: float

    @property
    def total(self) -> int:
        return sum(self.removed.values())


def flush(namespaces: tuple[str, ...]) -> FlushReport:
    started = time.monotonic()
    removed = {namespace: _unlink_matching(keys.namespace_pattern(namespace)) for namespace in namespaces}
    if "page" in namespaces:
        cdn.purge(keys.all_pages_surrogate_key())
    return FlushReport(removed=removed, seconds=time.monotonic() - started)


def flush_restaurant(name: str) -> int:
    """Everything cached for one restaurant: summary, pages, fragments, lock."""
    tag = keys.restaurant_tag(name)
    client = primary()
    fixed = [keys.summary_key(name), keys.page_group_key(tag), keys.page_releases_key(tag), keys.summary_lock_key(name)]
    removed = sum(client.unlink(key) for key in fixed)
    cdn.purge(keys.surrogate_key(tag))
    return removed + _unlink_matching(f"{keys.prefix()}:fragment:{tag}:*")


def count_keys(namespace: str) -> int:
    return sum(1 for _ in primary().scan_iter(match=keys.namespace_pattern(namespace), count=1000))


def _unlink_matching(pattern: str) -> int:
    client = primary()
    removed = 0
    batch: list[bytes] = []
    for key in client.scan_iter(match=pattern, count=1000):
        batch.append(key)
        if len(batch) >= BATCH:
            removed += _unlink(client, batch)
            batch = []
    if batch:
        removed += _unlink(client, batch)
    return removed


def _unlink(client, batch: list[bytes]) -> int:
    pipe = client.pipeline(transaction=False)
    for key in batch:
        pipe.unlink(key)
    return sum(pipe.execute())
