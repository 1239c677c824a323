"""Full-page cache for anonymous visitors (served by ``wsgi.py`` and ``middleware.py``).

We own the page keys, unlike Django's ``cache_page``: each page lives as a
field of its group's hash (a restaurant's pages, a user's pages, the list
pages), so a write retires every page of a group with one command, whatever
their number. A page rendered before a write is never stored after it: the
store is conditional on the group's generation, which every write bumps.

What is never cached (Django's rules, plus ours): anything but GET/HEAD;
requests carrying a session cookie (a logged-in user, or one with messages);
responses other than 200, streaming ones, ones that set a cookie, or that say
``Cache-Control: private/no-store`` or ``Vary: *``. Only known query
parameters take part in a page's address, so ``?utm=...`` is served the
shared page; but a page is stored only when rendered for its canonical
address, since a page shows its own address (the login link's ``next``): a
first visitor's ``?utm_source=<text>`` must never reach every later visitor.
Nothing is served or stored for a Host that ``ALLOWED_HOSTS`` refuses: Django
answers those (400), exactly as it would without the cache.

A stored page holds its headers ready to send (a 200's and a 304's, ETag,
``Cache-Control`` and ``Surrogate-Key`` included), so a hit only unpacks
them. The path is matched against the cached views by ``routes.py`` (the
same answer as Django's resolver, without building a ``ResolverMatch``).

Pages are keyed by the release that rendered them (``release.py``): the
field of a page in its group's hash is the release and the page's address
(``keys.release_page_field``), and its ETag digests the release with the
body. A deploy is served its own pages, never its predecessor's (whose HTML
may name static files the new release no longer serves). While two releases
run side by side, each serves its own, and a write retires both: the group
is one hash whatever the releases (one ``DEL``), and a write retiring some
list pages (``catalogue``) deletes their fields for every release that stored
pages in the group (``keys.page_releases_key``).

Shared caches in front of us (a CDN) may keep a page only for as long as our
writes can purge it: ``policy.page_cache_control`` says how long, and
``Surrogate-Key`` names the page's group, which ``retire_group`` purges
(``cdn.py``) right after retiring it here.
"""

import functools
import hashlib
from urllib.parse import parse_qsl

import msgpack
from django.conf import settings
from django.http import HttpResponseNotModified
from django.http.cookie import parse_cookie
from django.http.request import split_domain_port, validate_host
from django.utils.cache import cc_delim_re
from django.utils.http import urlencode

from restaurants.dynamo.normalise import QUERY_MAX_LENGTH, normalised_name

from ..plumbing.connection import bump_generation_and_delete, on_replica, primary
from ..plumbing.scripts import LuaScript
from ..rules import keys, policy, release
from . import cdn, routes

# Which pages are cached, the group each belongs to, and the parameters that matter.
# A group is "lists", "search", or "restaurant" / "user": then its URL argument (GROUP_ARGUMENTS) names it.
CACHED_VIEWS = {
    "restaurants:list": ("lists", ("cuisine", "sort", "page")),
    "restaurants:top": ("lists", ("cuisine",)),
    "restaurants:detail": ("restaurant", ()),
    "restaurants:reviews": ("restaurant", ("cursor",)),
    "restaurants:user": ("user", ("cursor",)),
    "restaurants:search": ("search", ("q", "cursor")),
}
STORED_HEADERS = (
    "Content-Type",
    "Content-Language",
    "Vary",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
)
GROUP_ARGUMENTS = {"restaurant": "name", "user": "username"}
# Any other response without a Cache-Control of its own: no shared cache may keep it.
NOT_SHARED_CACHE_CONTROL = "private, no-cache"
# Of STORED_HEADERS, what a 304 repeats (lower case).
NOT_MODIFIED_KEEPS = ("vary",)
# A stored page: [ENTRY_FORMAT, etag, headers of a 200, headers of a 304, body]. An
# entry of another format (an older release's) is a miss, and is replaced.
ENTRY_FORMAT = 2

_routes = routes.RouteTable(lambda: CACHED_VIEWS)
routes.on_reset(lambda: page_address.cache_clear())

STORE_UNLESS_WRITTEN = LuaScript("store_page_unless_written")


