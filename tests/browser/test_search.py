"""A visitor searches restaurants by name from the header's search box.

These tests add restaurants, which would change what the other browser tests
count on the shared site, so they run a site of their own: another gunicorn
on another table (the lab's data plus the restaurants below, created the way
staff create them), with its own cache key prefix on the same Redis.
"""

import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from .conftest import LAB_ITEMS, LOAD_LAB_DATA, ROOT, gunicorn_serving, site_environment

SEARCH_PAGE_SIZE = 24
CREPERIES = [f"Crêperie Saint-Malo {n:02}" for n in range(1, 27)]  # 26: more than a page
CAFES = ["#1 Café", "Café Bar", "Bistro Café"]

CREATE_RESTAURANTS = "\n".join(
    [
        "import django, sys",
        "django.setup()",
        "from restaurants import services",
        "for name in sys.argv[1:]:",
        "    services.restaurant_create(name=name, cuisine='French', address='1 Quai')",
    ]
)


@pytest.fixture(scope="module")
def search_env(dynamodb_server, site_redis) -> dict[str, str]:
    env = site_environment(dynamodb_server.url, site_redis.url, f"browser-search-{uuid.uuid4().hex[:12]}")
    return {**env, "CACHE_KEY_PREFIX": f"search{uuid.uuid4().hex[:8]}"}


def _run(script: str, env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-c", script, *args], env=env, cwd=ROOT, check=True, timeout=120)


@pytest.fixture(scope="module")
def search_site(search_env, tmp_path_factory) -> Iterator[str]:
    _run(LOAD_LAB_DATA, search_env, str(LAB_ITEMS))
    _run(CREATE_RESTAURANTS, search_env, *CREPERIES, *CAFES)
    with gunicorn_serving(search_env, tmp_path_factory.mktemp("gunicorn-search")) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def site_url(search_site: str) -> str:
    """The browser tests' ``page`` fixture, on this module's site."""
    return search_site


def results(page: Page):
    return page.locator(".search-results .card h2")


def search_from_the_header(page: Page, text: str) -> None:
    box = page.get_by_role("search").get_by_label("Search restaurants by name")
    box.fill(text)
    box.press("Enter")


def test_an_accented_upper_case_search_finds_names_whatever_their_accents(page: Page):
    page.goto("/top/")
    search_from_the_header(page, "CAFÉ")

    expect(page).to_have_url("/search/?q=cafe")
    expect(page.get_by_role("heading", level=1)).to_have_text("Restaurants whose name starts with “cafe”")
    expect(results(page)).to_have_text(["#1 Café", "Café Bar"])  # "#1" is a rank; "Bistro Café" starts otherwise
    expect(page.get_by_role("search").get_by_label("Search restaurants by name")).to_have_value("cafe")

    page.get_by_role("link", name="#1 Café", exact=True).click()
    expect(page.get_by_role("heading", name="#1 Café", level=1)).to_be_visible()


def test_a_plain_search_finds_accented_names_and_pages_through_them(page: Page):
    page.goto("/")
    search_from_the_header(page, "creperie saint")

    expect(results(page)).to_have_count(SEARCH_PAGE_SIZE)
    first = results(page).all_inner_texts()
    assert first == CREPERIES[:SEARCH_PAGE_SIZE]
    expect(page.get_by_role("link", name="First results")).to_have_count(0)

    page.get_by_role("link", name="More results").click()

    expect(results(page)).to_have_text(CREPERIES[SEARCH_PAGE_SIZE:])
    expect(page.get_by_role("link", name="More results")).to_have_count(0)
    page.get_by_role("link", name="First results").click()
    expect(results(page)).to_have_text(first)


def test_a_search_that_finds_nothing_says_so(page: Page):
    page.goto("/")
    search_from_the_header(page, "Zzyzx")
    expect(page.get_by_text("No restaurant's name starts with “zzyzx”")).to_be_visible()
    expect(results(page)).to_have_count(0)


def test_a_restaurant_added_after_a_search_was_cached_is_found_by_the_next_search(page: Page, search_env):
    page.goto("/search/?q=bistro")
    response = page.reload()  # the second visit is served by the page cache
    assert response.headers["x-cache"] == "HIT"
    expect(results(page)).to_have_text(["Bistro Café"])

    _run(CREATE_RESTAURANTS, search_env, "Bistrot Zoë")  # as staff create one: the search pages are retired

    response = page.reload()
    assert response.headers["x-cache"] == "MISS"
    expect(results(page)).to_have_text(["Bistro Café", "Bistrot Zoë"])
