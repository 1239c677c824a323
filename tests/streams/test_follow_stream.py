"""The caches follow the table's stream, whoever writes (moto's mock and DynamoDB
Local; fakeredis). Each test runs the consumer one pass at a time
(``StreamFollower.catch_up``), never sleeping for it."""

import pytest
from django.urls import reverse

from restaurants import services, stream_follower
from restaurants.cache.data import leaderboard, summaries, visitors
from restaurants.cache.plumbing import connection
from restaurants.cache.plumbing.connection import CacheDown, primary
from restaurants.cache.rules import keys as cache_keys
from restaurants.dynamo import reads, streams
from restaurants.dynamo.client import call, count_requests
from restaurants.dynamo.items import serialize
from tests import lab_scripts
from tests.conftest import lab_items

pytestmark = pytest.mark.stream  # these tests read the table's stream

FINE_DINING = "AnyCompany Fine Dining"
DETAIL = reverse("restaurants:detail", args=[FINE_DINING])


def _summary(*, dynamodb_requests: int):
    with count_requests() as requests:
        summary = summaries.restaurant_summary(FINE_DINING)
    assert sum(requests.values()) == dynamodb_requests, requests
    return summary


def test_a_review_written_by_the_lab_script_is_on_the_restaurant_page_after_one_pass(follower, client):
    assert client.get(DETAIL)["X-Cache"] == "MISS"
    assert client.get(DETAIL)["X-Cache"] == "HIT"
    _summary(dynamodb_requests=0)

    review_id = lab_scripts.create_review(restaurant=FINE_DINING, username="labuser", rating=5, review="Lab-made.")
    assert "Lab-made." not in client.get(DETAIL).content.decode()  # what the issue was about

    follower.catch_up()
    page = client.get(DETAIL)
    assert page.status_code == 200 and page["X-Cache"] == "MISS"
    assert "Lab-made." in page.content.decode()
    summary = _summary(dynamodb_requests=0)
    assert summary.latest_reviews[0].id == review_id
    assert summary.restaurant.stars.five == 5


def test_a_visitor_in_the_middle_of_a_retirement_leaves_no_stale_page(follower, client, monkeypatch):
    """A page rendered while a batch is being applied must not be kept with
    the summary as it was (summaries are dropped before pages are retired)."""
    _summary(dynamodb_requests=1)  # the summary is cached, the page is not
    drop = summaries.drop_unless_showing

    def visitor_first(*args, **kwargs):
        client.get(DETAIL)  # renders from the cached summary, and stores the page
        return drop(*args, **kwargs)

    monkeypatch.setattr(summaries, "drop_unless_showing", visitor_first)
    lab_scripts.create_review(restaurant=FINE_DINING, username="labuser", rating=5, review="Lab-made.")

    follower.catch_up()
    assert "Lab-made." in client.get(DETAIL).content.decode()


def test_our_own_review_keeps_its_write_through_summary(follower):
    _summary(dynamodb_requests=1)
    services.review_post(username="kim", restaurant=FINE_DINING, rating=4, text="Posted on the site.")

    assert follower.catch_up() >= 1
    assert follower.applied_changes >= 2  # the review and the restaurant's counter
    assert _summary(dynamodb_requests=0).latest_reviews[0].review == "Posted on the site."


def test_an_outside_edit_of_a_shown_review_drops_the_summary(follower):
    [shown] = [review for review in _summary(dynamodb_requests=1).latest_reviews if review.username == "kgraham"]
    call(
        "UpdateItem",
        Key=serialize({"PK": "USER#kgraham", "SK": f"REST#{FINE_DINING}"}),
        UpdateExpression="SET review = :text",
        ExpressionAttributeValues=serialize({":text": "Edited in the console."}),
    )
    assert _summary(dynamodb_requests=0).latest_reviews[1].review == shown.review

    follower.catch_up()
    assert _summary(dynamodb_requests=1).latest_reviews[1].review == "Edited in the console."