@functools.lru_cache(maxsize=1024)
def page_address(path_info: str, query_string: str) -> tuple[str, str] | None:
    """(group tag, address) of a cacheable page, or None (the address is
    the page's field in its group, but for the release: ``keys.release_page_field``).

    Remembered for the addresses asked most (hits on popular pages cost a
    dictionary lookup); a flood of distinct paths only evicts the oldest.
    Forgotten when the URLconf changes."""
    match = _routes.match(path_info)
    if match is None:
        return None
    view_name, kwargs = match
    group, params = CACHED_VIEWS[view_name]
    if group == "restaurant":
        tag = keys.restaurant_tag(kwargs[GROUP_ARGUMENTS[group]])
    elif group == "user":
        tag = keys.user_tag(kwargs[GROUP_ARGUMENTS[group]])
    elif group == "search":
        tag = keys.SEARCH_TAG
    else:
        tag = keys.LISTS_TAG
    query = dict(parse_qsl(query_string)) if params and query_string else {}
    if group == "search" and "q" in query:
        # One page per normal form ("Café" is served the page of "cafe", which
        # is where the view sends it); a query too long to search is the view's 400.
        if len(query["q"]) > QUERY_MAX_LENGTH:
            return None
        query["q"] = normalised_name(query["q"])
    return tag, page_field(path_info, {p: query.get(p) for p in params})


def page_field(path_info: str, params: dict[str, str | None]) -> str:
    """A page's address, its field in its group's hash after the release: the
    path and its known, non-empty query parameters, sorted (``catalogue``
    names list pages this way too)."""
    return f"{path_info}?{urlencode(sorted((name, value) for name, value in params.items() if value))}"


def is_canonical(field: str, query_string: str) -> bool:
    """Whether the request asked for exactly the page's address: then what it
    renders holds nothing of the request but the address, and may be shared."""
    asked = urlencode(sorted(parse_qsl(query_string, keep_blank_values=True)))
    return asked == field.partition("?")[2]


def retire_group(client, tag: str) -> None:
    """Retire every page of a group, here and (when one is configured) in the
    CDN in front: Redis first, so a CDN refilling after the purge gets the new page."""
    bump_generation_and_delete(
        client, keys.page_group_key(tag), keys.generation_key(tag), seconds=policy.generation_seconds()
    )
    cdn.purge(keys.surrogate_key(tag))


def environ_is_cacheable(environ) -> bool:
    """A GET/HEAD to an allowed host, with no session cookie and no credentials
    (``environ`` may be a WSGI environ or a Django ``request.META``)."""
    if environ.get("REQUEST_METHOD") not in ("GET", "HEAD") or not settings.CACHE_ENABLED:
        return False
    if "HTTP_AUTHORIZATION" in environ or not _host_is_allowed(environ):
        return False
    cookies = environ.get("HTTP_COOKIE")
    if not cookies:
        return True
    session_cookie = settings.SESSION_COOKIE_NAME
    return session_cookie not in cookies or session_cookie not in parse_cookie(cookies)


def _host_is_allowed(environ) -> bool:
    """Django's own test (HttpRequest.get_host), before any cached answer."""
    host = environ.get("HTTP_X_FORWARDED_HOST") if settings.USE_X_FORWARDED_HOST else None
    host = host or environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
    allowed = settings.ALLOWED_HOSTS or ([".localhost", "127.0.0.1", "[::1]"] if settings.DEBUG else [])
    return _host_in(host, tuple(allowed))


@functools.lru_cache(maxsize=256)
def _host_in(host: str, allowed: tuple[str, ...]) -> bool:
    """Remembered per Host header and ALLOWED_HOSTS (a site sees a handful of
    each; a flood of made-up ones only evicts the oldest)."""
    domain, _ = split_domain_port(host)
    return bool(domain) and validate_host(domain, allowed)


def response_is_storable(response) -> bool:
    if response.status_code != 200 or response.streaming or response.cookies:
        return False
    cache_control = {part.strip().lower() for part in cc_delim_re.split(response.get("Cache-Control", ""))}
    if cache_control & {"private", "no-store", "no-cache"}:
        return False
    return "*" not in response.get("Vary", "")


