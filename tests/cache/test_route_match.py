"""The WSGI front's route match (``restaurants/cache/pages/routes.py``) gives exactly
the view and arguments Django's resolver gives, for every cached view, and no
answer for anything else: checked over generated paths, odd ones included."""

import string

import pytest
from django.urls import Resolver404, resolve, reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from restaurants.cache.pages import pages, routes
from restaurants.cache.rules import keys
from restaurants.names import name_to_url_segment

CACHED = pages.CACHED_VIEWS


def django_answer(path: str):
    """What the front must answer: Django's view and kwargs if cached, else None."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return (match.view_name, match.kwargs) if match.view_name in CACHED else None


def front_answer(path: str):
    return pages._routes.match(path)


# Pieces of paths: the site's own words, encoded and odd characters, dot segments.
WORDS = ["restaurants", "users", "top", "reviews", "review", "edit", "delete", "admin", "accounts", "login", "bench"]
ODD = [".", "..", "%2F", "%252F", "%25", "%", "é", "Zoë's Café #1", "😀", "a b", "\u200b", "\x00", "?", ";", "//"]
segment = st.one_of(
    st.sampled_from(WORDS + ODD),
    st.text(alphabet=string.ascii_letters + string.digits + "-_.~%/é😀 ", min_size=0, max_size=12),
    st.text(min_size=1, max_size=4),  # any code point
    st.integers(min_value=195, max_value=210).map(lambda n: "x" * n),  # around the converter's 200 cap
)
free_paths = st.builds(
    lambda parts, lead, trail: ("/" if lead else "") + "/".join(parts) + ("/" if trail else ""),
    st.lists(segment, min_size=0, max_size=5),
    st.booleans(),
    st.booleans(),
)
# Paths shaped like the site's, so that most of them resolve to some view.
name_like = st.one_of(
    st.sampled_from(ODD + WORDS),
    st.text(alphabet=string.ascii_letters + "-_.~%é😀 #'", min_size=1, max_size=12),
    st.text(min_size=1, max_size=6),
)
shaped_paths = st.builds(
    lambda head, name, tail: f"{head}{name}{tail}",
    st.sampled_from(["/restaurants/"] * 4 + ["/users/"] * 2 + ["/", "/top/", "/admin/", "restaurants/"]),
    name_like,
    st.sampled_from(["/"] * 3 + ["/reviews/"] * 2 + ["/review/", "/review/edit/", "", "/reviews", "//", "/./"]),
)


@settings(max_examples=2000, derandomize=True, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(shaped_paths)
def test_the_front_matches_exactly_what_django_resolves_for_paths_shaped_like_the_sites(path):
    assert front_answer(path) == django_answer(path)


@settings(max_examples=2000, derandomize=True, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(free_paths)
@example("/")
@example("")
@example("/top/")
@example("/top")
@example("/restaurants/")
@example("/restaurants/Thai/")
@example("/restaurants/Thai")
@example("/restaurants/Thai/reviews/")
@example("/restaurants/Thai/review/")
@example("/restaurants/a/b/")
@example("/restaurants/a%2Fb/")
@example("/restaurants/100%25/")
@example("/restaurants/./")
@example("/restaurants/../")
@example("/users/kim/")
@example("/users/KIM/")
@example("//restaurants/Thai/")
@example("/restaurants//")
@example("/restaurants/" + "x" * 200 + "/")
@example("/restaurants/" + "x" * 201 + "/")
@example("/admin/")
@example("/accounts/login/")
def test_the_front_matches_exactly_what_django_resolves(path):
    assert front_answer(path) == django_answer(path)


@pytest.mark.parametrize(
    "name",
    ["AnyCompany Fine Dining", "Zoë's Café #1 / 100%", "a/b", "%2F", "..a", "日本料理 😀", "x" * 200, "?q=1#frag"],
)
def test_every_restaurant_address_django_builds_is_matched_to_its_restaurant(name):
    from urllib.parse import unquote

    for view in ("restaurants:detail", "restaurants:reviews"):
        path = unquote(reverse(view, args=[name]))  # what a WSGI server puts in PATH_INFO
        assert front_answer(path) == (view, {"name": name}) == django_answer(path)
        assert pages.page_address(path, "")[0] == keys.restaurant_tag(name)


def test_the_address_of_a_page_is_its_path_and_only_its_known_parameters():
    assert pages.page_address("/", "utm_source=mail&cuisine=Thai&cursor=") == (keys.LISTS_TAG, "/?cuisine=Thai")
    assert pages.page_address("/users/kim/", "cursor=abc") == (keys.user_tag("kim"), "/users/kim/?cursor=abc")
    assert pages.page_address("/restaurants/Thai/review/", "") is None  # a form, never cached
    assert pages.page_address("/restaurants/Thai", "") is None  # Django redirects it (APPEND_SLASH)
    assert name_to_url_segment("a/b") == "a%2Fb"


def test_an_earlier_route_that_matches_the_same_path_wins_as_in_django(settings):
    """A URLconf where a non-cached view comes first and shadows a cached route:
    the front must step aside exactly where Django would."""
    settings.ROOT_URLCONF = "tests.cache.shadowing_urls"
    assert front_answer("/restaurants/special/") is None
    assert django_answer("/restaurants/special/") is None  # Django resolves the earlier, uncached view
    assert (
        front_answer("/restaurants/Thai/")
        == ("restaurants:detail", {"name": "Thai"})
        == django_answer("/restaurants/Thai/")
    )


def test_the_route_table_follows_the_urlconf(settings):
    assert front_answer("/top/") == ("restaurants:top", {})
    settings.ROOT_URLCONF = "tests.cache.shadowing_urls"
    assert front_answer("/top/") is None  # not in that URLconf
    assert isinstance(routes.RouteTable(lambda: CACHED).match("/restaurants/x/"), tuple)
