"""A user's own page and what others see of it: newest first, a page for a
user with no reviews yet, edit and delete links for the owner only, and the
way back to the page (with a confirmation) after an edit or a delete."""

import datetime as dt
import re
from urllib.parse import unquote

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from restaurants.dynamo import reads
from restaurants.dynamo.bulk import write_items
from restaurants.dynamo.client import count_requests
from restaurants.dynamo.item_keys import restaurant_index_attributes, review_item_keys
from restaurants.dynamo.ksuid import new_ksuid

User = get_user_model()
PASSWORD = "pass-word-9"
START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
TEXT = "Generous portions and a kind owner; the soup was the best part of the meal. " * 4  # ~300 characters


def _page(username: str) -> str:
    return reverse("restaurants:user", args=[username])


def _reviews(username: str, count: int, *, text: str = TEXT) -> list[dict]:
    """``count`` reviews of ``username``, one a day: the newest is of the
    restaurant whose name sorts first, so name order is the reverse of time."""
    items = []
    for day in range(count):
        at = START + dt.timedelta(days=day)
        restaurant, review_id = f"Place {count - day:04d}", new_ksuid(at)
        items.append(
            {
                **review_item_keys(username=username, restaurant=restaurant, review_id=review_id),
                "id": review_id,
                "restaurant": restaurant,
                "username": username,
                "rating": 1 + day % 5,
                "review": text,
                "created_at": at.replace(tzinfo=None).isoformat(),  # the lab's naive form
            }
        )
    return items


def _restaurants_shown(body: str) -> list[str]:
    return re.findall(r'class="review-restaurant" href="[^"]*">([^<]+)</a>', body)


