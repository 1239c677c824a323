"""Reviews written by the lab's create_review.py (``GSI1SK = REVIEW#<ksuid>``,
no leading "#") sort before their restaurant in the descending GSI1 query.
The restaurant's page must not 404 over them, and must show them."""

import datetime as dt

import pytest

from restaurants.dynamo import reads
from restaurants.dynamo.client import count_requests
from restaurants.dynamo.errors import NotFound
from restaurants.dynamo.ksuid import new_ksuid
from restaurants.dynamo.writes import review_create
from tests import lab_scripts

FINE_DINING = "AnyCompany Fine Dining"
LAB_NEWEST = ["markmartin", "kgraham", "ewilliams", "hannah21", "john97"]


def _an_hour_ago() -> str:
    """A review id of an hour ago: newer than the lab's, older than one made now
    (ids made in the same second sort at random)."""
    return new_ksuid(dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))


def _lab_script_reviews(count: int) -> list[str]:
    return [
        lab_scripts.create_review(
            restaurant=FINE_DINING, username=f"script{n}", rating=4, review=f"Script {n}.", review_id=_an_hour_ago()
        )
        for n in range(count)
    ]


def test_with_a_misplaced_review_the_summary_still_finds_the_restaurant(lab_table):
    [review_id] = _lab_script_reviews(1)
    with count_requests() as requests:
        summary = reads.restaurant_summary_get(name=FINE_DINING)
    assert requests == {"Query": 2}  # the first item was not the restaurant: one fallback Query
    assert summary.restaurant.name == FINE_DINING and summary.restaurant.review_count == 28
    assert [r.id for r in summary.latest_reviews][:1] == [review_id]
    assert [r.username for r in summary.latest_reviews][1:] == LAB_NEWEST[:4]


def test_newest_reviews_are_merged_by_time_across_both_sort_key_forms(lab_table):
    script_ids = _lab_script_reviews(7)  # more than a summary shows, all before the restaurant
    ours = review_create(username="kim", restaurant=FINE_DINING, rating=5, text="Newest of all.")
    summary = reads.restaurant_summary_get(name=FINE_DINING)
    assert [r.id for r in summary.latest_reviews] == [ours.id, *sorted(script_ids, reverse=True)[:4]]


def test_an_older_misplaced_review_does_not_push_out_newer_ones(lab_table):
    old_id = _an_hour_ago()
    ours = [review_create(username=f"u{n}", restaurant=FINE_DINING, rating=3, text="Ours.") for n in range(5)]
    lab_scripts.create_review(restaurant=FINE_DINING, username="script", rating=1, review="Old.", review_id=old_id)
    summary = reads.restaurant_summary_get(name=FINE_DINING)
    assert [r.id for r in summary.latest_reviews] == sorted((r.id for r in ours), reverse=True)


def test_without_misplaced_reviews_the_summary_is_still_one_query(lab_table):
    with count_requests() as requests:
        reads.restaurant_summary_get(name=FINE_DINING)
    assert requests == {"Query": 1}


def test_an_unknown_restaurant_is_one_query_and_not_found(lab_table):
    with count_requests() as requests, pytest.raises(NotFound):
        reads.restaurant_summary_get(name="Nowhere")
    assert requests == {"Query": 1}


def test_every_review_is_listed_once_across_pages_and_the_restaurant_never(lab_table):
    script_ids = set(_lab_script_reviews(3))
    seen, cursor = [], None
    with count_requests() as requests:
        while True:
            page = reads.restaurant_reviews_list(name=FINE_DINING, cursor=cursor, page_size=10)
            assert len(page.items) == 10 or not page.next_cursor
            seen += page.items
            if not (cursor := page.next_cursor):
                break
    assert requests == {"Query": 3}  # 30 reviews, 10 a page, no empty last page
    assert len(seen) == len({r.id for r in seen}) == 30
    assert {r.id for r in seen[:3]} == script_ids  # listed first until upgrade_table --repair


def test_the_write_through_summary_counts_misplaced_reviews(lab_table):
    [script_id] = _lab_script_reviews(1)
    ours = review_create(username="kim", restaurant=FINE_DINING, rating=5, text="Ours.")
    summary = reads.restaurant_summary_after_write(name=FINE_DINING, written=ours)
    assert [r.id for r in summary.latest_reviews][:2] == [ours.id, script_id]
    assert summary.restaurant.review_count == 29
