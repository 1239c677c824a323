"""BatchWriteItem's UnprocessedItems are sent again with capped backoff, and a
batch DynamoDB never takes fails after the last attempt without one more pause."""

import pytest

from restaurants import waiting
from restaurants.dynamo import bulk
from tests.fake_clock import FakeClock

ITEM = {"PK": {"S": "REST#Ada"}, "SK": {"S": "REST#Ada"}}
UNPROCESSED = {"UnprocessedItems": {"reviews": [{"PutRequest": {"Item": ITEM}}]}}


@pytest.fixture
def pauses(monkeypatch) -> list[float]:
    clock = FakeClock()
    slept: list[float] = []
    monkeypatch.setattr(clock, "sleep", slept.append)
    monkeypatch.setattr(waiting, "source", clock)
    monkeypatch.setattr(bulk, "table_name", lambda: "reviews")
    return slept


def answering(monkeypatch, answers: list[dict]) -> list[dict]:
    sent: list[dict] = []

    def call(operation: str, **params) -> dict:
        sent.append(params["RequestItems"])
        return answers.pop(0)

    monkeypatch.setattr(bulk, "call", call)
    return sent


def test_unprocessed_items_are_sent_again_after_growing_pauses(monkeypatch, pauses):
    sent = answering(monkeypatch, [UNPROCESSED, UNPROCESSED, {}])

    assert bulk._write_batch([ITEM]) == 1
    assert len(sent) == 3 and sent[1] == UNPROCESSED["UnprocessedItems"]
    assert pauses == [0.05, 0.1]


def test_a_batch_never_taken_fails_after_the_last_attempt_with_capped_pauses(monkeypatch, pauses):
    sent = answering(monkeypatch, [UNPROCESSED] * bulk.BATCH_ATTEMPTS)

    with pytest.raises(RuntimeError, match=f"after {bulk.BATCH_ATTEMPTS} attempts"):
        bulk._write_batch([ITEM])
    assert len(sent) == bulk.BATCH_ATTEMPTS
    assert len(pauses) == bulk.BATCH_ATTEMPTS - 1 and max(pauses) == 2
