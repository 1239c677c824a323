"""Pages over items other clients wrote into the shared table in shapes we
never write (issue #20), on DynamoDB Local and a real Redis: a cuisine that is
a number or a list, an address that is a map, a cuisine list holding a number,
unreadable reviews sorting newest, a ``name`` edited away from the item's key.
Every page answers 200 on a cache miss and on a hit, and shows what can be
shown."""

import html
import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from restaurants.cache.plumbing.connection import primary
from restaurants.cache.rules import keys as cache_keys
from restaurants.dynamo import item_keys
from restaurants.dynamo.bulk import write_items
from tests.conftest import lab_items, staff_client
from tests.other_clients import put_review, put_straight

pytestmark = pytest.mark.integration

FINE_DINING = "AnyCompany Fine Dining"
ODD = "Odd One"
PASSWORD = "pass-word-9"


@pytest.fixture
def lab(live):
    write_items(lab_items())
    return live


@pytest.fixture
def browsers(lab):
    """An anonymous visitor (served by the page cache) and a logged-in one
    (the summary and fragment caches)."""
    get_user_model().objects.create_user("kim", None, PASSWORD)
    member = Client()
    member.login(username="kim", password=PASSWORD)
    return {"anonymous": Client(), "kim": member}


def twice(browser: Client, url: str) -> list:
    """The page on a cache miss, then on a hit."""
    return [browser.get(url), browser.get(url)]


def body(response) -> str:
    return html.unescape(response.content.decode())


@pytest.mark.parametrize(
    ("cuisine", "shown"), [(7, "7"), (["Thai", "Fusion"], "Thai, Fusion"), ({"style": "Thai"}, "")]
)
def test_every_page_shows_a_restaurant_whose_cuisine_and_address_are_of_another_type(browsers, cuisine, shown):
    put_straight(
        {
            **item_keys.restaurant_index_attributes(ODD, "Thai"),
            "name": ODD,
            "cuisine": cuisine,
            "address": {"line": "Quayside 9"},
            "five_stars": 1,
        }
    )
    put_review(username="ewilliams", restaurant=ODD, rating=5)
    urls = ["/", "/?sort=rating", "/?sort=reviews", "/top/", "/search/?q=odd", f"/restaurants/{ODD}/"]
    urls += [f"/restaurants/{ODD}/reviews/", "/users/ewilliams/"]

    for who, browser in browsers.items():
        for url in urls:
            for response in twice(browser, url):
                assert response.status_code == 200, (who, url)
                page = body(response)
                assert ODD in page and "Quayside" not in page, (who, url)
    detail = body(browsers["anonymous"].get(f"/restaurants/{ODD}/"))
    assert f"{shown} · " in detail and "Written by another client." in detail
    assert browsers["anonymous"].get(f"/restaurants/{ODD}/")["X-Cache"] == "HIT"


@pytest.mark.parametrize("stored", [["Thai", 7], {"Thai": True}, 42])
def test_list_pages_stay_up_when_the_cuisine_list_is_rewritten_in_another_shape(browsers, stored):
    put_straight({**item_keys.CUISINES_ITEM_KEY, "cuisines": stored})
    kept = ["Thai"] if isinstance(stored, list) else []

    for who, browser in browsers.items():
        for url in ["/", "/?sort=rating", "/top/", "/?page=1"]:
            for response in twice(browser, url):
                assert response.status_code == 200, (who, url)
                options = body(response).split('<select id="cuisine"')[1].split("</select>")[0]
                assert options.count("<option") == 1 + len(kept), (who, url)
        for response in twice(browser, "/?cuisine=Thai"):
            assert response.status_code == (200 if kept else 404), who


