"""The restaurant list sorted and paged as offsets into the board, and the top
page with its cuisine filter (lab data: 10 restaurants, 4 to a page here)."""

import re
from urllib.parse import unquote

import pytest
from django.urls import reverse

from restaurants import services
from restaurants.cache.data import catalogue
from restaurants.dynamo.client import call
from restaurants.dynamo.items import serialize
from restaurants.dynamo.streams import ItemChange
from tests.conftest import LAB_RESTAURANTS, lab_items

BY_NAME = list(LAB_RESTAURANTS)
# Weighted: (10 × 2.968 + sum of ratings) / (10 + reviews); Indian and Steaks tie at 3.048, by name.
BY_RATING = [
    "AnyCompany BBQ",
    "AnyCompany Mexican",
    "Example Corp. Mexican",
    "AnyCompany Italian",
    "AnyCompany Indian",
    "Example Corp. Steaks",
    "Example Corp. Italian",
    "Example Corp. Burgers",
    "AnyCompany Fine Dining",
    "Example Corp. Thai",
]
BY_REVIEWS = [
    "Example Corp. Italian",  # 29
    "AnyCompany BBQ",  # 27
    "AnyCompany Fine Dining",  # 27
    "AnyCompany Mexican",  # 26
    "Example Corp. Mexican",  # 26
    "AnyCompany Indian",  # 25
    "Example Corp. Steaks",  # 25
    "AnyCompany Italian",  # 23
    "Example Corp. Burgers",  # 23
    "Example Corp. Thai",  # 20
]
THAI = "Example Corp. Thai"


@pytest.fixture(autouse=True)
def four_to_a_page(monkeypatch):
    monkeypatch.setattr(catalogue, "PER_PAGE", 4)


def names(response) -> list[str]:
    return re.findall(r"<h2><a [^>]+>([^<]+)</a>", response.content.decode())


def link(response, rel: str) -> str | None:
    found = re.search(rf'rel="{rel}" href="([^"]+)"', response.content.decode())
    return found and found.group(1).replace("&amp;", "&")


def every_page(client, query: str) -> list[str]:
    """Follow "Next page" from the first page: every name, in order."""
    seen, url = [], "/" + query
    while url:
        response = client.get(url if url.startswith("/") else "/" + url)
        assert response.status_code == 200
        seen += names(response)
        url = link(response, "next")
    return seen


@pytest.mark.parametrize(
    ("sort", "expected"), [("", BY_NAME), ("name", BY_NAME), ("rating", BY_RATING), ("reviews", BY_REVIEWS)]
)
def test_each_sort_orders_the_whole_list_across_its_pages(client, lab_table, sort, expected):
    assert every_page(client, f"?sort={sort}" if sort else "") == expected


def shown_ratings(response) -> dict[str, str]:
    """Each restaurant's number on a list or top page, as the visitor reads it."""
    figures = re.findall(r'<strong class="figure"[^>]*>([\d.]+)</strong>', response.content.decode())
    return dict(zip(names(response), figures, strict=True))


def own_page_rating(client, name: str) -> str:
    body = client.get(reverse("restaurants:detail", kwargs={"name": name})).content.decode()
    return re.search(r'<p class="big-rating"><strong>([\d.]+)</strong>', body).group(1)


def test_a_restaurant_shows_one_rating_on_top_rated_the_rating_sort_and_its_own_page(client, lab_table):
    on_top = shown_ratings(client.get(reverse("restaurants:top")))
    by_rating, url = {}, "/?sort=rating"
    while url:
        response = client.get(url if url.startswith("/") else "/" + url)
        by_rating |= shown_ratings(response)
        url = link(response, "next")
    assert list(by_rating) == BY_RATING and set(on_top) == set(BY_RATING)
    for name in BY_RATING:
        assert on_top[name] == by_rating[name] == own_page_rating(client, name), name
    # The order is the weighted score's, not the averages': the page says so.
    note = "Ordered by a score that weighs each average by the number of reviews"
    assert note in client.get("/", {"sort": "rating"}).content.decode()


def test_pages_say_where_they_stand_and_link_both_ways(client, lab_table):
    first = client.get("/", {"sort": "reviews"})
    assert "1–4 of 10 restaurants" in first.content.decode()
    assert link(first, "prev") is None
    assert link(first, "next") == "?sort=reviews&page=2"

    second = client.get("/?sort=reviews&page=2")
    assert "5–8 of 10 restaurants" in second.content.decode()
    assert names(second) == BY_REVIEWS[4:8]
    assert link(second, "prev") == "?sort=reviews"
    assert link(second, "next") == "?sort=reviews&page=3"

    last = client.get("/?sort=reviews&page=3")
    assert "9–10 of 10 restaurants" in last.content.decode()
    assert link(last, "next") is None
    assert re.findall(r'aria-label="Page (\d)"', last.content.decode()) == ["1", "2", "3"]


def test_the_sort_is_kept_by_the_cuisine_filter_and_the_cuisine_by_the_sort_links(client, lab_table):
    body = client.get("/", {"sort": "rating"}).content.decode()
    assert '<input type="hidden" name="sort" value="rating">' in body

    italian = client.get("/", {"cuisine": "Italian", "sort": "rating"})
    assert names(italian) == ["AnyCompany Italian", "Example Corp. Italian"]
    assert "1–2 of 2 restaurants" in italian.content.decode()
    sort_links = re.findall(r'class="sort[^"]*"(?: aria-current="true")? href="([^"]+)"', italian.content.decode())
    assert [unquote(url.replace("&amp;", "&")) for url in sort_links] == [
        "?cuisine=Italian",
        "?cuisine=Italian&sort=rating",
        "?cuisine=Italian&sort=reviews",
    ]


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("?sort=price", 400),
        ("?sort=", 200),
        ("?page=0", 400),
        ("?page=-1", 400),
        ("?page=01", 400),
        ("?page=two", 400),
        ("?page=" + "9" * 40, 400),
        ("?page=4", 404),
        ("?page=3", 200),
        ("?cuisine=Klingon", 404),
        ("?cuisine=Thai&page=2", 404),
    ],
)
def test_bad_sort_or_page_values_get_a_clear_error_never_a_500(client, lab_table, query, status):
    assert client.get("/" + query).status_code == status


