"""Staff writes put the caches right themselves, right after their own write:
the admin no longer retires anything, so a service that forgot to would leave
visitors looking at the old data (unit tests: moto's mock and fakeredis)."""

from restaurants import selectors, services
from restaurants.dynamo.client import count_requests

FINE_DINING = "AnyCompany Fine Dining"


def test_editing_a_restaurant_refreshes_its_cached_summary(lab_table):
    cached = selectors.restaurant_summary_get(name=FINE_DINING)
    with count_requests() as requests:
        assert selectors.restaurant_summary_get(name=FINE_DINING) == cached
    assert sum(requests.values()) == 0  # served from the cache

    services.restaurant_update(name=FINE_DINING, cuisine="Nordic", address="1 Pier")

    restaurant = selectors.restaurant_summary_get(name=FINE_DINING).restaurant
    assert (restaurant.cuisine, restaurant.address) == ("Nordic", "1 Pier")


def test_creating_a_restaurant_retires_the_cached_list_pages(client, lab_table):
    client.get("/")
    assert client.get("/")["X-Cache"] == "HIT"

    services.restaurant_create(name="Fjord & Fire", cuisine="Nordic", address="1 Pier")

    page = client.get("/")
    assert page["X-Cache"] == "MISS" and "Fjord &amp; Fire" in page.content.decode()


def test_purging_a_restaurant_makes_the_next_read_go_to_dynamodb(lab_table):
    selectors.restaurant_summary_get(name=FINE_DINING)

    assert services.restaurant_cache_purge(name=FINE_DINING) >= 1

    with count_requests() as requests:
        selectors.restaurant_summary_get(name=FINE_DINING)
    assert sum(requests.values()) == 1