def test_the_restaurant_page_shows_the_five_newest_readable_reviews(browsers):
    for rank, rating in enumerate(["five", {"stars": 5}, "4", 9, 0, True]):
        put_newest_review(username=f"odd{rank}", rank=rank, rating=rating)

    for who, browser in browsers.items():
        for response in twice(browser, f"/restaurants/{FINE_DINING}/"):
            assert response.status_code == 200, who
            page = body(response)
            shown = [name for name in ("markmartin", "kgraham", "ewilliams", "hannah21", "john97") if name in page]
            assert len(shown) == 5 and "odd0" not in page, who


def put_newest_review(*, username: str, rank: int, rating: object) -> None:
    """A review of FINE_DINING newer (its id) than any other."""
    review_id = f"zzzz{rank}".ljust(27, "0")
    put_straight(
        {
            **item_keys.review_item_keys(username=username, restaurant=FINE_DINING, review_id=review_id),
            "id": review_id,
            "restaurant": FINE_DINING,
            "username": username,
            "rating": rating,
            "review": "Unreadable.",
            "created_at": "2026-06-01T00:00:00",
        }
    )


def test_a_search_result_whose_name_attribute_was_edited_links_to_its_page(browsers):
    edited = {**item_keys.restaurant_index_attributes(FINE_DINING, "French"), "name": "Renamed Elsewhere"}
    put_straight({**edited, "cuisine": "French", "address": "1 Pier", "five_stars": 4, "four_stars": 3})

    for who, browser in browsers.items():
        for response in twice(browser, "/search/?q=anycompany fine"):
            assert response.status_code == 200, who
            page = response.content.decode()
            link = reverse("restaurants:detail", args=[FINE_DINING])
            assert f'href="{link}"' in page, who
        restaurant = browser.get(link)
        assert restaurant.status_code == 200 and "markmartin" in body(restaurant), who
        listing = body(browser.get("/"))
        assert FINE_DINING in listing and "Renamed Elsewhere" not in listing


def test_staff_can_add_a_restaurant_when_the_cuisine_list_was_rewritten_in_another_shape(lab):
    put_straight({**item_keys.CUISINES_ITEM_KEY, "cuisines": ["Thai", 7]})
    staff = staff_client()

    created = staff.post("/admin/restaurants/add/", {"name": "Fjord", "cuisine": "Nordic", "address": "1 Pier"})

    assert created.status_code == 302
    listing = Client().get("/?cuisine=Nordic")
    assert listing.status_code == 200 and "Fjord" in body(listing)


def test_a_summary_cached_before_the_fix_with_a_list_for_its_cuisine_is_shown(browsers):
    """Redis outlives a release: a summary stored while the entity still passed
    another client's list through is read as the entity reads it now."""
    browsers["kim"].get(f"/restaurants/{FINE_DINING}/")  # cached as it is now
    summary_key = cache_keys.summary_key(FINE_DINING)
    redis = primary()
    stored = json.loads(redis.get(summary_key))
    redis.set(summary_key, json.dumps({**stored, "restaurant": {**stored["restaurant"], "cuisine": ["Thai", 7]}}))

    for response in twice(browsers["kim"], f"/restaurants/{FINE_DINING}/"):
        assert response.status_code == 200 and "Thai, 7 · " in body(response)


def test_a_board_published_before_the_fix_with_a_list_for_a_cuisine_takes_the_next_review(browsers):
    assert browsers["kim"].get("/").status_code == 200  # the board is built
    redis = primary()
    details_key = cache_keys.leaderboard_details_key()
    details = json.loads(redis.hget(details_key, FINE_DINING))
    redis.hset(details_key, FINE_DINING, json.dumps({**details, "cuisine": ["Thai", 7]}))

    posted = browsers["kim"].post(
        reverse("restaurants:review_create", args=[FINE_DINING]), {"rating": 5, "review": "Lovely."}
    )

    assert posted.status_code == 302
    listing = browsers["anonymous"].get("/?sort=reviews")
    page = body(listing)
    assert listing.status_code == 200 and FINE_DINING in page and "Thai, 7" not in page  # as DynamoDB holds it
