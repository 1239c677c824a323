"""The search page and the header's search box (moto's mock and fakeredis)."""

import re

import pytest
from django.urls import reverse

from restaurants import services
from restaurants.dynamo.bulk import write_items
from restaurants.dynamo.client import count_requests
from restaurants.dynamo.item_keys import restaurant_index_attributes

SEARCH = "/search/"
NAMES = ["#1 Café", "Café Bar", "The Grill", "Bistro Café"]


@pytest.fixture
def named(lab_table):
    write_items(
        [
            {**restaurant_index_attributes(name, "French"), "name": name, "cuisine": "French", "address": f"{i} Quai"}
            for i, name in enumerate(NAMES)
        ]
    )
    return lab_table


def _results(response) -> list[str]:
    return re.findall(r"<h2><a [^>]+>([^<]+)</a></h2>", response.content.decode())


@pytest.mark.parametrize("url", ["/", "/top/", SEARCH, reverse("restaurants:detail", args=["AnyCompany Indian"])])
def test_every_page_has_a_labelled_search_form_in_its_header(client, named, url):
    body = client.get(url).content.decode()
    header = body[body.index("<header") : body.index("</header>")]
    form = re.search(r'<form class="site-search" role="search" method="get" action="/search/">.*?</form>', header, re.S)
    assert form, header
    assert '<label class="visually-hidden" for="site-search-q">Search restaurants by name</label>' in form.group(0)
    assert re.search(r'<input id="site-search-q" type="search" name="q"', form.group(0))


def test_search_finds_names_whatever_their_case_accents_or_leading_rank(client, named):
    response = client.get(SEARCH, {"q": "cafe"})
    assert response.status_code == 200
    assert _results(response) == ["#1 Café", "Café Bar"]
    body = response.content.decode()
    assert "French · 0 Quai" in body and 'value="cafe"' in body


def test_results_link_to_each_restaurant_and_show_no_rating(client, named):
    body = client.get(SEARCH, {"q": "anycompany fine"}).content.decode()
    assert reverse("restaurants:detail", args=["AnyCompany Fine Dining"]) in body
    assert "Fine Dining · 37944 Hickman Roads" in body
    main = body[body.index("<main") : body.index("</main>")]
    assert "2.48" not in main and "review" not in main.lower()


@pytest.mark.parametrize(
    ("typed", "address"),
    [
        ("Café", "/search/?q=cafe"),
        ("  THE grill ", "/search/?q=grill"),
        ("#1 café", "/search/?q=cafe"),
        ("#&!", "/search/"),
        ("   ", "/search/"),
    ],
)
def test_a_search_is_sent_to_the_address_of_its_normal_form(client, named, typed, address):
    response = client.get(SEARCH, {"q": typed})
    assert response.status_code == 302 and response["Location"] == address


def test_the_cursor_goes_along_to_the_normal_form(client, named):
    response = client.get(SEARCH, {"q": "Café", "cursor": "abc"})
    assert response["Location"] == "/search/?q=cafe&cursor=abc"


def test_an_empty_search_asks_for_a_name(client, named):
    with count_requests() as requests:
        response = client.get(SEARCH)
    assert response.status_code == 200
    assert "Type the start of a restaurant" in response.content.decode()
    assert requests == {}


def test_a_search_page_is_one_query(client, named):
    with count_requests() as requests:
        client.get(SEARCH, {"q": "cafe"})
    assert requests == {"Query": 1}


def test_a_search_that_finds_nothing_says_so_and_is_not_kept(client, named):
    """Otherwise any words typed would fill the page cache."""
    response = client.get(SEARCH, {"q": "zzz"})
    assert response.status_code == 200 and response["Cache-Control"] == "private"
    assert "No restaurant's name starts with “zzz”" in response.content.decode()
    with count_requests() as requests:
        again = client.get(SEARCH, {"q": "zzz"})
    assert "X-Cache" not in again and requests == {"Query": 1}