def test_an_outside_delete_of_a_shown_review_drops_the_summary_and_the_authors_pages(follower, client):
    author_page = reverse("restaurants:user", args=["markmartin"])
    client.get(author_page)
    assert client.get(author_page)["X-Cache"] == "HIT"
    assert _summary(dynamodb_requests=1).latest_reviews[0].username == "markmartin"
    call("DeleteItem", Key=serialize({"PK": "USER#markmartin", "SK": f"REST#{FINE_DINING}"}))

    follower.catch_up()
    assert "markmartin" not in [review.username for review in _summary(dynamodb_requests=1).latest_reviews]
    assert client.get(author_page)["X-Cache"] == "MISS"


def test_a_restaurant_created_by_the_lab_script_is_listed_and_filtered_after_one_pass(follower, client):
    client.get("/")
    assert client.get("/")["X-Cache"] == "HIT"
    lab_scripts.create_restaurant(name="Lab Noodles", cuisine="Vietnamese", address="1 Lab Street")
    assert "Lab Noodles" not in [r.name for r in reads.restaurant_list(page_size=50).items]

    follower.catch_up()
    assert "Lab Noodles" in [r.name for r in reads.restaurant_list(page_size=50).items]
    assert [r.name for r in reads.restaurant_list(cuisine="Vietnamese").items] == ["Lab Noodles"]
    assert "Vietnamese" in reads.cuisine_list()
    front = client.get("/")
    assert front["X-Cache"] == "MISS" and "Lab Noodles" in front.content.decode()
    assert client.get("/?cuisine=Vietnamese").status_code == 200


def test_a_rerun_of_the_lab_bulk_load_gets_our_index_attributes_back(follower):
    lab_scripts.bulk_load(lab_items())  # strips GSI2/GSI3 from every restaurant
    assert reads.restaurant_list(page_size=50).items == []

    follower.catch_up()
    assert len(reads.restaurant_list(page_size=50).items) == 10
    assert [r.name for r in reads.restaurant_list(cuisine="Thai").items] == ["Example Corp. Thai"]


def test_the_leaderboard_entry_moves_with_an_outside_review(follower):
    leaderboard.rebuild()
    before = {entry.name: entry for entry in leaderboard.top(limit=20)}["Example Corp. Thai"]
    lab_scripts.create_review(restaurant="Example Corp. Thai", username="labuser", rating=5, review="Good.")

    follower.catch_up()
    after = {entry.name: entry for entry in leaderboard.top(limit=20)}["Example Corp. Thai"]
    assert after.review_count == before.review_count + 1 and after.score > before.score


def test_a_restaurant_removed_by_another_client_leaves_the_cached_pages_and_the_board(follower, client):
    leaderboard.rebuild()
    client.get(DETAIL)
    assert client.get(DETAIL)["X-Cache"] == "HIT"
    call("DeleteItem", Key=serialize({"PK": f"REST#{FINE_DINING}", "SK": f"REST#{FINE_DINING}"}))

    follower.catch_up()
    assert client.get(DETAIL).status_code == 404
    assert FINE_DINING not in [entry.name for entry in leaderboard.top(limit=20)]  # rebuilt by this reader


def _set_email(username: str, address: str) -> None:
    """A change to a profile, made by another client."""
    call(
        "UpdateItem",
        Key=serialize({"PK": f"USER#{username}", "SK": "#PROFILE"}),
        UpdateExpression="SET email = :email",
        ExpressionAttributeValues=serialize({":email": address}),
    )


def test_a_cached_profile_follows_an_outside_change_but_a_fence_stays(follower):
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    users.create_user("kim", None, "pass-word-9")
    assert users.get_by_natural_key("kim").email == ""  # cached now
    profile_key = cache_keys.profile_key("kim")
    cached = primary().get(profile_key)
    follower.catch_up()  # our own sign-up comes back: the profile cached is that one, and kept
    assert primary().get(profile_key) == cached

    _set_email("kim", "kim@example.com")
    follower.catch_up()
    assert users.get_by_natural_key("kim").email == "kim@example.com"

    visitors.fence_profile("kim")
    _set_email("kim", "kim@example.org")
    follower.catch_up()
    assert primary().get(profile_key) == visitors.FENCED


