"""The board the list pages are cut from stays right under writes: a rebuild
never undoes a write made while it read DynamoDB, the stream never moves an
entry back to a state a later write replaced, and a review retires exactly
the list pages it changes (real Redis and DynamoDB Local: the scripts run on
the real server, ``HDEL`` of many fields included)."""

import pytest

from restaurants import services
from restaurants.cache import invalidation
from restaurants.cache.data import catalogue, leaderboard
from restaurants.cache.rules import keys
from restaurants.dynamo import reads
from restaurants.dynamo.client import call
from restaurants.dynamo.errors import Unavailable
from restaurants.dynamo.items import serialize
from restaurants.dynamo.streams import ItemChange
from tests.conftest import lab_items

pytestmark = pytest.mark.integration
THAI = "Example Corp. Thai"  # 20 reviews in the lab data


def board_entry(name: str) -> leaderboard.Entry:
    entries, _ = leaderboard.everything()
    return next(entry for entry in entries if entry.name == name)


def lab_restaurant(name: str) -> dict:
    return next(item for item in lab_items() if item["PK"] == item["SK"] == f"REST#{name}")


def write_during_the_rebuilds_read(monkeypatch, write) -> None:
    """The next rebuild reads DynamoDB, then ``write()`` happens, then it publishes."""
    original = reads.restaurant_list

    def read_then_write(**kwargs):
        page = original(**kwargs)
        monkeypatch.setattr(reads, "restaurant_list", original)
        write()
        return page

    monkeypatch.setattr(reads, "restaurant_list", read_then_write)


def test_a_review_posted_while_a_rebuild_reads_dynamodb_is_not_undone_by_its_publish(site, monkeypatch):
    leaderboard.rebuild()
    write_during_the_rebuilds_read(
        monkeypatch, lambda: services.review_post(username="zoe", restaurant=THAI, rating=5, text="Better.")
    )
    leaderboard.rebuild()  # read 20 reviews of Thai; the review made it 21 before the publish
    assert board_entry(THAI).review_count == 21


def test_a_rebuild_overlapping_a_write_it_could_not_read_back_is_not_published(site, redis, monkeypatch, fake_clock):
    leaderboard.rebuild()
    write_during_the_rebuilds_read(monkeypatch, lambda: catalogue.forget(redis, THAI))
    with pytest.raises(Unavailable):
        leaderboard.rebuild()
    assert not redis.exists(keys.leaderboard_key())  # dropped by the write, not brought back stale
    fake_clock.advance(leaderboard.UNKNOWN_MARGIN_SECONDS + 0.5)
    assert board_entry(THAI).review_count == 20  # the next reader builds it from DynamoDB after the write
    assert redis.exists(keys.leaderboard_key())


def test_the_stream_never_moves_an_entry_back_to_a_state_a_later_write_replaced(site):
    leaderboard.rebuild()
    before = lab_restaurant(THAI)
    first = {**before, "five_stars": before["five_stars"] + 1}
    second = {**first, "one_stars": first["one_stars"] + 1}
    services.review_post(username="zoe", restaurant=THAI, rating=5, text="Better.")
    services.review_post(username="yann", restaurant=THAI, rating=1, text="Worse.")
    assert board_entry(THAI).review_count == 22  # both written through

    invalidation.table_changed([ItemChange("1", "MODIFY", before["PK"], before["SK"], before, first)])
    assert board_entry(THAI).review_count == 22  # the first write's record comes late: kept
    invalidation.table_changed([ItemChange("2", "MODIFY", before["PK"], before["SK"], first, second)])
    assert board_entry(THAI).review_count == 22


def test_a_change_the_board_has_not_seen_is_applied(site):
    leaderboard.rebuild()
    before = lab_restaurant(THAI)
    after = {**before, "address": "1 New Road"}
    call("PutItem", Item=serialize(after))  # another client's write, whose record this is
    invalidation.table_changed([ItemChange("1", "MODIFY", before["PK"], before["SK"], before, after)])
    assert board_entry(THAI).address == "1 New Road"


def test_a_review_retires_exactly_the_list_pages_that_show_a_change(site, redis, client, monkeypatch):
    monkeypatch.setattr(catalogue, "PER_PAGE", 4)
    pages = [
        f"/?{sort}page={n}".replace("?page=1", "?").replace("&page=1", "")
        for sort in ("", "sort=rating&", "sort=reviews&")
        for n in (1, 2, 3)
    ]
    pages += ["/?cuisine=Thai", "/?cuisine=Italian", "/top/", "/top/?cuisine=Italian"]
    for url in pages:
        client.get(url)
    assert all(client.get(url)["X-Cache"] == "HIT" for url in pages)

    services.review_post(username="zoe", restaurant=THAI, rating=5, text="Better.")

    retired = {url for url in pages if client.get(url)["X-Cache"] != "HIT"}
    assert retired == {"/?page=3", "/?sort=rating&page=3", "/?sort=reviews&page=3", "/?cuisine=Thai", "/top/"}
    assert "21 reviews" in client.get("/?page=3").content.decode()
