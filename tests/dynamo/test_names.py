"""The restaurant-name rule (restaurants/dynamo/names.py): what it refuses and
why, and that every name it accepts has a URL that leads back to it."""

from urllib.parse import unquote

import pytest
from django.urls import resolve, reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from restaurants.dynamo import item_keys
from restaurants.dynamo.names import URL_SEGMENT_MAX_LENGTH, restaurant_name_problem
from tests.conftest import lab_items


def test_every_lab_and_demo_restaurant_name_is_accepted():
    from devtools.demo import demo_items

    names = [item["name"] for item in lab_items() if "name" in item]
    names += [item["name"] for item in demo_items(restaurants=240, users=1, reviews_per_user=1) if "name" in item]
    assert len(names) == 250
    assert {name: restaurant_name_problem(name) for name in names} == dict.fromkeys(names)


@pytest.mark.parametrize(
    "name",
    [
        "Salt & Smoke",
        "Zoë's Café 東京",
        "100% Tacos?",
        "Fish/Chips %2F",
        "<script>",
        "a",
        "...",
        "a" * URL_SEGMENT_MAX_LENGTH,
        "\U0001d11e" * URL_SEGMENT_MAX_LENGTH,  # 4 bytes each: an 805-byte sort key
        "/" * 66 + "ab",  # exactly 200 characters once escaped
    ],
)
def test_names_the_site_can_key_and_link_are_accepted(name):
    assert restaurant_name_problem(name) is None


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("", "empty"),
        (" Thai", "start or end with a space"),
        ("Thai ", "start or end with a space"),
        ("Thai\u00a0", "start or end with a space"),  # a no-break space is whitespace too
        ("Thai\tHouse", "U+0009"),
        ("Thai\nHouse", "U+000A"),
        ("Nul\x00", "U+0000"),
        ("Thai\u200bHouse", "U+200B"),  # zero-width space: looks like "ThaiHouse"
        ("\u202eesuoH iahT", "U+202E"),  # right-to-left override
        ("Private\ue000", "U+E000"),
        ("Half\ud800", "U+D800"),  # a lone surrogate: not UTF-8, so not storable
        (".", "folder"),
        ("..", "folder"),
        ("/" * 67, "201 characters"),  # the example: accepted once, then every list page failed
        ("%" * 67, "201 characters"),
        ("a" * (URL_SEGMENT_MAX_LENGTH + 1), "201 characters"),
        ("/" * 66 + "abc", "201 characters"),
        (42, "text"),
        (None, "text"),
    ],
)
def test_names_that_would_break_a_key_a_url_or_a_form_are_refused_with_the_reason(name, why):
    problem = restaurant_name_problem(name)
    assert problem is not None and why in problem


def test_the_key_limit_is_checked_even_where_the_url_cap_would_allow_more(monkeypatch):
    from restaurants.dynamo import names

    monkeypatch.setattr(names, "URL_SEGMENT_MAX_LENGTH", 10_000)
    name = "\U0001d11e" * 255  # 1,020 bytes: with "REST#", 1,025
    assert "1025 bytes" in restaurant_name_problem(name)
    assert restaurant_name_problem(name[:-1]) is None
    assert len(item_keys.restaurant_key(name[:-1]).encode()) <= item_keys.SORT_KEY_MAX_BYTES


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.text(min_size=1, max_size=220) | st.text(alphabet="/%aé", min_size=60, max_size=80))
def test_every_accepted_name_has_a_url_that_leads_back_to_it(name):
    if restaurant_name_problem(name) is not None:
        return
    for view in ("restaurants:detail", "staff:restaurant"):
        url = reverse(view, args=[name])
        match = resolve(unquote(url))  # the server decodes the path once, as WSGI does
        assert (match.view_name, match.kwargs["name"]) == (view, name)


def test_the_model_layer_refuses_to_create_a_restaurant_whose_name_breaks_the_rule(table):
    from restaurants.dynamo import writes
    from restaurants.dynamo.client import call
    from restaurants.dynamo.errors import InvalidName
    from restaurants.dynamo.items import serialize

    with pytest.raises(InvalidName, match="Too long for a web address"):
        writes.restaurant_create(name="/" * 67, cuisine="Thai", address="1 St")

    assert "Item" not in call("GetItem", Key=serialize(item_keys.restaurant_item_keys("/" * 67)))
