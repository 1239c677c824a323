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
"""

import hashlib
from urllib.parse import parse_qsl

import msgpack
from django.conf import settings
from django.http import HttpResponseNotModified
from django.http.cookie import parse_cookie
from django.http.request import split_domain_port, validate_host
from django.urls import Resolver404, resolve
from django.utils.cache import cc_delim_re
from django.utils.http import urlencode

from restaurants.dynamo.normalise import QUERY_MAX_LENGTH, normalised_name

from . import clock, keys, policy
from .connection import LuaScript, on_replica, primary

# Which pages are cached, the group each belongs to, and the parameters that matter.
CACHED_VIEWS = {
    "restaurants:list": ("lists", ("cuisine", "cursor")),
    "restaurants:top": ("lists", ()),
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
# Of STORED_HEADERS, what a 304 repeats (lower case).
NOT_MODIFIED_KEEPS = ("vary",)
# Browsers may keep a page but must ask (with its ETag) before reusing it.
CACHE_HEADERS = (("Cache-Control", "public, max-age=0, must-revalidate"),)

STORE_UNLESS_WRITTEN = LuaScript(
    """
local current = redis.call('GET', KEYS[2]) or ''
if current ~= ARGV[3] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[4]) end
return 1
"""
)

RETIRE_GROUP = LuaScript(
    """
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1])
return redis.call('DEL', KEYS[2])
"""
)


def page_address(path_info: str, query_string: str) -> tuple[str, str] | None:
    """(group tag, field) of a cacheable page, or None."""
    try:
        match = resolve(path_info)
    except Resolver404:
        return None
    rule = CACHED_VIEWS.get(match.view_name)
    if rule is None:
        return None
    group, params = rule
    if group == "restaurant":
        tag = keys.restaurant_tag(match.kwargs["name"])
    elif group == "user":
        tag = keys.user_tag(match.kwargs["username"])
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
    kept = urlencode(sorted((p, query[p]) for p in params if query.get(p)))
    return tag, f"{path_info}?{kept}"


def is_canonical(field: str, query_string: str) -> bool:
    """Whether the request asked for exactly the page's address: then what it
    renders holds nothing of the request but the address, and may be shared."""
    asked = urlencode(sorted(parse_qsl(query_string, keep_blank_values=True)))
    return asked == field.partition("?")[2]


def retire_group(client, tag: str) -> None:
    RETIRE_GROUP(client, [keys.generation_key(tag), keys.page_group_key(tag)], [policy.generation_seconds()])


def environ_is_cacheable(environ) -> bool:
    """A GET/HEAD to an allowed host, with no session cookie and no credentials
    (``environ`` may be a WSGI environ or a Django ``request.META``)."""
    if not settings.CACHE_ENABLED or environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
        return False
    if "HTTP_AUTHORIZATION" in environ or not _host_is_allowed(environ):
        return False
    cookies = environ.get("HTTP_COOKIE", "")
    return settings.SESSION_COOKIE_NAME not in cookies or settings.SESSION_COOKIE_NAME not in parse_cookie(cookies)


def _host_is_allowed(environ) -> bool:
    """Django's own test (HttpRequest.get_host), before any cached answer."""
    host = environ.get("HTTP_X_FORWARDED_HOST") if settings.USE_X_FORWARDED_HOST else None
    host = host or environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
    allowed = settings.ALLOWED_HOSTS or ([".localhost", "127.0.0.1", "[::1]"] if settings.DEBUG else [])
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
    """The cached page: one HGET, the whole cost of a hit."""
    return on_replica(lambda client: client.hget(keys.page_group_key(tag), field))


def generation(tag: str) -> str:
    """Read on a miss, before rendering: the page is stored only if no write
    bumped it meanwhile."""
    return (primary().get(keys.generation_key(tag)) or b"").decode()


def store(tag: str, field: str, generation: str, response) -> None:
    """Keep a rendered page unless its group was written since ``generation``."""
    response["ETag"] = _etag(response.content)
    entry = msgpack.packb(
        {
            "body": response.content,
            "etag": response["ETag"],
            "headers": [(name, response[name]) for name in STORED_HEADERS if response.has_header(name)],
            "stored_at": int(clock.now()),
        }
    )
    STORE_UNLESS_WRITTEN(
        primary(),
        [keys.page_group_key(tag), keys.generation_key(tag)],
        [field, entry, generation, policy.page_seconds()],
    )


def hit_parts(raw: bytes, environ) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body for a cached page: a 304 when the client's
    ETag matches, no body for HEAD.

    The headers are a list of (str, str) tuples, as PEP 3333 requires of
    ``start_response``: msgpack hands the stored pairs back as lists, which
    gunicorn accepts and wsgiref (``runserver``) does not."""
    entry = msgpack.unpackb(raw)
    stored = [(str(name), str(value)) for name, value in entry["headers"]]
    validators = [("ETag", entry["etag"]), *CACHE_HEADERS, ("X-Cache", "HIT")]
    if _etag_matches(environ.get("HTTP_IF_NONE_MATCH", ""), entry["etag"]):
        return 304, [*_not_modified_headers(stored), *validators], b""
    body = b"" if environ.get("REQUEST_METHOD") == "HEAD" else entry["body"]
    return 200, [*stored, *validators, ("Content-Length", str(len(entry["body"])))], body


def mark_miss(response, environ):
    """Headers of a page just rendered and stored; a 304 if the client has it."""
    for name, value in CACHE_HEADERS:
        response[name] = value
    response["X-Cache"] = "MISS"
    if _etag_matches(environ.get("HTTP_IF_NONE_MATCH", ""), response["ETag"]):
        not_modified = HttpResponseNotModified()
        for name, value in _not_modified_headers(response.items()):
            not_modified[name] = value
        for name in ("ETag", "X-Cache", *dict(CACHE_HEADERS)):
            not_modified[name] = response[name]
        return not_modified
    return response


def _not_modified_headers(headers) -> list[tuple[str, str]]:
    """What a 304 keeps of a page's headers: ``Vary`` (RFC 9110, 15.4.5), never
    ``Content-Type`` or ``Content-Length``, since it has no content."""
    return [(name, value) for name, value in headers if name.lower() in NOT_MODIFIED_KEEPS]


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _etag_matches(if_none_match: str, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {candidate.strip().removeprefix("W/") for candidate in if_none_match.split(",")}
    return etag in candidates or "*" in candidates
