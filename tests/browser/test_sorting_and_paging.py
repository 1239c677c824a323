"""A visitor sorts and pages the restaurant list, both ways, and filters the
top rated list by cuisine, in Chromium.

The lab data has 10 restaurants, one page; so these tests run a site of their
own (its own table and gunicorn) with the lab data plus 50 more restaurants,
Thai (30 of them, two pages) and Greek (20), with star counts that make the
three orders differ.
"""

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from .conftest import LAB_ITEMS, ROOT, gunicorn_serving, site_environment

LOAD = "\n".join(
    [
        "import django, sys",
        "django.setup()",
        "from django.core.management import call_command",
        "call_command('create_table', verbosity=0)",
        "for path in sys.argv[1:]:",
        "    call_command('load_items', path, verbosity=0)",
    ]
)
STARS = ("five_stars", "four_stars", "three_stars", "two_stars", "one_stars")
TOTAL = 60  # 10 lab restaurants + 50 of ours


def extra_restaurants() -> list[dict]:
    items = []
    for number in range(1, 51):
        name = f"Test Kitchen {number:02d}"
        counts = (number % 7, (number * 3) % 5, number % 4, (number * 5) % 3, number % 2)
        item = {"PK": f"REST#{name}", "SK": f"REST#{name}", "GSI1PK": f"REST#{name}", "GSI1SK": f"REST#{name}"}
        item |= {"name": name, "cuisine": "Thai" if number <= 30 else "Greek", "address": f"{number} Test Street"}
        items.append(item | dict(zip(STARS, counts, strict=True)))
    return items


@pytest.fixture(scope="module")
def paged_site(dynamodb_server, site_redis, tmp_path_factory) -> Iterator[str]:
    """A site of its own: a table with 60 restaurants (3 pages of 24), and gunicorn."""
    folder = tmp_path_factory.mktemp("paged-site")
    extra = folder / "extra.jsonl"
    extra.write_text("".join(json.dumps(item) + "\n" for item in extra_restaurants()))
    env = site_environment(dynamodb_server.url, site_redis.url, f"paged-{folder.name[-12:]}")
    env["CACHE_KEY_PREFIX"] = "paged"  # the other site shares this Redis
    command = [sys.executable, "-c", LOAD, str(LAB_ITEMS), str(extra)]
    subprocess.run(command, env=env, cwd=ROOT, check=True, timeout=60)
    with gunicorn_serving(env, folder) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def site_url(paged_site: str) -> str:
    """The browser tests' ``page`` fixture, on this module's site."""
    return paged_site


@pytest.fixture
def visitor(page: Page) -> Page:
    return page


def names(page: Page) -> list[str]:
    return page.locator(".cards .card h2").all_inner_texts()


def figures(page: Page) -> list[float]:
    return [float(text) for text in page.locator(".card strong.figure").all_inner_texts()]


def review_counts(page: Page) -> list[int]:
    return [int(text.split("(")[1].split()[0]) for text in page.locator(".cards .card p:last-child").all_inner_texts()]


def position(page: Page):
    return page.locator("p.position")


def sort_by(page: Page, label: str) -> None:
    page.get_by_role("navigation", name="Sort restaurants").get_by_role("link", name=label, exact=True).click()


def every_page(page: Page, read) -> list:
    """What ``read`` finds on this page and each next one, following "Next page"."""
    found = read(page)
    while page.get_by_role("link", name="Next page").count():
        shown = position(page).inner_text()
        page.get_by_role("link", name="Next page").click()
        expect(position(page)).not_to_have_text(shown)  # the next page is in: read it, not this one again
        found += read(page)
    return found


def test_the_list_sorts_by_name_by_default(visitor: Page):
    visitor.goto("/")
    expect(position(visitor)).to_have_text(f"1–24 of {TOTAL} restaurants")
    everything = every_page(visitor, names)
    assert len(everything) == TOTAL and everything == sorted(everything)


def test_sorting_by_rating_says_its_order_and_shows_the_average_the_restaurant_page_shows(visitor: Page):
    visitor.goto("/")
    sort_by(visitor, "Rating")
    expect(visitor).to_have_url("/?sort=rating")
    expect(visitor.get_by_text("Ordered by a score that weighs each average by the number of reviews")).to_be_visible()
    shown = every_page(visitor, figures)
    assert len(shown) == TOTAL
    visitor.goto("/?sort=rating")
    first = visitor.locator(".card").first
    figure = first.locator("strong.figure").inner_text()
    first.get_by_role("link").click()
    expect(visitor.locator(".big-rating strong")).to_have_text(figure)


