"""The fuzzed site's table, and the status codes each fuzz test saw.

The table is the lab's items plus what other clients might have written (a
restaurant whose name no URL can carry, a review by a username too long for a
URL, a restaurant item with no name, one whose cuisine is a list and address
a map, one whose name attribute was edited away from its key, a review whose
rating is a word, a cuisine list holding a number), a staff member and a user
with a review, on moto's in-process mock and fakeredis: fast, and the same for
every run.
"""

import collections

import pytest
from django.contrib.auth import get_user_model

from restaurants.dynamo import item_keys, reads
from tests.fuzz.requests import PASSWORD, Names
from tests.other_clients import LONG_USERNAME, SLASHES, put_restaurant, put_review, put_straight

FINE_DINING = "AnyCompany Fine Dining"


@pytest.fixture
def fuzz_site(lab_table):
    from restaurants import services
    from tests.conftest import lab_items

    User = get_user_model()
    users = {
        "boss": User.objects.create_superuser("boss", "boss@example.com", PASSWORD),
        "kim": User.objects.create_user("kim", "kim@example.com", PASSWORD),
    }
    services.review_post(username="kim", restaurant=FINE_DINING, rating=4, text="Good.")
    put_restaurant(SLASHES)
    put_review(username="ewilliams", restaurant=SLASHES)
    put_review(username=LONG_USERNAME, restaurant=FINE_DINING)
    put_straight({**item_keys.restaurant_index_attributes("Nameless", "Thai"), "cuisine": "Thai"})
    odd = {"name": "Odd One", "cuisine": ["Thai", 7], "address": {"line": "1 Pier"}}
    put_straight({**item_keys.restaurant_index_attributes("Odd One", "Thai"), **odd})
    renamed = {"name": "Renamed Elsewhere", "cuisine": "Thai"}  # its key says "Renamed"
    put_straight({**item_keys.restaurant_index_attributes("Renamed", "Thai"), **renamed})
    put_review(username="hannah21", restaurant="Odd One", rating="five")
    put_straight({**item_keys.CUISINES_ITEM_KEY, "cuisines": [*reads.cuisine_list(), 7]})
    restaurants = tuple(item["name"] for item in lab_items() if "name" in item)
    restaurants += (SLASHES, "Nameless", "Odd One", "Renamed")
    reviewers = tuple(sorted({item["username"] for item in lab_items() if "username" in item}))[:8]
    cursors = (
        reads.restaurant_list(page_size=3).next_cursor,
        reads.restaurant_list(cuisine="American", page_size=1).next_cursor,
        reads.restaurant_reviews_list(name=FINE_DINING, page_size=5).next_cursor,
        reads.user_reviews_list(username="ewilliams", page_size=1).next_cursor,
        reads.restaurant_search(prefix="Any", page_size=2).next_cursor,
    )
    names = Names(
        restaurants=restaurants,
        usernames=("boss", "kim", LONG_USERNAME, *reviewers),
        cursors=tuple(cursor for cursor in cursors if cursor),
        cuisines=tuple(reads.cuisine_list()),
    )
    return names, users


@pytest.fixture
def same_draws_whatever_ran_before(monkeypatch):
    """Hypothesis mixes into what it draws the constants it finds in the project's
    modules loaded so far (hypothesis.internal.conjecture.providers), and which
    those are depends on the tests that ran before in the same process: the
    fuzz test then sends other requests. Without that pool (a private API,
    pinned with hypothesis in requirements-test.txt) it sends the same ones
    on every run, alone or in ``make test``."""
    from hypothesis.internal.conjecture import providers
    from hypothesis.internal.constants_ast import Constants

    monkeypatch.setattr(providers, "_get_local_constants", Constants)
    providers.CONSTANTS_CACHE.cache.clear()
    yield
    providers.CONSTANTS_CACHE.cache.clear()


@pytest.fixture
def fuzz_figures(request):
    """Status codes seen by one fuzz test; added to the run's totals (tests/conftest.py prints them)."""
    seen: collections.Counter = collections.Counter()
    yield seen
    request.node.user_properties.append(("fuzz_statuses", dict(seen)))
