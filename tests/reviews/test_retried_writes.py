"""A write whose answer was lost and that its author sends again: DynamoDB Local
applies a repeated ClientRequestToken once, moto re-applies it (and the failed
condition is then recognised as the author's own write). Either way the author is
told the truth, and counters move once. Transactions cancelled by a conflicting
one are retried, with the error body DynamoDB sends."""

import contextlib
import re

import pytest
from botocore.awsrequest import AWSResponse
from django.contrib.auth import get_user_model
from django.urls import reverse

from restaurants import services, waiting
from restaurants.dynamo import client as dynamo_client
from restaurants.dynamo import reads, writes
from restaurants.dynamo.schema import scan_items
from tests.fake_clock import FakeClock

User = get_user_model()
MEXICAN = "AnyCompany Mexican"
DETAIL = reverse("restaurants:detail", args=[MEXICAN])
POST = reverse("restaurants:review_create", args=[MEXICAN])
EDIT = reverse("restaurants:review_edit", args=[MEXICAN])
DELETE = reverse("restaurants:review_delete", args=[MEXICAN])


@pytest.fixture
def kim(client, lab_table):
    User.objects.create_user("kim", None, "pass-word-9")
    client.login(username="kim", password="pass-word-9")
    return client


def submission_on(client, url: str) -> str:
    return re.search(r'name="submission" value="([^"]+)"', client.get(url).content.decode()).group(1)


def kims_reviews() -> list[dict]:
    return [item for item in scan_items() if item["PK"] == "USER#kim" and item["SK"] != "#PROFILE"]


def stars() -> tuple[int, ...]:
    counts = reads.restaurant_get(name=MEXICAN, consistent=True).stars
    return (counts.five, counts.four, counts.three, counts.two, counts.one)


def test_posting_the_same_form_twice_publishes_one_review_and_says_so_both_times(kim):
    before = stars()
    form = {"submission": submission_on(kim, DETAIL), "rating": 5, "review": "Posted twice."}
    first = kim.post(POST, form)
    again = kim.post(POST, form, follow=True)
    assert first.status_code == 302
    assert b"Thank you! Your review is published." in again.content
    assert b"already reviewed" not in again.content
    assert [review["review"] for review in kims_reviews()] == ["Posted twice."]
    assert stars() == (before[0] + 1, *before[1:])


def test_another_form_for_a_restaurant_already_reviewed_is_still_refused(kim):
    kim.post(POST, {"submission": submission_on(kim, DETAIL), "rating": 5, "review": "First."})
    other = {"submission": services.submission_new(), "rating": 1, "review": "Second."}
    answer = kim.post(POST, other, follow=True)
    assert b"already reviewed" in answer.content
    assert [review["review"] for review in kims_reviews()] == ["First."]


def test_saving_the_same_edit_twice_is_two_successes_and_one_change(kim):
    kim.post(POST, {"submission": submission_on(kim, DETAIL), "rating": 2, "review": "Meh."})
    before = stars()
    form = {"submission": submission_on(kim, EDIT), "rating": 4, "review": "Better on a second visit."}
    assert kim.post(EDIT, form).status_code == 302
    again = kim.post(EDIT, form, follow=True)
    assert b"Your review is updated." in again.content and b"changed in another window" not in again.content
    assert [(r["rating"], r["review"]) for r in kims_reviews()] == [(4, "Better on a second visit.")]
    assert stars() == (before[0], before[1] + 1, before[2], before[3] - 1, before[4])


def test_deleting_twice_is_two_successes(kim):
    kim.post(POST, {"submission": submission_on(kim, DETAIL), "rating": 3, "review": "Gone soon."})
    before = stars()
    form = {"submission": submission_on(kim, DELETE)}
    assert kim.post(DELETE, form).status_code == 302
    again = kim.post(DELETE, form, follow=True)
    assert again.status_code == 200 and b"Your review is deleted." in again.content
    assert kims_reviews() == []
    assert stars() == (before[0], before[1], before[2] - 1, *before[3:])


def test_a_forged_submission_is_just_a_new_write(kim):
    answer = kim.post(POST, {"submission": "0" * 40, "rating": 5, "review": "Forged token."})
    assert answer.status_code == 302
    [review] = kims_reviews()
    assert review["id"] != "0" * 40


# --- TransactionConflict, as DynamoDB answers it --------------------------------


def conflicts(times: int):
    """A before-call hook answering TransactWriteItems ``times`` times with
    DynamoDB's TransactionCanceledException for a conflict, then letting it through."""
    left = {"count": times}

    def answer(model, params, **kwargs):
        if left["count"] == 0:
            return None
        left["count"] -= 1
        body = {
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons "
            "[TransactionConflict, None]",
            "CancellationReasons": [
                {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"},
                {"Code": "None"},
            ],
        }
        response = AWSResponse("https://dynamodb", 400, {}, None)
        return response, {"Error": {"Code": "TransactionCanceledException", "Message": body["Message"]}, **body}

    return answer


@contextlib.contextmanager
def transactions_conflicting(times: int):
    events = dynamo_client.get_client().meta.events
    events.register("before-call.dynamodb.TransactWriteItems", conflicts(times), unique_id="conflicts")
    try:
        yield
    finally:
        events.unregister("before-call.dynamodb.TransactWriteItems", unique_id="conflicts")


@pytest.fixture
def no_backoff_sleep(monkeypatch):
    """The pauses between attempts, recorded by a fake clock instead of slept."""
    clock = FakeClock()
    slept: list[float] = []
    monkeypatch.setattr(clock, "sleep", slept.append)
    monkeypatch.setattr(waiting, "source", clock)
    return slept


def test_a_post_that_conflicts_a_few_times_is_retried_and_published(kim, no_backoff_sleep):
    form = {"submission": submission_on(kim, DETAIL), "rating": 4, "review": "Busy night."}
    with transactions_conflicting(2):
        answer = kim.post(POST, form)
    assert answer.status_code == 302
    assert [review["review"] for review in kims_reviews()] == ["Busy night."]
    assert len(no_backoff_sleep) == 2 and all(0 <= pause <= 0.2 for pause in no_backoff_sleep)


def test_a_post_that_keeps_conflicting_is_a_503_that_keeps_the_text(kim, no_backoff_sleep):
    form = {"submission": submission_on(kim, DETAIL), "rating": 4, "review": "Keep my words."}
    with transactions_conflicting(10):
        answer = kim.post(POST, form)
    assert answer.status_code == 503
    assert b"Keep my words." in answer.content
    assert kims_reviews() == []
    assert len(no_backoff_sleep) == writes.CONFLICT_ATTEMPTS - 1
