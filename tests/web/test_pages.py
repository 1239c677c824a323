import re

import pytest
from django.urls import reverse

from restaurants import services
from restaurants.dynamo.bulk import write_items
from restaurants.dynamo.client import count_requests
from restaurants.dynamo.item_keys import restaurant_index_attributes

FINE_DINING = "AnyCompany Fine Dining"


def _authors(response) -> list[str]:
    return re.findall(r'class="review-author"[^>]*>([^<]+)<', response.content.decode())


def test_home_lists_restaurants_with_rating_and_count(client, lab_table):
    response = client.get("/")
    assert response.status_code == 200
    assert FINE_DINING in response.content.decode()
    assert "2.48" in response.content.decode() and "27 reviews" in response.content.decode()


def test_home_filters_by_cuisine(client, lab_table):
    body = client.get("/", {"cuisine": "Mexican"}).content.decode()
    assert "AnyCompany Mexican" in body and "Example Corp. Mexican" in body
    assert "AnyCompany Thai" not in body


def test_restaurant_page_shows_histogram_average_and_five_newest(client, lab_table):
    response = client.get(reverse("restaurants:detail", args=[FINE_DINING]))
    body = response.content.decode()
    assert response.status_code == 200
    assert _authors(response) == ["markmartin", "kgraham", "ewilliams", "hannah21", "john97"]
    assert re.findall(r'<td class="count">(\d+)</td>', body) == ["4", "3", "4", "7", "9"]
    assert "2.48" in body
    assert reverse("restaurants:reviews", args=[FINE_DINING]) in body


def test_the_histogram_draws_no_bar_for_a_rating_nobody_gave(client, table):
    services.restaurant_create(name="Solo Bistro", cuisine="French", address="1 Quiet Street")
    services.review_post(username="ann", restaurant="Solo Bistro", rating=4, text="Good.")
    body = client.get(reverse("restaurants:detail", args=["Solo Bistro"])).content.decode()
    bars = re.findall(r'<td class="bar-cell">(.*?)</td>', body)
    assert [bool(bar) for bar in bars] == [False, True, False, False, False]  # 5 stars first, as the counts


def test_the_footer_speaks_to_diners_not_about_our_servers(client, lab_table):
    footer = re.search(r"<footer.*?</footer>", client.get("/").content.decode(), re.S).group(0)
    assert "DynamoDB" not in footer and "Redis" not in footer
    assert "reviews written by diners" in footer


def test_restaurant_page_costs_exactly_one_query(client, lab_table):
    with count_requests() as requests:
        client.get(reverse("restaurants:detail", args=[FINE_DINING]))
    assert requests == {"Query": 1}


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/?cuisine=Thai",
        f"/restaurants/{FINE_DINING}/",
        f"/restaurants/{FINE_DINING}/reviews/",
        "/users/ewilliams/",
    ],
)
def test_no_page_scans_the_table(client, lab_table, url):
    with count_requests() as requests:
        assert client.get(url).status_code == 200
    assert requests["Scan"] == 0


def test_all_reviews_page_links_to_the_next_page(client, lab_table):
    body = client.get(reverse("restaurants:reviews", args=[FINE_DINING])).content.decode()
    assert body.count('class="review"') == 20
    cursor = re.search(r'cursor=([^"&]+)"', body).group(1)
    rest = client.get(reverse("restaurants:reviews", args=[FINE_DINING]), {"cursor": _unquote(cursor)})
    assert rest.content.decode().count('class="review"') == 7


def test_user_page_lists_their_reviews(client, lab_table):
    body = client.get(reverse("restaurants:user", args=["ewilliams"])).content.decode()
    assert FINE_DINING in body and "Reviews by ewilliams" in body


@pytest.mark.parametrize(
    "url",
    [
        "/restaurants/Nowhere/",
        "/restaurants/Nowhere/reviews/",
        "/users/nobody/",
        "/?cuisine=Martian",
        "/no/such/page/",
        "/restaurants/" + "x" * 3000 + "/",
        "/users/" + "y" * 3000 + "/",
    ],
)
def test_unknown_things_get_a_404_page(client, lab_table, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "Not found" in response.content.decode()


@pytest.mark.parametrize("cursor", ["garbage", "eyJQSyI6eyJTIjoiUkVTVCNYIn19", "a:b:c"])
def test_a_malformed_cursor_gets_a_400_page(client, lab_table, cursor):
    for url in (f"/restaurants/{FINE_DINING}/reviews/", "/users/ewilliams/"):
        response = client.get(url, {"cursor": cursor})
        assert response.status_code == 400, url
        assert "not valid" in response.content.decode()


def test_an_old_cursor_link_to_the_restaurant_list_shows_its_first_page(client, lab_table):
    """The list pages by number now (?page=2); a cursor from before is ignored."""
    response = client.get("/", {"cursor": "garbage"})
    assert response.status_code == 200 and "1–10 of 10 restaurants" in response.content.decode()


@pytest.mark.parametrize(
    "name", ["Salt & Smoke", "Mama's Kitchen", "Zoë's Café 東京", "#1 Diner", "100% Tacos?", "Fish/Chips %2F"]
)
def test_awkward_names_round_trip_through_urls(client, table, name):
    write_items([{**restaurant_index_attributes(name, "Test"), "name": name, "cuisine": "Test", "address": "1 St"}])
    url = reverse("restaurants:detail", args=[name])
    response = client.get(url)
    assert response.status_code == 200, url
    assert response.context["restaurant"].name == name
    assert client.get(reverse("restaurants:reviews", args=[name])).status_code == 200


def test_names_are_escaped_in_html(client, table):
    name = "<script>alert(1)</script>"
    write_items([{**restaurant_index_attributes(name, "Test"), "name": name, "cuisine": "Test", "address": "x"}])
    body = client.get("/").content.decode()
    assert name not in body and "&lt;script&gt;" in body


def test_an_outage_is_a_503_page_not_a_500(client, table, monkeypatch):
    from restaurants.dynamo import reads
    from restaurants.dynamo.errors import Unavailable

    def fail(**kwargs):
        raise Unavailable("throttled")

    monkeypatch.setattr(reads, "restaurant_summary_get", fail)
    response = client.get(f"/restaurants/{FINE_DINING}/")
    assert response.status_code == 503 and response["Retry-After"]


def _unquote(value: str) -> str:
    from urllib.parse import unquote

    return unquote(value)