def fetch(tag: str, field: str) -> bytes | None:
    """The cached page, as this release rendered it: one HGET, the whole cost of a hit."""
    return on_replica(lambda client: client.hget(keys.page_group_key(tag), keys.release_page_field(field)))


def generation(tag: str) -> str:
    """Read on a miss, before rendering: the page is stored only if no write
    bumped it meanwhile. Read where the page's data will be read (a replica,
    when the site has them): a page built from a replica that missed a write
    carries that replica's older generation, and the primary refuses it."""
    return (on_replica(lambda client: client.get(keys.generation_key(tag))) or b"").decode()


def store(tag: str, field: str, generation: str, response) -> None:
    """Keep a rendered page unless its group was written since ``generation``,
    with the headers of its 200 and of its 304 ready to send."""
    etag = response["ETag"] = _etag(response.content)
    stored = [(name, response[name]) for name in STORED_HEADERS if response.has_header(name)]
    validators = [("ETag", etag), *cache_headers(tag), ("X-Cache", "HIT")]
    ok_headers = [*stored, *validators, ("Content-Length", str(len(response.content)))]
    not_modified_headers = [*_not_modified_headers(stored), *validators]
    entry = msgpack.packb([ENTRY_FORMAT, etag, ok_headers, not_modified_headers, response.content])
    STORE_UNLESS_WRITTEN(
        primary(),
        [keys.page_group_key(tag), keys.generation_key(tag), keys.page_releases_key(tag)],
        [keys.release_page_field(field), entry, generation, policy.page_seconds(), release.current()],
    )


def cache_headers(tag: str) -> list[tuple[str, str]]:
    """Who may keep a page and for how long (``policy.page_cache_control``),
    and the group a CDN purges it by."""
    surrogate_keys = f"{keys.all_pages_surrogate_key()} {keys.surrogate_key(tag)}"
    return [("Cache-Control", policy.page_cache_control()), ("Surrogate-Key", surrogate_keys)]


def hit_parts(raw: bytes, environ) -> tuple[int, list[tuple[str, str]], bytes] | None:
    """Status, headers and body for a cached page: a 304 when the client's
    ETag matches, no body for HEAD; None for an entry this release does not
    read (a miss).

    The headers are a list of (str, str) tuples, as PEP 3333 requires of
    ``start_response`` (wsgiref, under ``runserver``, refuses lists)."""
    try:
        entry = msgpack.unpackb(raw, use_list=False)
    except (ValueError, msgpack.UnpackException):
        return None
    if type(entry) is not tuple or len(entry) != 5 or entry[0] != ENTRY_FORMAT:
        return None
    _, etag, ok_headers, not_modified_headers, body = entry
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match and _etag_matches(if_none_match, etag):
        return 304, list(not_modified_headers), b""
    return 200, list(ok_headers), b"" if environ.get("REQUEST_METHOD") == "HEAD" else body


def mark_miss(response, environ, tag: str):
    """Headers of a page just rendered and stored; a 304 if the client has it."""
    for name, value in cache_headers(tag):
        response[name] = value
    response["X-Cache"] = "MISS"
    if _etag_matches(environ.get("HTTP_IF_NONE_MATCH", ""), response["ETag"]):
        not_modified = HttpResponseNotModified()
        for name, value in _not_modified_headers(response.items()):
            not_modified[name] = value
        for name in ("ETag", "X-Cache", "Cache-Control", "Surrogate-Key"):
            not_modified[name] = response[name]
        return not_modified
    return response


def _not_modified_headers(headers) -> list[tuple[str, str]]:
    """What a 304 keeps of a page's headers: ``Vary`` (RFC 9110, 15.4.5), never
    ``Content-Type`` or ``Content-Length``, since it has no content."""
    return [(name, value) for name, value in headers if name.lower() in NOT_MODIFIED_KEEPS]


def _etag(body: bytes) -> str:
    """The body's digest, and the release's: a client holding another
    release's page is sent this one's (its headers may differ too)."""
    digest = hashlib.sha256(release.current().encode() + b"\x00" + body)
    return '"' + digest.hexdigest()[:32] + '"'


def _etag_matches(if_none_match: str, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {candidate.strip().removeprefix("W/") for candidate in if_none_match.split(",")}
    return etag in candidates or "*" in candidates
