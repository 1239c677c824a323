"""Rendered template fragments shared by every visitor (key-based expiry),
and page shells.

A fragment's key holds the version of the data it shows, so a write never
deletes fragments: it changes the version, readers ask for a new key, and the
old fragment expires on its own.

A *shell* is a whole page but for its per-visitor parts (account links,
messages, the review form): the text between those parts, and their names.
It is shared by every visitor of the page, so it holds nothing personal (the
web layer renders it without any personal value at hand). Its key is not
versioned: a view reads it in the same round trip as the summary it must
show (``page_reads``), so the version is stored inside it, and a shell that
carries another version is a miss, rendered again and overwritten. Readers
check the version, so concurrent writers of two versions do no harm.

Both are keyed by the release too (``keys``): a deploy renders its own, and
two releases running side by side each read and write their own shell.
"""

from dataclasses import dataclass

import msgpack

from ..plumbing.connection import CacheDown, on_replica, primary, redis_or_fallback
from ..rules import keys, policy
from . import stats


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


@dataclass(frozen=True)
class Shell:
    """A page without its per-visitor parts: ``parts`` is the text around the
    parts named in ``holes`` (one more part than holes)."""

    parts: list[str]
    holes: list[str]


def shell_from(raw: bytes | None, *, version: str) -> Shell | None:
    """The shell read (``page_reads``) if it was rendered for ``version``, else None."""
    if raw is not None:
        try:
            entry = msgpack.unpackb(raw)
            shell = Shell(parts=entry["parts"], holes=entry["holes"])
            valid = entry["version"] == version and len(shell.parts) == len(shell.holes) + 1
        except (ValueError, KeyError, TypeError, msgpack.UnpackException):
            valid = False
        if valid:
            stats.record("fragment", "hit")
            return shell
    stats.record("fragment", "miss")
    return None


def store_shell(tag: str, shell: Shell, *, version: str) -> None:
    entry = msgpack.packb({"version": version, "parts": shell.parts, "holes": shell.holes})
    try:
        with redis_or_fallback():
            primary().set(keys.fragment_shell_key(tag), entry, ex=policy.fragment_seconds())
    except CacheDown:
        pass
