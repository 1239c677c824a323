"""Full-page cache for anonymous visitors (served by ``middleware.py``).

We own the page keys, unlike Django's ``cache_page``: each page lives as a
field of its group's hash (a restaurant's pages, a user's pages, the list
pages), so a write retires every page of a group with one command, whatever
their number. A page rendered before a write is never stored after it: the
store is conditional on the group's generation, which every write bumps.

What is never cached (Django's rules, plus ours): anything but GET/HEAD;
requests carrying a session cookie (a logged-in user, or one with messages);
responses other than 200, streaming ones, ones that set a cookie, or that say
``Cache-Control: private/no-store`` or ``Vary: *``. Only known query
parameters take part in a page's address, so ``?utm=...`` shares the page.
"""

import hashlib
import time

import msgpack
from django.conf import settings
from django.http import HttpResponse, HttpResponseNotModified
from django.urls import Resolver404, resolve
from django.utils.cache import cc_delim_re, get_conditional_response
from django.utils.http import urlencode

from . import keys, policy
from .connection import LuaScript, primary, replica

# Which pages are cached, the group each belongs to, and the parameters that matter.
CACHED_VIEWS = {
    "restaurants:list": ("lists", ("cuisine", "cursor")),
    "restaurants:top": ("lists", ()),
    "restaurants:detail": ("restaurant", ()),
    "restaurants:reviews": ("restaurant", ("cursor",)),
    "restaurants:user": ("user", ("cursor",)),
}
STORED_HEADERS = ("Content-Type", "Content-Language", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy")

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


def page_address(request) -> tuple[str, str] | None:
    """(group tag, field) of a cacheable page, or None."""
    try:
        match = resolve(request.path_info)
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
    else:
        tag = keys.LISTS_TAG
    query = urlencode(sorted((p, request.GET[p]) for p in params if request.GET.get(p)))
    return tag, f"{request.path_info}?{query}"


def retire_group(client, tag: str) -> None:
    RETIRE_GROUP(client, [keys.generation_key(tag), keys.page_group_key(tag)], [policy.generation_seconds()])


def request_is_cacheable(request) -> bool:
    return (
        settings.CACHE_ENABLED
        and request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "HTTP_AUTHORIZATION" not in request.META
    )


def response_is_storable(response) -> bool:
    if response.status_code != 200 or response.streaming or response.cookies:
        return False
    cache_control = {part.strip().lower() for part in cc_delim_re.split(response.get("Cache-Control", ""))}
    if cache_control & {"private", "no-store", "no-cache"}:
        return False
    return "*" not in response.get("Vary", "")


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _entry(response) -> bytes:
    return msgpack.packb(
        {
            "body": response.content,
            "etag": response["ETag"],
            "headers": [(name, response[name]) for name in STORED_HEADERS if response.has_header(name)],
            "stored_at": int(time.time()),
        }
    )


def response_from(raw: bytes, request) -> HttpResponse:
    entry = msgpack.unpackb(raw)
    response = HttpResponse(b"" if request.method == "HEAD" else entry["body"])
    for name, value in entry["headers"]:
        response[name] = value
    response["ETag"] = entry["etag"]
    return response


def finish(response, request, outcome: str):
    response["X-Cache"] = outcome
    response["Cache-Control"] = "public, max-age=0, must-revalidate"
    if response.status_code == 200 and response.has_header("ETag"):
        conditional = get_conditional_response(request, etag=response["ETag"], response=response)
        if isinstance(conditional, HttpResponseNotModified):
            conditional["X-Cache"] = outcome
            return conditional
    return response


def lookup(tag: str, field: str) -> tuple[bytes | None, str]:
    """(the cached page or None, the group's generation): one round trip,
    since both keys share the group's hash tag."""
    pipe = replica().pipeline(transaction=False)
    pipe.hget(keys.page_group_key(tag), field)
    pipe.get(keys.generation_key(tag))
    raw, generation = pipe.execute()
    return raw, (generation or b"").decode()


def store(tag: str, field: str, generation: str, response) -> None:
    """Keep a rendered page unless its group was written since ``generation``."""
    response["ETag"] = _etag(response.content)
    STORE_UNLESS_WRITTEN(
        primary(),
        [keys.page_group_key(tag), keys.generation_key(tag)],
        [field, _entry(response), generation, policy.page_seconds()],
    )
