"""Search pages follow the table's stream, whoever writes (moto's mock and
DynamoDB Local; fakeredis): a restaurant another client adds, changes or
removes is searchable (or gone) after one pass of the consumer, and the
cached search pages that would hide it are retired. Reviews leave them be."""

import pytest

from restaurants.dynamo import reads
from restaurants.dynamo.client import call
from restaurants.dynamo.items import serialize
from tests import lab_scripts

pytestmark = pytest.mark.stream  # these tests read the table's stream

SEARCH = "/search/"


def _cached_search(client, query: str):
    client.get(SEARCH, {"q": query})
    page = client.get(SEARCH, {"q": query})
    assert page["X-Cache"] == "HIT"
    return page


def test_a_restaurant_created_by_the_lab_script_is_searchable_after_one_pass(follower, client):
    _cached_search(client, "anycompany")
    lab_scripts.create_restaurant(name="AnyCompany Crêpes", cuisine="French", address="1 Lab Street")
    assert "AnyCompany Crêpes" not in [r.name for r in reads.restaurant_name_search(query="anycompany").items]

    follower.catch_up()
    assert "AnyCompany Crêpes" in [r.name for r in reads.restaurant_name_search(query="anycompany crepes").items]
    page = client.get(SEARCH, {"q": "anycompany"})
    assert page["X-Cache"] == "MISS" and "AnyCompany Crêpes" in page.content.decode()


def test_a_rerun_of_the_lab_bulk_load_makes_every_restaurant_searchable_again(follower):
    from tests.conftest import lab_items

    lab_scripts.bulk_load(lab_items())  # puts the lab's items back without our index attributes
    assert reads.restaurant_name_search(query="a").items == []

    follower.catch_up()
    assert len(reads.restaurant_name_search(query="a").items) == 5


def test_an_outside_change_of_an_address_retires_the_search_pages(follower, client):
    _cached_search(client, "example corp thai")
    call(
        "UpdateItem",
        Key=serialize({"PK": "REST#Example Corp. Thai", "SK": "REST#Example Corp. Thai"}),
        UpdateExpression="SET address = :address",
        ExpressionAttributeValues=serialize({":address": "2 Console Road"}),
    )

    follower.catch_up()
    page = client.get(SEARCH, {"q": "example corp thai"})
    assert page["X-Cache"] == "MISS" and "2 Console Road" in page.content.decode()


def test_a_restaurant_removed_by_another_client_leaves_the_search_pages(follower, client):
    _cached_search(client, "example corp")
    call("DeleteItem", Key=serialize({"PK": "REST#Example Corp. Thai", "SK": "REST#Example Corp. Thai"}))

    follower.catch_up()
    page = client.get(SEARCH, {"q": "example corp"})
    assert page["X-Cache"] == "MISS" and "Example Corp. Thai" not in page.content.decode()


def test_a_review_by_another_client_keeps_the_cached_search_pages(follower, client):
    """Search results show no rating, so a review (which moves its restaurant's
    star counters) does not retire them."""
    _cached_search(client, "anycompany")
    lab_scripts.create_review(restaurant="AnyCompany Indian", username="labuser", rating=5, review="Good.")

    follower.catch_up()
    assert client.get(SEARCH, {"q": "anycompany"})["X-Cache"] == "HIT"


def test_a_restaurant_whose_name_is_not_text_is_left_alone(follower):
    """Another client's item that makes no restaurant must not stop the consumer."""
    call("PutItem", Item=serialize({"PK": "REST#42", "SK": "REST#42", "name": 42, "cuisine": "Thai"}))
    follower.catch_up()
    assert reads.restaurant_name_search(query="42").items == []
