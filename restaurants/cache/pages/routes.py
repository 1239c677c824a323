"""Which cached view a path is, without Django's URL resolver on every hit.

``django.urls.resolve`` builds a ``ResolverMatch`` (routes joined, namespaces,
the view's dotted path) for every request: about a fifth of a page-cache hit's
CPU, to learn one view name and one argument. This module learns the same
from the URLconf once, at first use, for the views ``pages.CACHED_VIEWS``
names, and answers each path with a few of Django's own pattern matches.

Exactly Django's answer, or none:

- Nothing is re-implemented: the URLconf is flattened into its endpoints, in
  the order Django tries them, each kept as the chain of Django's own pattern
  objects (include prefixes, then the endpoint), and a path is matched by
  calling their ``match`` in turn, as ``URLResolver.resolve`` does
  (converters included).
- Django answers with the first endpoint whose chain matches. So a cached
  endpoint counts only if no endpoint before it matches too. Those that could
  are found once: an endpoint can only match paths that start with its
  literal text (the route up to its first converter), so only earlier
  endpoints whose literal text is compatible are checked at request time (for
  ``restaurants/<name>/``, just the list page's empty route).
- Arguments merge as Django merges them (outer captures, outer defaults,
  inner captures, inner defaults).
- Whatever is not certain (a path that matches no cached endpoint, an earlier
  endpoint that matches, a pattern that raises) answers None: the request
  goes to Django, which resolves it as always. Never a wrong page.

``tests/cache/test_route_match.py`` checks the answers against
``django.urls.resolve`` over generated paths (encoded slashes, dot segments,
unicode, missing trailing slashes).

A table is built on first use and dropped when ``ROOT_URLCONF`` changes (tests).
"""

import re
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.core.signals import setting_changed
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

# What a regex pattern's source may hold before its first special character
# and still be read as plain text (the root's "^/", a re_path's "^api/").
_REGEX_SPECIALS = re.compile(r"[\\.^$*+?{}\[\]|()]")


@dataclass(frozen=True)
class _Level:
    pattern: object  # a Django pattern: RoutePattern, RegexPattern, LocalePrefixPattern
    defaults: dict


@dataclass(frozen=True)
class _Endpoint:
    view_name: str
    chain: tuple[_Level, ...]  # from the root resolver down to the endpoint
    literal: str  # text every path this endpoint matches starts with
    static: bool  # no converter, no regex: it matches ``literal`` and nothing else

    def match(self, path: str) -> dict | None:
        if self.static:
            return _defaults(self.chain) if path == self.literal else None
        return _walk(self.chain, path)


@dataclass(frozen=True)
class _CachedRoute:
    endpoint: _Endpoint
    guards: tuple[_Endpoint, ...]  # earlier endpoints that could match the same paths


class RouteTable:
    """The cached views of the URLconf, built at first use from ``view_names()``."""

    def __init__(self, view_names: Callable[[], Iterable[str]]):
        self._view_names = view_names
        self._routes: tuple[_CachedRoute, ...] | None = None
        _tables.add(self)

    def reset(self) -> None:
        self._routes = None

    def _build(self) -> tuple[_CachedRoute, ...]:
        names = set(self._view_names())
        endpoints = list(_flatten(get_resolver()))
        routes = []
        for index, endpoint in enumerate(endpoints):
            if endpoint.view_name in names:
                earlier = (other for other in endpoints[:index] if _compatible(other.literal, endpoint.literal))
                routes.append(_CachedRoute(endpoint, tuple(earlier)))
        return tuple(routes)

    def match(self, path: str) -> tuple[str, dict] | None:
        """(view name, keyword arguments) exactly as ``resolve(path)`` gives
        them, for a path that resolves to one of the table's views; None for
        any other path, and whenever unsure."""
        routes = self._routes
        if routes is None:
            routes = self._routes = self._build()  # two threads may both build it: same table
        for route in routes:
            if not path.startswith(route.endpoint.literal):
                continue
            try:
                kwargs = route.endpoint.match(path)
                if kwargs is None:
                    continue
                if any(guard.match(path) is not None for guard in route.guards):
                    return None  # Django answers with an earlier view
            except Exception:  # a converter or pattern that raised: Django decides
                return None
            return route.endpoint.view_name, kwargs
        return None


def _walk(chain: tuple[_Level, ...], path: str) -> dict | None:
    """The endpoint's keyword arguments if the whole chain matches ``path``."""
    kwargs: dict = {}
    for level in chain:
        found = level.pattern.match(path)
        if not found:
            return None
        path, _args, captured = found
        kwargs.update(captured)
        kwargs.update(level.defaults)
    return kwargs


def _defaults(chain: tuple[_Level, ...]) -> dict:
    kwargs: dict = {}
    for level in chain:
        kwargs.update(level.defaults)
    return kwargs


def _flatten(resolver: URLResolver, outer: tuple[_Level, ...] = (), namespaces: tuple[str, ...] = ()):
    """Every endpoint under ``resolver``, in the order Django tries them."""
    chain = (*outer, _Level(resolver.pattern, resolver.default_kwargs))
    namespaces = (*namespaces, resolver.namespace) if resolver.namespace else namespaces
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _flatten(pattern, chain, namespaces)
        elif isinstance(pattern, URLPattern):
            levels = (*chain, _Level(pattern.pattern, pattern.default_args))
            name = pattern.name or pattern.lookup_str
            literal, static = _literal(levels)
            yield _Endpoint(":".join((*namespaces, name)), levels, literal, static)


def _literal(levels: tuple[_Level, ...]) -> tuple[str, bool]:
    """The text every path matched by ``levels`` starts with (possibly empty),
    and whether that text is the only path they match: every level plain text,
    the root's ``^/`` and include prefixes searched from the start, the
    endpoint's route matched whole (Django's routes end in ``\\Z``)."""
    text = ""
    for level in levels:
        pattern = level.pattern
        if isinstance(pattern, RoutePattern) and isinstance(pattern._route, str):
            route = pattern._route
            text += route.partition("<")[0]
            if "<" in route or pattern.converters:
                return text, False
        elif isinstance(pattern, RegexPattern) and isinstance(pattern._regex, str):
            source = pattern._regex
            if not source.startswith("^"):
                return text, False  # searched anywhere in the path: no known start
            head = _REGEX_SPECIALS.split(source[1:], maxsplit=1)[0]
            rest = source[1 + len(head) :]
            if rest[:1] in ("*", "+", "?", "{"):
                head = head[:-1]  # the last character is quantified
            text += head
            if rest or pattern._is_endpoint:
                return text, False  # a regex endpoint without "$" matches longer paths too
        else:
            return text, False  # a locale prefix or a translated route: no known text
    return text, True


def _compatible(earlier: str, later: str) -> bool:
    """Whether one path could start with both texts."""
    return earlier.startswith(later) or later.startswith(earlier)


_tables: "weakref.WeakSet[RouteTable]" = weakref.WeakSet()


_reset_callbacks: list[Callable[[], None]] = []


def on_reset(callback: Callable[[], None]) -> None:
    """Call ``callback`` too when the tables are dropped (for what was derived from them)."""
    _reset_callbacks.append(callback)


def _urlconf_changed(*, setting, **kwargs) -> None:
    if setting == "ROOT_URLCONF":
        for route_table in list(_tables):
            route_table.reset()
        for callback in _reset_callbacks:
            callback()


setting_changed.connect(_urlconf_changed)