def test_a_restart_resumes_after_its_checkpoint_and_applies_nothing_twice(follower, monkeypatch):
    lab_scripts.create_review(restaurant=FINE_DINING, username="first", rating=3, review="Before the restart.")
    follower.catch_up()

    applied: list[streams.ItemChange] = []
    restarted = stream_follower.StreamFollower(apply=applied.extend, on_gap=pytest.fail)
    restarted.catch_up()
    assert [change for change in applied if not change.is_own_checkpoint] == []

    lab_scripts.create_review(restaurant=FINE_DINING, username="second", rating=4, review="After the restart.")
    restarted.catch_up()
    assert sorted(c.pk for c in applied if not c.is_own_checkpoint) == [f"REST#{FINE_DINING}", "USER#second"]


def test_our_checkpoint_writes_do_not_feed_themselves(follower):
    lab_scripts.create_review(restaurant=FINE_DINING, username="labuser", rating=3, review="One write.")
    with count_requests() as requests:
        passes = follower.catch_up()
    assert requests["PutItem"] == 1  # one checkpoint, whose own record is not checkpointed again
    assert passes <= 3
    with count_requests() as requests:
        assert follower.catch_up() == 1
    assert requests == {"GetRecords": 1}


def test_a_redis_outage_loses_no_record_moves_no_checkpoint_and_ends_when_redis_answers(
    follower, fake_redis, fake_clock
):
    _summary(dynamodb_requests=1)
    stream = streams.table_stream()
    saved = streams.checkpoints(stream)
    fake_redis.connected = False
    lab_scripts.create_review(restaurant=FINE_DINING, username="labuser", rating=5, review="Written in the dark.")

    with pytest.raises(CacheDown):
        follower.poll()
    assert streams.checkpoints(stream) == saved
    with pytest.raises(CacheDown):  # still down: nothing applied, nothing lost
        follower.poll()

    fake_redis.connected = True  # back, within the circuit's interval: applied at once all the same
    assert connection.circuit.state.value == "open"
    follower.catch_up()
    assert streams.checkpoints(stream) != saved
    # two Queries: the lab script's review sorts before the restaurant
    assert _summary(dynamodb_requests=2).latest_reviews[0].review == "Written in the dark."


def test_a_consumer_restarted_during_a_redis_outage_reads_the_record_again(follower, fake_redis):
    lab_scripts.create_review(restaurant=FINE_DINING, username="labuser", rating=5, review="Written in the dark.")
    fake_redis.connected = False
    with pytest.raises(CacheDown):
        follower.poll()

    applied: list[streams.ItemChange] = []
    stream_follower.StreamFollower(apply=applied.extend, on_gap=pytest.fail).catch_up()
    assert "USER#labuser" in [change.pk for change in applied]


def test_the_lambda_handler_applies_a_stream_event(lab_table, client):
    from reviews_site import stream_lambda

    client.get(DETAIL)
    review_id = lab_scripts.create_review(restaurant=FINE_DINING, username="labuser", rating=5, review="Via Lambda.")
    review = call("GetItem", Key=serialize({"PK": "USER#labuser", "SK": f"REST#{FINE_DINING}"}))["Item"]
    event = {
        "Records": [
            {
                "eventName": "INSERT",
                "eventSource": "aws:dynamodb",
                "dynamodb": {
                    "ApproximateCreationDateTime": 1_790_000_000,
                    "Keys": {"PK": review["PK"], "SK": review["SK"]},
                    "NewImage": review,
                    "SequenceNumber": "111",
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                },
            }
        ]
    }

    assert stream_lambda.handler(event, None) == {"batchItemFailures": []}
    assert client.get(DETAIL)["X-Cache"] == "MISS"
    assert summaries.restaurant_summary(FINE_DINING).latest_reviews[0].id == review_id


def test_cache_keys_of_a_batch_are_retired_once(follower):
    """A batch with many changes to one restaurant costs that restaurant's
    retirement once (the first start replays thousands of records)."""
    for number in range(5):
        lab_scripts.create_review(restaurant=FINE_DINING, username=f"user{number}", rating=4, review="Same place.")
    generation = cache_keys.generation_key(cache_keys.restaurant_tag(FINE_DINING))
    before = int(primary().get(generation) or 0)
    follower.catch_up()
    assert int(primary().get(generation)) - before == 2  # the summary's drop and the pages' retirement