def test_top_rated_explains_its_order_and_shows_one_rating_per_row(client, lab_table):
    response = client.get(reverse("restaurants:top"))
    body = response.content.decode()
    assert names(response) == BY_RATING
    assert "Ordered by a score that weighs each restaurant's average by its number of reviews" in body
    assert "as if it also had 10 more reviews at the site-wide average of 2.97 stars" in " ".join(body.split())
    assert body.count('class="figure"') == 10


def test_top_rated_filters_by_cuisine(client, lab_table):
    response = client.get(reverse("restaurants:top"), {"cuisine": "Mexican"})
    assert response.status_code == 200
    assert names(response) == ["AnyCompany Mexican", "Example Corp. Mexican"]
    assert "Top rated Mexican restaurants" in response.content.decode()
    assert client.get(reverse("restaurants:top"), {"cuisine": "Klingon"}).status_code == 404


# --- The page cache: a review retires exactly the list pages it changes ----------------

LIST_PAGES = [f"/?{sort}page={n}" for sort in ("", "sort=rating&", "sort=reviews&") for n in (1, 2, 3)]
THAI_PAGES = ["/?cuisine=Thai", "/?cuisine=Thai&sort=rating", "/?cuisine=Thai&sort=reviews", "/top/?cuisine=Thai"]
OTHER_CUISINE_PAGES = ["/?cuisine=Italian", "/?cuisine=Italian&sort=rating", "/top/?cuisine=Italian"]


def canonical(url: str) -> str:
    return url.replace("?page=1", "?").replace("&page=1", "")


def cached(client, url: str) -> bool:
    return client.get(url).get("X-Cache") == "HIT"


def warm(client, urls: list[str]) -> None:
    """Visit each page, so it is cached."""
    for url in urls:
        client.get(canonical(url))


def test_a_review_retires_exactly_the_list_pages_that_show_a_change(client, lab_table):
    pages = [canonical(url) for url in LIST_PAGES] + THAI_PAGES + OTHER_CUISINE_PAGES + ["/top/"]
    warm(client, pages)
    assert all(cached(client, url) for url in pages)

    # Thai: 20 reviews, last by rating (2.59); a 5 lifts it to 2.67, past Fine Dining (2.61): both on page 3.
    services.review_post(username="zoe", restaurant=THAI, rating=5, text="Much better now.")

    retired = {url for url in pages if not cached(client, url)}
    assert retired == {"/?page=3", "/?sort=rating&page=3", "/?sort=reviews&page=3", "/top/", *THAI_PAGES}
    for url in retired:  # rendered again: they show the review
        assert "21 reviews" in client.get(url).content.decode() or "from 21 reviews" in client.get(url).content.decode()
    assert names(client.get("/?sort=rating&page=3")) == ["Example Corp. Thai", "AnyCompany Fine Dining"]


def test_a_page_asked_for_with_the_defaults_spelled_out_is_retired_too(client, lab_table):
    warm(client, ["/?sort=name&page=3", "/?page=3&sort=name"])
    assert cached(client, "/?sort=name&page=3")
    services.review_post(username="zoe", restaurant=THAI, rating=4, text="Fine.")
    assert not cached(client, "/?sort=name&page=3")
    assert "21 reviews" in client.get("/?page=3&sort=name").content.decode()


def test_a_review_that_moves_a_restaurant_across_pages_retires_the_pages_between(client, lab_table):
    warm(client, LIST_PAGES)
    for number in range(16):  # Thai climbs from last to first by rating: (29.68 + 48 + 80) / 46 = 3.43
        services.review_post(username=f"fan{number}", restaurant=THAI, rating=5, text="Superb.")
    assert names(client.get("/?sort=rating"))[0] == THAI
    assert every_page(client, "?sort=rating").count(THAI) == 1
    assert every_page(client, "?sort=reviews")[0] == THAI  # 36 reviews now


def _lab_restaurant(name: str) -> dict:
    return next(item for item in lab_items() if item["PK"] == item["SK"] == f"REST#{name}")


def test_a_change_from_another_client_retires_its_pages_and_our_own_coming_back_retires_none(client, lab_table):
    from restaurants.cache import invalidation

    warm(client, LIST_PAGES + ["/top/"])
    thai_before = _lab_restaurant(THAI)  # 20 reviews
    thai_after = {**thai_before, "five_stars": thai_before["five_stars"] + 1}
    change = ItemChange("1", "MODIFY", thai_before["PK"], thai_before["SK"], thai_before, thai_after)
    call("PutItem", Item=serialize(thai_after))  # another client's write, whose record this is

    invalidation.table_changed([change])
    assert not cached(client, "/?page=3") and "21 reviews" in client.get("/?page=3").content.decode()
    assert cached(client, "/") and cached(client, "/?sort=reviews&page=2")

    warm(client, LIST_PAGES + ["/top/"])
    invalidation.table_changed([change])  # again (at least once): the board shows it already
    assert all(cached(client, canonical(url)) for url in LIST_PAGES + ["/top/"])