def _signed_up(client: Client, username: str = "newbie") -> Client:
    response = client.post("/accounts/signup/", {"username": username, "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302
    return client


def test_a_new_user_clicking_their_name_gets_their_page_not_a_404(table):
    client = _signed_up(Client())
    home = client.get("/").content.decode()
    assert f'href="{_page("newbie")}"' in home  # the header links the name

    response = client.get(_page("newbie"))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Member since" in body and dt.date.today().strftime("%Y") in body
    assert "You have not reviewed a restaurant yet" in body
    assert f'href="{reverse("restaurants:list")}">Find a restaurant' in body
    assert "private" in response["Cache-Control"]


def test_others_see_a_new_users_page_without_the_owners_links(table):
    _signed_up(Client())
    response = Client().get(_page("newbie"))
    body = response.content.decode()
    assert response.status_code == 200 and "Member since" in body
    assert "newbie has not reviewed a restaurant yet" in body
    assert "Find a restaurant" not in body and "Your account" not in body


def test_unknown_users_are_still_a_404(table):
    response = Client().get(_page("nobody"))
    assert response.status_code == 404 and "No reviewer called nobody." in response.content.decode()


def test_a_reviewer_without_an_account_has_a_page_without_member_since(table):
    write_items(_reviews("lab_reviewer", 2))
    body = Client().get(_page("lab_reviewer")).content.decode()
    assert "2 reviews, newest first" in body and "Member since" not in body


def test_user_pages_list_reviews_newest_first_page_after_page(table):
    write_items(_reviews("prolific", 45))
    pages, query = [], {}
    while True:
        body = Client().get(_page("prolific"), query).content.decode()
        pages.append(_restaurants_shown(body))
        found = re.search(r'rel="next" href="\?cursor=([^"]+)"', body)
        if not found:
            break
        query = {"cursor": unquote(found.group(1))}
    assert pages == [[f"Place {n:04d}" for n in range(start, min(start + 20, 46))] for start in (1, 21, 41)]


def test_a_cursor_of_the_old_name_order_is_refused_with_a_400(table):
    write_items(_reviews("prolific", 3))
    stale = "eyJQSyI6eyJTIjoiVVNFUiNwcm9saWZpYyJ9fQ:1t:abc"
    assert Client().get(_page("prolific"), {"cursor": stale}).status_code == 400


@pytest.mark.parametrize("count", [10, 500])
def test_a_user_page_is_one_query_for_10_and_for_500_reviews(table, count):
    """The whole partition (at most one review per restaurant) in one Query:
    500 reviews of 300 characters are about 200 KB, under the 1 MB a Query reads."""
    User.objects.create_user("reader", None, PASSWORD)
    write_items(_reviews("reader", count))
    with count_requests() as requests:
        page = reads.reviewer_page_get(username="reader")
    assert dict(requests) == {"Query": 1}
    assert page.review_count == count and page.has_account and len(page.page.items) == min(count, 20)
    assert page.page.items[0].created_at == START + dt.timedelta(days=count - 1)


def test_the_page_never_shows_the_password_hash_or_email(table):
    kim = User.objects.create_user("kim", "kim@example.com", PASSWORD)
    body = Client().get(_page("kim")).content.decode()
    assert "kim@example.com" not in body and kim.password.rpartition("$")[2] not in body


@pytest.fixture
def kim(table):
    write_items(
        [
            {**restaurant_index_attributes(name, "Test"), "name": name, "cuisine": "Test", "address": "1 St"}
            for name in ("Alpha Diner", "Zeta Grill")
        ]
    )
    User.objects.create_user("kim", None, PASSWORD)
    client = Client()
    client.login(username="kim", password=PASSWORD)
    older = _reviews("kim", 1)[0]  # posted long ago (the site's own posts of one second tie)
    write_items(
        [
            {
                **older,
                **review_item_keys(username="kim", restaurant="Zeta Grill", review_id=older["id"]),
                "restaurant": "Zeta Grill",
                "review": "First visit.",
                "rating": 4,
            }
        ]
    )
    response = client.post(
        reverse("restaurants:review_create", args=["Alpha Diner"]), {"rating": 4, "review": "Second visit."}
    )
    assert response.status_code == 302
    return client


def test_the_owner_sees_edit_and_delete_links_that_come_back_to_their_page(kim):
    body = kim.get(_page("kim")).content.decode()
    edit = reverse("restaurants:review_edit", args=["Alpha Diner"]) + "?next=%2Fusers%2Fkim%2F"
    assert f'href="{edit}"' in body
    assert _restaurants_shown(body) == ["Alpha Diner", "Zeta Grill"]  # newest first

    form = kim.get(edit).content.decode()
    assert 'name="next" value="/users/kim/"' in form
    submission = re.search(r'name="submission" value="([^"]+)"', form).group(1)
    response = kim.post(
        edit, {"rating": 2, "review": "Changed my mind.", "submission": submission, "next": "/users/kim/"}
    )
    assert response.status_code == 302 and response["Location"] == "/users/kim/"

    page = kim.get(_page("kim")).content.decode()
    assert "Your review is updated." in page and "Changed my mind." in page


def test_deleting_from_the_own_page_comes_back_to_it_with_a_confirmation(kim):
    delete = reverse("restaurants:review_delete", args=["Zeta Grill"])
    form = kim.get(delete, {"next": "/users/kim/"}).content.decode()
    submission = re.search(r'name="submission" value="([^"]+)"', form).group(1)
    assert 'href="/users/kim/">Keep it' in form
    response = kim.post(delete, {"submission": submission, "next": "/users/kim/"})
    assert response["Location"] == "/users/kim/"
    page = kim.get(_page("kim")).content.decode()
    assert "Your review is deleted." in page and _restaurants_shown(page) == ["Alpha Diner"]


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/", "0"])
def test_an_edit_never_returns_off_the_site_or_to_a_view_name(kim, next_url):
    edit = reverse("restaurants:review_edit", args=["Alpha Diner"])
    response = kim.post(edit, {"rating": 3, "review": "Fine.", "next": next_url})
    assert response.status_code == 302
    if next_url == "0":  # a relative URL, redirected to as it is; never looked up as a view (a 500)
        assert response["Location"] == "0"
    else:
        assert response["Location"] == reverse("restaurants:detail", args=["Alpha Diner"])


def test_after_an_edit_the_restaurant_page_shows_the_new_text_and_a_confirmation(kim):
    edit = reverse("restaurants:review_edit", args=["Zeta Grill"])
    response = kim.post(edit, {"rating": 5, "review": "Even better the second time."}, follow=True)
    body = response.content.decode()
    assert "Your review is updated." in body
    assert "You reviewed Zeta Grill (5 stars)" in body and "Even better the second time." in body


def test_the_owners_page_is_never_served_to_anyone_else(kim):
    own = kim.get(_page("kim"))
    assert "private" in own["Cache-Control"] and "X-Cache" not in own
    anonymous = Client().get(_page("kim"))
    assert anonymous.status_code == 200 and "Edit<span" not in anonymous.content.decode()
    again = Client().get(_page("kim"))
    assert again["X-Cache"] == "HIT" and "Edit<span" not in again.content.decode()


def test_a_404_is_never_cached_and_an_account_made_or_removed_retires_the_page(table):
    assert Client().get(_page("ann")).status_code == 404
    assert Client().get(_page("ann")).status_code == 404  # not stored: still rendered, still a 404
    ann = User.objects.create_user("ann", None, PASSWORD)
    assert Client().get(_page("ann")).status_code == 200
    assert Client().get(_page("ann"))["X-Cache"] == "HIT"
    ann.delete()
    assert Client().get(_page("ann")).status_code == 404
    _signed_up(Client(), "ann")
    assert "Member since" in Client().get(_page("ann")).content.decode()


def test_a_profile_another_client_writes_or_removes_retires_the_page_but_a_login_does_not(table):
    from restaurants.cache import invalidation
    from restaurants.dynamo.streams import ItemChange

    write_items(_reviews("lab_reviewer", 1))
    assert "Member since" not in Client().get(_page("lab_reviewer")).content.decode()
    assert Client().get(_page("lab_reviewer"))["X-Cache"] == "HIT"
    profile = {"PK": "USER#lab_reviewer", "SK": "#PROFILE", "username": "lab_reviewer", "date_joined": "2024-05-01"}
    write_items([profile])  # another client: none of our invalidations ran
    assert "Member since" not in Client().get(_page("lab_reviewer")).content.decode()  # still the cached page

    def change(old, new):
        return ItemChange(sequence="1", event="MODIFY", pk=profile["PK"], sk=profile["SK"], old=old, new=new)

    invalidation.table_changed([change(None, profile)])
    assert "Member since 1 May 2024" in Client().get(_page("lab_reviewer")).content.decode()
    invalidation.table_changed([change(profile, {**profile, "last_login": "2024-06-01T10:00:00+00:00"})])
    assert Client().get(_page("lab_reviewer"))["X-Cache"] == "HIT"  # a login changes nothing shown
