"""The model layer reading items other clients wrote into the shared table in
shapes we never write (issue #20): the odd attribute is shown as well as it
can be or the item left out with a log line, and the rest is read as ever.
Runs on moto and on DynamoDB Local."""

import logging

import pytest

from restaurants.dynamo import item_keys, reads, writes
from restaurants.dynamo.client import call, count_requests
from restaurants.dynamo.items import serialize
from tests.other_clients import put_restaurant, put_straight

BISTRO = "Le Bistro"
# Reviews in shapes no page can show: the summary must not count them among its five.
UNREADABLE = [
    {"rating": "five"},
    {"rating": {"stars": 5}},
    {"rating": "4"},
    {"rating": 9},
    {"review": None},  # no review text at all (removed below)
    {"created_at": 20260101},
]


def review_item(number: int, **attributes) -> dict:
    """A review of BISTRO by user<number>; a higher number sorts newer (its id)."""
    review_id = f"{number:08d}".ljust(27, "0")
    username = f"user{number}"
    item = {
        **item_keys.review_item_keys(username=username, restaurant=BISTRO, review_id=review_id),
        "id": review_id,
        "restaurant": BISTRO,
        "username": username,
        "rating": 4,
        "review": f"Review {number}.",
        "created_at": "2026-01-01T00:00:00+00:00",
        **attributes,
    }
    return {name: value for name, value in item.items() if value is not None}


@pytest.fixture
def bistro(table):
    put_restaurant(BISTRO)
    return BISTRO


def test_the_summary_shows_the_five_newest_readable_reviews_past_unreadable_newer_ones(bistro):
    for number in range(100):
        put_straight(review_item(number))
    for offset, attributes in enumerate(UNREADABLE):
        put_straight(review_item(1000 + offset, **attributes))

    with count_requests() as requests:
        summary = reads.restaurant_summary_get(name=BISTRO)

    assert [review.username for review in summary.latest_reviews] == [f"user{n}" for n in (99, 98, 97, 96, 95)]
    assert requests == {"Query": 2}  # the first read on once, past the six


def test_a_partition_of_unreadable_reviews_costs_a_bounded_number_of_queries(bistro):
    for number in range(150):
        put_straight(review_item(number, rating="five"))

    with count_requests() as requests:
        summary = reads.restaurant_summary_get(name=BISTRO)

    assert summary.latest_reviews == []
    assert requests == {"Query": 1 + reads.SUMMARY_READ_ON_QUERIES}


def test_the_lab_scripts_reviews_and_unreadable_ones_together(bistro):
    for number in range(20):
        put_straight(review_item(number))
    for offset, attributes in enumerate(UNREADABLE):
        put_straight(review_item(1000 + offset, **attributes))
    lab_script = review_item(500)
    put_straight({**lab_script, "GSI1SK": item_keys.LAB_SCRIPT_REVIEW_PREFIX + lab_script["id"]})

    summary = reads.restaurant_summary_get(name=BISTRO)

    assert [review.username for review in summary.latest_reviews] == ["user500", "user19", "user18", "user17", "user16"]


@pytest.mark.parametrize(
    "stored", [["Thai", 7, "Nordic"], ["Thai", {"M": 1}, "", "Nordic"], {"Thai": True}, 42, "Thai, Nordic"]
)
def test_a_cuisine_list_rewritten_in_another_shape_keeps_its_strings(table, stored, caplog, monkeypatch):
    monkeypatch.setattr(reads, "_logged", set())  # as in a new process
    put_straight({**item_keys.CUISINES_ITEM_KEY, "cuisines": stored})

    with caplog.at_level(logging.WARNING, logger="restaurants.dynamo.reads"):
        first, second = reads.cuisine_list(), reads.cuisine_list()

    expected = {list: ["Nordic", "Thai"], str: [stored]}.get(type(stored), [])
    assert first == second == expected
    logged = [record for record in caplog.records if "cuisine list" in record.message]
    assert len(logged) == (0 if isinstance(stored, str) else 1)  # once, not on every page view


def test_a_restaurant_with_a_number_for_its_cuisine_and_a_map_for_its_address_is_listed(table):
    put_straight(
        {**item_keys.restaurant_index_attributes(BISTRO, "French"), "name": BISTRO, "cuisine": 7, "address": {"a": 1}}
    )

    (listed,) = reads.restaurant_list().items
    summary = reads.restaurant_summary_get(name=BISTRO)

    assert (listed.cuisine, listed.address) == ("7", "")
    assert summary.restaurant == listed and summary.version


def test_a_restaurant_whose_name_attribute_was_edited_keeps_the_name_of_its_key(table, caplog):
    put_straight({**item_keys.restaurant_index_attributes(BISTRO, "French"), "name": "Chez Nous", "cuisine": "French"})

    with caplog.at_level(logging.WARNING, logger="restaurants.dynamo.entities"):
        (found,) = reads.restaurant_name_search(query="le bis").items

    assert found.name == BISTRO
    assert reads.restaurant_summary_get(name=found.name).restaurant.name == BISTRO
    assert "Chez Nous" in caplog.text


@pytest.mark.parametrize("stored", [["Thai", 7], {"Thai": True}, "Thai"])
def test_a_restaurant_created_over_a_cuisine_list_of_another_type_is_listed_under_its_cuisine(table, stored):
    put_straight({**item_keys.CUISINES_ITEM_KEY, "cuisines": stored})

    writes.restaurant_create(name=BISTRO, cuisine="French", address="1 Pier")
    writes.restaurant_update(name=BISTRO, cuisine="Nordic", address="1 Pier")

    assert reads.cuisine_list() == ["French", "Nordic"] + (["Thai"] if stored != {"Thai": True} else [])
    (stored_again,) = call("GetItem", Key=serialize(item_keys.CUISINES_ITEM_KEY))["Item"]["cuisines"]
    assert stored_again == "SS"  # a string set again: the next add is one ADD
