"""Hypothesis strategies for requests to every URL of the site.

The URLs come from Django's resolver, not from a list kept by hand: a view
added tomorrow is fuzzed tomorrow. Each ``<name:...>`` segment gets names the
table holds (restaurants, reviewers, one restaurant whose name no URL can
carry) or arbitrary text, written the way the site writes it or raw; query
strings and form bodies mix the fields our forms know with arbitrary ones.
"""

import re
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import quote, urlencode

from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import strategies as st

from restaurants.admin.actions import ACTIONS
from restaurants.names import name_to_url_segment

PASSWORD = "pass-word-9"
_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<parameter>[^>]+)>")


@dataclass(frozen=True)
class Template:
    """One URL pattern, its prefixes joined: literal text and parameters."""

    view_name: str
    route: str
    regex: bool = False


@dataclass(frozen=True)
class Names:
    """What the fuzzed table holds, so requests can hit real things too."""

    restaurants: tuple[str, ...]
    usernames: tuple[str, ...]
    cursors: tuple[str, ...]
    cuisines: tuple[str, ...] = field(default=())


@cache
def url_templates() -> tuple[Template, ...]:
    def walk(patterns, prefix: str, namespace: str):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                is_regex = type(pattern.pattern).__name__ == "RegexPattern"
                yield Template(f"{namespace}{pattern.name or route}", route, is_regex)

    return tuple(walk(get_resolver().url_patterns, "", ""))


# Text a browser could send (the test client cannot encode lone surrogates, nor can HTTP).
text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
long_text = st.text(st.characters(exclude_categories=["Cs"]), min_size=150, max_size=400)
slashes = st.text(alphabet="/%a.", min_size=1, max_size=90)


def mostly(likely: st.SearchStrategy, otherwise: st.SearchStrategy, odds: int = 3) -> st.SearchStrategy:
    """``likely`` ``odds`` times out of ``odds + 1``. (``st.one_of(a, a, a, b)`` would not
    weigh anything: hypothesis draws each distinct branch alike.)"""
    return st.integers(0, odds).flatmap(lambda roll: likely if roll else otherwise)


def any_text(names: Names) -> st.SearchStrategy[str]:
    return st.one_of(
        text,
        long_text,
        slashes,
        st.sampled_from(names.restaurants + names.usernames + names.cursors + names.cuisines + (PASSWORD, "")),
    )


def segment(converter: str | None, parameter: str, names: Names) -> st.SearchStrategy[str]:
    """One path segment, percent-encoded as a client would send it: mostly a
    name the table holds (so pages and forms are reached), else anything."""
    if converter == "slug":
        raw = st.one_of(st.sampled_from(sorted(ACTIONS)), text)
    elif converter == "name":
        known = st.sampled_from(names.usernames if parameter == "username" else names.restaurants)
        raw = mostly(known, st.one_of(text, long_text, slashes))
    else:  # Django's own admin URLs: <path:...> ids, which an ORM would look up
        raw = st.one_of(st.sampled_from(["1", "0", "2"]), text, st.integers(-5, 10**20).map(str))
    site_form = raw.map(lambda value: quote(name_to_url_segment(value), safe=""))  # as reverse() writes it
    raw_form = raw.map(lambda value: quote(value, safe="/"))  # as a person might type it, slashes and all
    return mostly(site_form, raw_form)


@st.composite
def paths(draw, template: Template, names: Names) -> str:
    if template.regex:  # the admin's catch-all: "admin/" + anything
        prefix = template.route.split("(?P<", 1)[0]
        return "/" + prefix + quote(draw(st.one_of(text, slashes)), safe="/")
    parts, position = [], 0
    for match in _PARAMETER.finditer(template.route):
        parts.append(template.route[position : match.start()])
        parts.append(draw(segment(match.group("converter"), match.group("parameter"), names)))
        position = match.end()
    parts.append(template.route[position:])
    return "/" + "".join(parts)


