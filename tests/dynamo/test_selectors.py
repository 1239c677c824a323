import pytest

from restaurants.dynamo import reads
from restaurants.dynamo.client import count_requests
from restaurants.dynamo.errors import InvalidCursor, NotFound

FINE_DINING = "AnyCompany Fine Dining"


def test_summary_is_the_restaurant_and_its_five_newest_reviews(lab_table):
    summary = reads.restaurant_summary_get(name=FINE_DINING)
    stars = summary.restaurant.stars
    assert (stars.five, stars.four, stars.three, stars.two, stars.one) == (4, 3, 4, 7, 9)
    assert summary.restaurant.review_count == 27
    assert round(summary.restaurant.average_rating, 2) == 2.48
    assert [r.username for r in summary.latest_reviews] == ["markmartin", "kgraham", "ewilliams", "hannah21", "john97"]


def test_summary_costs_one_query(lab_table):
    with count_requests() as requests:
        reads.restaurant_summary_get(name=FINE_DINING)
    assert requests == {"Query": 1}


def test_unknown_restaurant_is_not_found(lab_table):
    with pytest.raises(NotFound):
        reads.restaurant_summary_get(name="Nowhere")


def test_all_reviews_page_through_newest_first_without_gaps(lab_table):
    seen, cursor, pages = [], None, 0
    while True:
        page = reads.restaurant_reviews_list(name=FINE_DINING, cursor=cursor, page_size=10)
        seen += page.items
        pages += 1
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert pages == 3
    assert len(seen) == len({r.id for r in seen}) == 27
    assert [r.id for r in seen] == sorted((r.id for r in seen), reverse=True)


def test_last_full_page_carries_no_cursor(lab_table):
    first = reads.restaurant_reviews_list(name=FINE_DINING, page_size=20)
    last = reads.restaurant_reviews_list(name=FINE_DINING, cursor=first.next_cursor, page_size=7)
    assert len(last.items) == 7 and last.next_cursor is None


def test_a_tampered_cursor_is_refused(lab_table):
    page = reads.restaurant_reviews_list(name=FINE_DINING, page_size=5)
    with pytest.raises(InvalidCursor):
        reads.restaurant_reviews_list(name=FINE_DINING, cursor=page.next_cursor[:-2] + "xx")


def test_a_cursor_only_works_on_the_list_it_came_from(lab_table):
    page = reads.restaurant_reviews_list(name=FINE_DINING, page_size=5)
    with pytest.raises(InvalidCursor):
        reads.restaurant_reviews_list(name="AnyCompany Thai", cursor=page.next_cursor)


def test_reviews_by_a_user(lab_table):
    page = reads.user_reviews_list(username="ewilliams", page_size=100)
    assert page.items and all(r.username == "ewilliams" for r in page.items)
    assert FINE_DINING in {r.restaurant for r in page.items}


def test_restaurant_list_pages_through_every_restaurant_by_name(lab_table):
    names, cursor = [], None
    with count_requests() as requests:
        while True:
            page = reads.restaurant_list(cursor=cursor, page_size=4)
            names += [r.name for r in page.items]
            if not (cursor := page.next_cursor):
                break
    assert len(names) == 10 and names == sorted(names)
    assert requests["Scan"] == 0


def test_restaurant_list_by_cuisine_uses_the_sparse_index(lab_table):
    with count_requests() as requests:
        page = reads.restaurant_list(cuisine="Mexican")
    assert {r.cuisine for r in page.items} == {"Mexican"} and len(page.items) == 2
    assert requests == {"Query": 1}


def test_cuisines_are_listed_without_a_scan(lab_table):
    with count_requests() as requests:
        cuisines = reads.cuisine_list()
    assert "Fine Dining" in cuisines and cuisines == sorted(cuisines)
    assert requests == {"GetItem": 1}