def test_too_long_a_search_is_a_bad_request(client, named):
    response = client.get(SEARCH, {"q": "a" * 201})
    assert response.status_code == 400
    assert "at most 200 characters" in response.content.decode()


def test_a_short_query_with_a_long_normal_form_is_sent_to_an_address_that_is_served(client, named):
    """The ligature "ﷺ" is 18 letters once decomposed: the normal form is cut to 200 bytes,
    which is still a search the page accepts."""
    response = client.get(SEARCH, {"q": "\ufdfa" * 12})
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200


@pytest.mark.parametrize(
    "query_string",
    ["q=%00", "q=%ED%A0%80", "q=%FF%FE", "q=caf%C3%A9&q=x", "q=a&cursor=forged", "cursor=forged", "q=%F0%9F%8D%95"],
)
def test_odd_input_is_never_a_server_error(client, named, query_string):
    response = client.get(f"{SEARCH}?{query_string}")
    assert response.status_code in (200, 302, 400)


def test_a_forged_cursor_is_a_bad_request(client, named):
    response = client.get(SEARCH, {"q": "a", "cursor": "forged"})
    assert response.status_code == 400 and "not valid" in response.content.decode()


def test_results_page_on_with_a_cursor(client, named, monkeypatch):
    from restaurants.dynamo import reads

    original = reads.restaurant_name_search
    monkeypatch.setattr(reads, "restaurant_name_search", lambda **kw: original(**kw, page_size=3))
    first = client.get(SEARCH, {"q": "anycompany"})
    more = re.search(r'href="\?q=anycompany&amp;cursor=([^"]+)">More results', first.content.decode())
    second = client.get(f"{SEARCH}?q=anycompany&cursor={more.group(1)}")
    assert _results(first) == ["AnyCompany BBQ", "AnyCompany Fine Dining", "AnyCompany Indian"]
    assert _results(second) == ["AnyCompany Italian", "AnyCompany Mexican"]
    assert "More results" not in second.content.decode() and "First results" in second.content.decode()


# --- The page cache ---------------------------------------------------------------


def test_a_second_search_is_a_hit_without_dynamodb(client, named):
    first = client.get(SEARCH, {"q": "cafe"})
    with count_requests() as requests:
        second = client.get(SEARCH, {"q": "cafe"})
    assert (first["X-Cache"], second["X-Cache"]) == ("MISS", "HIT")
    assert second.content == first.content and requests == {}


def test_every_spelling_of_a_search_is_served_its_normal_forms_page(client, named):
    cached = client.get(SEARCH, {"q": "cafe"})
    for spelling in ("Café", "CAFE", "#1 café"):
        response = client.get(SEARCH, {"q": spelling})
        assert response.status_code == 200 and response["X-Cache"] == "HIT"
        assert response.content == cached.content


def test_creating_a_restaurant_retires_the_search_pages(client, named):
    client.get(SEARCH, {"q": "cafe"})
    assert client.get(SEARCH, {"q": "cafe"})["X-Cache"] == "HIT"

    services.restaurant_create(name="Cafè Nuovo", cuisine="Italian", address="3 Via")

    response = client.get(SEARCH, {"q": "cafe"})
    assert response["X-Cache"] == "MISS" and "Cafè Nuovo" in _results(response)


def test_editing_a_restaurant_retires_the_search_pages(client, named):
    client.get(SEARCH, {"q": "cafe"})
    services.restaurant_update(name="Café Bar", cuisine="Belgian", address="5 Grand-Place")

    response = client.get(SEARCH, {"q": "cafe"})
    assert response["X-Cache"] == "MISS" and "Belgian · 5 Grand-Place" in response.content.decode()


def test_posting_a_review_keeps_the_search_pages(client, named):
    client.get(SEARCH, {"q": "cafe"})
    services.review_post(username="kim", restaurant="Café Bar", rating=5, text="Lovely.")
    assert client.get(SEARCH, {"q": "cafe"})["X-Cache"] == "HIT"