# The fields each view reads from its form (POST) or query string (GET).
FORMS = {
    "restaurants:review_create": ("rating", "review"),
    "restaurants:review_edit": ("rating", "review"),
    "accounts:signup": ("username", "email", "password1", "password2", "next"),
    "accounts:login": ("username", "password", "next"),
    "accounts:logout": ("next",),
    "staff:login": ("username", "password", "next"),
    "staff:logout": ("next",),
    "staff:password_change": ("old_password", "new_password1", "new_password2"),
    "staff:restaurant_add": ("name", "cuisine", "address"),
    "staff:restaurant": ("name", "cuisine", "address"),
    "staff:cache_action": ("restaurant",),
}
QUERY_FIELDS = ("cursor", "cuisine", "q", "next")


def field_values(names: Names) -> dict[str, st.SearchStrategy[str]]:
    """Every field our forms and views read, mostly with a value that can make them valid (so forms get
    past validation to the writes behind them), else anything."""
    anything = any_text(names)
    new_password = st.sampled_from(["a-new-pass-99", "short", ""])

    def valid_or_anything(valid: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return mostly(valid, anything)

    return {
        "rating": valid_or_anything(st.sampled_from(["1", "2", "3", "4", "5", "0", "6", "-1", "5.0"])),
        "review": valid_or_anything(st.one_of(st.just("Lovely."), st.text(min_size=4990, max_size=5010))),
        "username": valid_or_anything(
            st.one_of(st.sampled_from(names.usernames), st.from_regex(r"[A-Za-z0-9_.-]{3,30}", fullmatch=True))
        ),
        "email": valid_or_anything(st.just("someone@example.com")),
        "password": valid_or_anything(st.just(PASSWORD)),
        "password1": valid_or_anything(new_password),
        "password2": valid_or_anything(new_password),
        "old_password": valid_or_anything(st.just(PASSWORD)),
        "new_password1": valid_or_anything(new_password),
        "new_password2": valid_or_anything(new_password),
        "next": valid_or_anything(st.sampled_from(["/", "/top/", "0", "//evil.example/", "https://evil.example/"])),
        "name": valid_or_anything(st.sampled_from(["Fjord & Fire", "Zoë's 東京 #1", "/" * 66 + "ab", "/" * 67])),
        "cuisine": valid_or_anything(st.sampled_from(names.cuisines)),
        "address": valid_or_anything(st.just("1 Pier")),
        "restaurant": valid_or_anything(st.sampled_from(names.restaurants)),
        "q": valid_or_anything(st.sampled_from(["Any", "", " ", "Example Corp. "])),
        "cursor": valid_or_anything(st.sampled_from(names.cursors)),
    }


@st.composite
def fields(draw, wanted: tuple[str, ...], names: Names) -> dict[str, str]:
    """Mostly the fields the view wants, now and then others, arbitrary ones included."""
    values_for = field_values(names)
    chosen = [name for name in wanted if draw(st.integers(0, 9)) > 0]
    chosen += draw(st.lists(st.sampled_from(sorted(values_for)), max_size=2, unique=True))
    values = {name: draw(values_for[name]) for name in chosen}
    if draw(st.integers(0, 4)) == 0:
        values.update(draw(st.dictionaries(text.filter(bool), text, max_size=2)))
    return values


@dataclass(frozen=True)
class Request:
    method: str
    template: Template
    path: str
    query: dict
    body: dict
    urlencoded: bool

    def url(self) -> str:
        return f"{self.path}?{urlencode(self.query)}" if self.query else self.path


# GET and POST, each on its own; the methods no view of ours expects, together.
METHODS = (("GET",), ("POST",), ("HEAD", "PUT", "OPTIONS", "DELETE"))


@st.composite
def requests(draw, template: Template, methods: tuple[str, ...], names: Names) -> Request:
    path = draw(paths(template, names))
    method = draw(st.sampled_from(methods))
    query = draw(fields(QUERY_FIELDS if draw(st.booleans()) else (), names))
    body = draw(fields(FORMS.get(template.view_name, ()), names)) if method in ("POST", "PUT", "DELETE") else {}
    return Request(method, template, path, query, body, urlencoded=draw(st.booleans()))
