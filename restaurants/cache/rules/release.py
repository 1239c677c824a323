"""The release: the name every rendered artefact is keyed by.

A page rendered by one release must never be served by the next: its HTML
comes from that release's templates, names that release's static files
(hashed names, with a manifest storage) and was made by its code. So the
keys of everything rendered (cached pages, their ETags, page shells,
fragments; ``keys``) carry the release, and a deploy starts with rendered
caches of its own. The data caches (summaries, profiles, the board) hold
data, not HTML, and carry on across deploys.

``settings.RELEASE`` (the ``RELEASE`` environment variable) names it when set.
Otherwise it is derived from what is deployed, so a deploy that forgets the
variable is still keyed apart from the last: a SHA-256 over

- every template the template engines can load (their directories, the apps'
  included: extended and included templates alike, Django's own too);
- the static manifest (``staticfiles.json``) when the static storage has one,
  else every static file the finders list;
- the code of ``restaurants/`` and ``reviews_site/``: Python, and the Lua
  scripts Redis runs for it (``scripts.py``).

Paths count relative to their roots, so every host of one deploy derives the
same name. Derived once per process (the WSGI front asks at start-up), and
again only when a test changes a setting it depends on. Templates edited in
place under a running process (``DEBUG``) are covered by the layout digest of
a shell (``visitor_parts``), not by the release.
"""

import functools
import hashlib
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.template import engines

log = logging.getLogger(__name__)

# A release goes into Redis keys and hash fields (``keys.release_page_field``
# joins it to a page's address, which starts with "/"): no "/", ":" or space.
NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
DIGEST_LENGTH = 16
# The sources a release is derived from: the packages next to this one.
CODE_ROOTS = ("restaurants", "reviews_site")
CODE_SUFFIXES = (".py", ".lua")
_SITE_ROOT = Path(__file__).resolve().parents[2]
# What a derived release depends on: when a test changes one, it is derived again.
DEPENDS_ON = frozenset({"RELEASE", "TEMPLATES", "INSTALLED_APPS", "STATIC_ROOT", "STATICFILES_DIRS", "STORAGES"})


@functools.cache
def current() -> str:
    """This process's release: ``settings.RELEASE``, or derived from what is deployed."""
    if settings.RELEASE:
        if not NAME.fullmatch(settings.RELEASE):
            raise ImproperlyConfigured(
                f"RELEASE={settings.RELEASE!r}: use 1-64 letters, digits, '.', '_' or '-' (or leave it unset)."
            )
        return settings.RELEASE
    started = time.perf_counter()
    release = derived()
    log.info("Release %s, derived in %.0f ms.", release, (time.perf_counter() - started) * 1000)
    return release


def derived() -> str:
    """The digest of the deployed templates, static files and code."""
    digest = hashlib.sha256()
    for section, name, path in _sources():
        digest.update(f"{section}\x00{name}\x00".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:DIGEST_LENGTH]


def _sources() -> Iterator[tuple[str, str, Path]]:
    """(section, name relative to its root, file), in a fixed order."""
    for index, directory in enumerate(_template_dirs()):
        for name, path in _files_under(Path(directory)):
            yield f"templates:{index}", name, path
    yield from _static_sources()
    for root in CODE_ROOTS:
        for name, path in _files_under(_SITE_ROOT / root, suffixes=CODE_SUFFIXES):
            yield f"code:{root}", name, path


def _template_dirs() -> list[str]:
    """Every directory a template engine searches, in its order (``DIRS``, then the apps')."""
    return [str(directory) for engine in engines.all() for directory in engine.template_dirs]


def _static_sources() -> Iterator[tuple[str, str, Path]]:
    if isinstance(staticfiles_storage, ManifestFilesMixin):
        manifest = Path(staticfiles_storage.path(staticfiles_storage.manifest_name))
        if manifest.is_file():
            yield "static:manifest", manifest.name, manifest
            return
    files = []
    for finder in finders.get_finders():
        for name, storage in finder.list([]):
            prefix = getattr(storage, "prefix", None) or ""
            files.append((f"{prefix}/{name}" if prefix else name, Path(storage.path(name))))
    for name, path in sorted(files):
        yield "static:files", name, path


def _files_under(root: Path, suffixes: tuple[str, ...] | None = None) -> list[tuple[str, Path]]:
    if not root.is_dir():
        return []
    found = (
        path
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and (suffixes is None or path.suffix in suffixes)
    )
    return sorted((path.relative_to(root).as_posix(), path) for path in found)


def _setting_changed(*, setting, **kwargs) -> None:
    if setting in DEPENDS_ON:
        current.cache_clear()


setting_changed.connect(_setting_changed)