def test_sorting_by_reviews_puts_the_most_reviewed_first(visitor: Page):
    visitor.goto("/")
    sort_by(visitor, "Most reviewed")
    expect(visitor).to_have_url("/?sort=reviews")
    counts = every_page(visitor, review_counts)
    assert len(counts) == TOTAL and counts == sorted(counts, reverse=True)
    assert counts[0] == 29  # Example Corp. Italian


def test_paging_forward_and_back_keeps_the_sort_and_says_where_you_are(visitor: Page):
    visitor.goto("/?sort=reviews")
    first_page = names(visitor)
    expect(visitor.get_by_role("link", name="Previous page")).to_have_count(0)

    visitor.get_by_role("link", name="Next page").click()
    expect(visitor).to_have_url("/?sort=reviews&page=2")
    expect(position(visitor)).to_have_text(f"25–48 of {TOTAL} restaurants")
    expect(visitor.get_by_role("link", name="Page 2")).to_have_attribute("aria-current", "page")
    second_page = names(visitor)
    assert not set(first_page) & set(second_page)

    visitor.get_by_role("link", name="Page 3").click()
    expect(position(visitor)).to_have_text(f"49–60 of {TOTAL} restaurants")
    expect(visitor.get_by_role("link", name="Next page")).to_have_count(0)

    visitor.get_by_role("link", name="Previous page").click()
    expect(visitor).to_have_url("/?sort=reviews&page=2")
    assert names(visitor) == second_page
    visitor.get_by_role("link", name="Previous page").click()
    expect(visitor).to_have_url("/?sort=reviews")
    expect(position(visitor)).to_have_text(f"1–24 of {TOTAL} restaurants")
    assert names(visitor) == first_page


def test_the_cuisine_filter_keeps_the_sort_and_paging_keeps_both(visitor: Page):
    visitor.goto("/?sort=rating&page=2")
    visitor.get_by_label("Cuisine").select_option("Thai")
    visitor.get_by_role("button", name="Filter").click()

    expect(visitor).to_have_url("/?cuisine=Thai&sort=rating")
    expect(visitor.get_by_role("heading", name="Thai restaurants", level=1)).to_be_visible()
    expect(visitor.get_by_role("link", name="Rating", exact=True)).to_have_attribute("aria-current", "true")
    expect(position(visitor)).to_have_text("1–24 of 31 restaurants")  # ours and the lab's Example Corp. Thai
    shown = figures(visitor)

    visitor.get_by_role("link", name="Next page").click()
    expect(visitor).to_have_url("/?cuisine=Thai&sort=rating&page=2")
    expect(position(visitor)).to_have_text("25–31 of 31 restaurants")
    shown += figures(visitor)
    assert len(shown) == 31

    sort_by(visitor, "Name")
    expect(visitor).to_have_url("/?cuisine=Thai")
    assert names(visitor) == sorted(names(visitor)) and names(visitor)[0] == "Example Corp. Thai"
    expect(position(visitor)).to_have_text("1–24 of 31 restaurants")


def test_top_rated_explains_its_order_and_filters_by_cuisine(visitor: Page):
    visitor.goto("/top/")
    expect(visitor.get_by_text("Ordered by a score that weighs each restaurant's average")).to_be_visible()
    assert len(figures(visitor)) == 20

    visitor.get_by_label("Cuisine").select_option("Greek")
    visitor.get_by_role("button", name="Filter").click()

    expect(visitor).to_have_url("/top/?cuisine=Greek")
    expect(visitor.get_by_role("heading", name="Top rated Greek restaurants", level=1)).to_be_visible()
    rows = visitor.locator(".top-list li")
    expect(rows).to_have_count(20)
    assert all(cuisine == "Greek" for cuisine in rows.locator("p.muted").all_inner_texts())
    assert all(row.locator("strong").count() == 1 for row in rows.all())  # one number per row


def test_a_bad_sort_or_page_gets_an_error_page_not_a_500(visitor: Page):
    assert visitor.goto("/?sort=price").status == 400
    expect(visitor.get_by_text("sorted by name, rating or number of reviews")).to_be_visible()
    assert visitor.goto("/?page=9").status == 404
    expect(visitor.get_by_text("There is no page 9 here")).to_be_visible()
