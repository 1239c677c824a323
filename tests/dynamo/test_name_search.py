"""Name search on GSI4 (restaurants/dynamo/reads.py), on moto and DynamoDB Local."""

import pytest

from restaurants.dynamo import item_keys, reads, writes
from restaurants.dynamo.bulk import write_items
from restaurants.dynamo.client import count_requests
from restaurants.dynamo.errors import InvalidCursor

NAMES = ["#1 Café", "Café Bar", "cafeteria Nova", "The Grill", "Grillhouse", "Bistro Café", "Crème de la Crème"]


@pytest.fixture
def named_table(lab_table):
    write_items(
        [
            {
                **item_keys.restaurant_index_attributes(name, "Test"),
                "name": name,
                "cuisine": "Test",
                "address": f"{i} Rue",
            }
            for i, name in enumerate(NAMES)
        ]
    )
    return lab_table


def _names(page) -> list[str]:
    return [restaurant.name for restaurant in page.items]


def test_search_ignores_case_accents_and_a_leading_rank_in_one_query(named_table):
    with count_requests() as requests:
        page = reads.restaurant_name_search(query="CAFE")
    assert _names(page) == ["#1 Café", "Café Bar", "cafeteria Nova"]
    assert requests == {"Query": 1}


def test_search_ignores_a_leading_the_and_matches_several_words(named_table):
    assert _names(reads.restaurant_name_search(query="grill")) == ["The Grill", "Grillhouse"]
    assert _names(reads.restaurant_name_search(query="the grill")) == ["The Grill", "Grillhouse"]
    assert _names(reads.restaurant_name_search(query="crème de")) == ["Crème de la Crème"]
    assert _names(reads.restaurant_name_search(query="cafe b")) == ["Café Bar"]


def test_search_matches_the_start_of_a_name_only(named_table):
    assert "Bistro Café" not in _names(reads.restaurant_name_search(query="café"))
    assert _names(reads.restaurant_name_search(query="bistro")) == ["Bistro Café"]


def test_results_show_name_cuisine_and_address(named_table):
    (restaurant,) = reads.restaurant_name_search(query="cafe bar").items
    assert (restaurant.name, restaurant.cuisine, restaurant.address) == ("Café Bar", "Test", "1 Rue")


def test_lab_restaurants_are_found_by_any_spelling_of_their_start(named_table):
    found = _names(reads.restaurant_name_search(query="anycompany"))
    assert found == sorted(found) and len(found) == 5
    assert _names(reads.restaurant_name_search(query="EXAMPLE CORP THAI")) == ["Example Corp. Thai"]


def test_search_pages_through_every_match_once_with_one_query_a_page(named_table):
    seen, cursor, pages = [], None, 0
    with count_requests() as requests:
        while True:
            page = reads.restaurant_name_search(query="a", cursor=cursor, page_size=2)
            seen += _names(page)
            pages += 1
            if not (cursor := page.next_cursor):
                break
    assert seen == [name for name in sorted(seen, key=item_keys.name_search_sort_key)]
    assert len(seen) == len(set(seen)) == 5  # the five AnyCompany restaurants
    assert pages == 3 and requests == {"Query": 3}


def test_a_cursor_only_works_for_the_search_it_came_from(named_table):
    page = reads.restaurant_name_search(query="a", page_size=2)
    with pytest.raises(InvalidCursor):
        reads.restaurant_name_search(query="e", cursor=page.next_cursor)
    with pytest.raises(InvalidCursor):
        reads.restaurant_name_search(query="a", cursor=page.next_cursor[:-2] + "xx")
    # Another spelling of the same search is the same search.
    assert reads.restaurant_name_search(query="A", cursor=page.next_cursor, page_size=2).items


def test_a_query_without_letters_or_digits_finds_nothing_without_a_request(named_table):
    with count_requests() as requests:
        assert reads.restaurant_name_search(query="").items == []
        assert reads.restaurant_name_search(query="  #&! ").items == []
    assert requests == {}


def test_nothing_found_is_an_empty_page_without_a_cursor(named_table):
    page = reads.restaurant_name_search(query="zzz")
    assert page.items == [] and page.next_cursor is None


def test_a_restaurant_created_by_the_site_is_searchable(named_table):
    writes.restaurant_create(name="Ôde à la Joie", cuisine="French", address="9 Quai")
    assert _names(reads.restaurant_name_search(query="ode a")) == ["Ôde à la Joie"]


def test_star_counters_are_not_in_the_index(named_table):
    """GSI4 projects name, cuisine and address only: a review's counter update
    does not rewrite it (and the results show no rating)."""
    (restaurant,) = reads.restaurant_name_search(query="AnyCompany Fine").items
    assert restaurant.review_count == 0
    assert reads.restaurant_get(name="AnyCompany Fine Dining").review_count == 27
