"""Items other clients wrote straight into the table (no admin form, no
load_items in between): one that breaks the name rule, or makes no entity at
all, is shown without a link or left out with a log line. No page fails for
everyone because of one item."""

import logging

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from restaurants.dynamo import item_keys, reads
from restaurants.dynamo.client import call
from restaurants.dynamo.items import serialize
from tests.conftest import staff_client
from tests.other_clients import LONG_USERNAME, SLASHES, put_restaurant, put_review, put_straight

User = get_user_model()
FINE_DINING = "AnyCompany Fine Dining"


@pytest.fixture
def staff(lab_table):
    return staff_client()


@pytest.mark.parametrize(
    "url",
    ["/", "/?cuisine=Thai", "/top/", "/admin/restaurants/", "/admin/restaurants/?q=/", "/admin/restaurants/?q="],
)
def test_a_restaurant_whose_name_has_no_url_is_listed_without_a_link(staff, url, caplog):
    put_restaurant(SLASHES)

    with caplog.at_level(logging.WARNING, logger="restaurants.templatetags.name_links"):
        response = staff.get(url)

    body = response.content.decode()
    assert response.status_code == 200
    assert f'<span class="unlinked">{SLASHES}</span>' in body
    assert FINE_DINING in body or url == "/?cuisine=Thai" or "q=/" in url  # the others keep their links
    assert "cannot be put in a URL" in caplog.text


def test_the_reviews_of_such_a_restaurant_show_on_their_authors_page(lab_table, client):
    put_restaurant(SLASHES)
    put_review(username="ewilliams", restaurant=SLASHES)

    response = client.get("/users/ewilliams/")

    assert response.status_code == 200
    assert f'<span class="review-restaurant unlinked">{SLASHES}</span>' in response.content.decode()


def test_a_review_by_a_username_with_no_url_leaves_the_restaurant_pages_up(staff, client):
    put_review(username=LONG_USERNAME, restaurant=FINE_DINING)

    for url in (f"/restaurants/{FINE_DINING}/", f"/restaurants/{FINE_DINING}/reviews/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert f'<span class="review-author unlinked">{LONG_USERNAME}</span>' in response.content.decode()
    moderation = staff.get(f"/admin/restaurants/{FINE_DINING}/")
    assert moderation.status_code == 200
    assert '<span class="deletelink unlinked">Delete</span>' in moderation.content.decode()


def test_an_item_that_makes_no_restaurant_is_left_out_of_the_list_with_a_log_line(lab_table, client, caplog):
    nameless = item_keys.restaurant_index_attributes("Nameless", "Thai")  # listed by GSI3, but no name attribute
    put_straight({**nameless, "cuisine": "Thai"})
    put_restaurant("Counted Wrong")
    put_straight(
        {
            **item_keys.restaurant_index_attributes("Counted Wrong", "Thai"),
            "name": "Counted Wrong",
            "five_stars": "many",
        }
    )
    put_review(username="kgraham2", restaurant=FINE_DINING, rating={"not": "a number"})

    with caplog.at_level(logging.WARNING, logger="restaurants.dynamo.entities"):
        listing = client.get("/")
        reviews = client.get(f"/restaurants/{FINE_DINING}/reviews/")

    assert listing.status_code == 200 and FINE_DINING in listing.content.decode()
    assert "Nameless" not in listing.content.decode() and "Counted Wrong" not in listing.content.decode()
    assert reviews.status_code == 200 and "kgraham2" not in reviews.content.decode()
    assert "REST#Nameless" in caplog.text and "REST#Counted Wrong" in caplog.text and "USER#kgraham2" in caplog.text


def test_warming_the_cache_skips_the_page_no_url_reaches(staff):
    put_restaurant(SLASHES)

    response = staff.post("/admin/cache/warm/", follow=True)

    assert response.status_code == 200 and "Warmed 11 summaries" in response.content.decode()


def test_the_admin_refuses_to_create_a_restaurant_whose_name_has_no_url(staff):
    response = staff.post("/admin/restaurants/add/", {"name": SLASHES, "cuisine": "Nordic", "address": "1 Pier"})

    assert response.status_code == 200 and "Too long for a web address" in response.content.decode()
    assert "Item" not in call("GetItem", Key=serialize(item_keys.restaurant_item_keys(SLASHES)))
    assert staff.get("/").status_code == 200


def test_a_restaurant_named_against_the_rule_can_still_be_edited_where_its_page_is_reachable(staff):
    name = "Tab\tin the name "  # a control character and a trailing space, but a URL all the same
    put_restaurant(name)

    response = staff.post(reverse("staff:restaurant", args=[name]), {"cuisine": "Nordic", "address": "2 Pier"})

    assert response.status_code == 302
    restaurant = reads.restaurant_get(name=name, consistent=True)
    assert (restaurant.cuisine, restaurant.address) == ("Nordic", "2 Pier")


@pytest.mark.parametrize(
    "url", ["/restaurants/Nameless/", "/restaurants/Nameless/reviews/", "/admin/restaurants/Nameless/"]
)
def test_the_page_of_an_item_that_makes_no_restaurant_is_a_404(staff, url, caplog):
    """Found by the fuzz test: a restaurant item without a name made its pages fail with KeyError."""
    put_straight({**item_keys.restaurant_index_attributes("Nameless", "Thai"), "cuisine": "Thai"})

    with caplog.at_level(logging.WARNING, logger="restaurants.dynamo.entities"):
        response = staff.get(url)

    assert response.status_code == 404
    assert "REST#Nameless" in caplog.text


def test_your_own_review_written_in_another_shape_is_a_404_to_edit(lab_table, client):
    User.objects.create_user("kim", None, "pass-word-9")
    client.login(username="kim", password="pass-word-9")
    put_review(username="kim", restaurant=FINE_DINING, created_at=20260101)

    assert client.get(reverse("restaurants:review_edit", args=[FINE_DINING])).status_code == 404
    assert client.get(reverse("restaurants:review_delete", args=[FINE_DINING])).status_code == 404
