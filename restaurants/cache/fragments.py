"""Rendered template fragments shared by every visitor (key-based expiry).

A fragment's key holds the version of the data it shows, so a write never
deletes fragments: it changes the version, readers ask for a new key, and the
old fragment expires on its own.
"""

from . import keys, policy, stats
from .connection import CacheDown, on_replica, primary, redis_or_fallback


def get_or_render(*, tag: str, fragment: str, version: str, render) -> str:
    key = keys.fragment_key(tag, fragment, version)
    try:
        with redis_or_fallback():
            cached = on_replica(lambda client: client.get(key))
    except CacheDown:
        return render()
    if cached is not None:
        stats.record("fragment", "hit")
        return cached.decode()
    stats.record("fragment", "miss")
    html = render()
    try:
        with redis_or_fallback():
            primary().set(key, html.encode(), ex=policy.fragment_seconds())
    except CacheDown:
        pass
    return html
