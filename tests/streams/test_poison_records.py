"""A stream record the consumer cannot apply costs one skip, never the
stream: what its item_keys name is retired, it is counted, logged and kept in the
table for ``follow_stream --replay-skipped``; every later write still reaches
the caches. Outages are still retried, not skipped. (moto's mock and DynamoDB
Local with a stream; fakeredis.)"""

import pytest
from django.core.management import call_command
from django.urls import reverse
from prometheus_client import REGISTRY

from restaurants.dynamo import item_keys, reads, schema, streams
from restaurants.dynamo.client import call
from restaurants.dynamo.errors import Unavailable
from restaurants.dynamo.items import serialize
from tests import lab_scripts

pytestmark = pytest.mark.stream

FINE_DINING = "AnyCompany Fine Dining"
DETAIL = reverse("restaurants:detail", args=[FINE_DINING])


def _skipped_count(outcome: str = "retired") -> float:
    return REGISTRY.get_sample_value("tastebook_stream_records_skipped_total", {"outcome": outcome}) or 0.0


def _put_restaurant(name: str, **attributes) -> None:
    """A restaurant in the lab's shape, written by another client (typed by hand:
    the values need not be what our code expects)."""
    item = {
        "PK": {"S": f"REST#{name}"},
        "SK": {"S": f"REST#{name}"},
        "GSI1PK": {"S": f"REST#{name}"},
        "GSI1SK": {"S": f"REST#{name}"},
        "name": {"S": name},
        "address": {"S": "1 Odd Street"},
        **{stars: {"N": "0"} for stars in lab_scripts.STARS.values()},
        **attributes,
    }
    call("PutItem", Item=item)


def _review_shows_after_one_pass(follower, client, text: str) -> None:
    client.get(DETAIL)
    assert client.get(DETAIL)["X-Cache"] == "HIT"
    lab_scripts.create_review(restaurant=FINE_DINING, username="later", rating=5, review=text)
    follower.catch_up()
    assert text in client.get(DETAIL).content.decode()


def test_an_empty_map_inside_a_map_is_decoded_and_applied(follower, client):
    """DynamoDB Local's stream images carry an empty map as a bare ``{}``."""
    _put_restaurant("Empty Maps", cuisine={"S": "Thai"}, extras={"M": {"hours": {"M": {}}, "tags": {"L": [{"M": {}}]}}})

    _review_shows_after_one_pass(follower, client, "After the empty maps.")
    assert streams.skipped_records() == []
    assert "Empty Maps" in [r.name for r in reads.restaurant_list(cuisine="Thai").items]


def test_dynamodb_locals_bare_empty_maps_decode_as_empty_maps():
    record = {
        "eventName": "INSERT",
        "dynamodb": {
            "Keys": {"PK": {"S": "X"}, "SK": {"S": "Y"}},
            "NewImage": {"PK": {"S": "X"}, "SK": {"S": "Y"}, "e": {}, "m": {"M": {"a": {}, "l": {"L": [{}]}}}},
            "SequenceNumber": "1",
        },
    }
    change = streams.change_from_record(record)
    assert change.unreadable is None
    assert change.new == {"PK": "X", "SK": "Y", "e": {}, "m": {"a": {}, "l": [{}]}}


@pytest.mark.parametrize("cuisine", [{"N": "7"}, {"L": [{"S": "Thai"}, {"S": "Lao"}]}], ids=["number", "list"])
def test_a_restaurant_with_an_odd_cuisine_does_not_stop_later_writes(follower, client, cuisine):
    """The issue's (a) and (b): the consumer retried its batch forever, or
    crashed. The restaurant is applied (its cuisine shown as text: "7",
    "Thai, Lao"), nothing skipped, and the next write by anyone reaches the caches."""
    _put_restaurant("Odd Cuisine", cuisine=cuisine)

    _review_shows_after_one_pass(follower, client, "After the odd cuisine.")
    assert streams.skipped_records() == []
    shown = "7" if "N" in cuisine else "Thai, Lao"
    assert "Odd Cuisine" in [r.name for r in reads.restaurant_list(cuisine=shown).items]


@pytest.fixture
def broken_on(monkeypatch):
    """A bug of tomorrow: our code fails on one item, whatever the reason."""
    names: set[str] = set()
    missing = schema.index_attributes_missing

    def failing(item):
        if item.get("name") in names:
            raise RuntimeError(f"cannot handle {item['name']}")
        return missing(item)

    monkeypatch.setattr(schema, "index_attributes_missing", failing)
    return names


def test_a_record_that_cannot_be_applied_is_skipped_retired_counted_and_kept(follower, client, broken_on):
    poison = "Poison Place"
    broken_on.add(poison)
    lab_scripts.create_restaurant(name=poison, cuisine="Lao", address="1 Lab Street")
    follower.catch_up()  # the restaurant item is skipped...
    poison_page = reverse("restaurants:detail", args=[poison])
    client.get(poison_page)
    assert client.get(poison_page)["X-Cache"] == "HIT"
    before = _skipped_count()

    lab_scripts.create_review(restaurant=poison, username="labuser", rating=4, review="Poisoned.")
    _review_shows_after_one_pass(follower, client, "After the poison.")  # ...and the stream goes on

    # The restaurant's counters changed in a record that could not be applied:
    # its page was retired from the record's item_keys alone.
    page = client.get(poison_page)
    assert page["X-Cache"] == "MISS" and "Poisoned." in page.content.decode()
    assert _skipped_count() == before + 1
    [first, second] = streams.skipped_records()
    assert {first.pk, second.pk} == {f"REST#{poison}"} and first.retired and second.retired
    assert "RuntimeError: cannot handle Poison Place" in second.reason
    assert second.record["dynamodb"]["Keys"]["PK"] == {"S": f"REST#{poison}"}
    assert poison not in [r.name for r in reads.restaurant_list(cuisine="Lao").items]  # never indexed

    broken_on.clear()  # the bug is fixed: the operator replays what was skipped
    call_command("follow_stream", "--replay-skipped")
    assert streams.skipped_records() == []
    assert [r.name for r in reads.restaurant_list(cuisine="Lao").items] == [poison]


def test_a_replay_that_fails_again_keeps_the_record(follower, broken_on, capsys):
    broken_on.add("Still Broken")
    lab_scripts.create_restaurant(name="Still Broken", cuisine="Lao", address="1 Lab Street")
    follower.catch_up()

    call_command("follow_stream", "--replay-skipped")
    assert "failed again, kept: RuntimeError" in capsys.readouterr().out
    assert [s.pk for s in streams.skipped_records()] == ["REST#Still Broken"]
    call_command("follow_stream", "--skipped")
    assert "REST#Still Broken / REST#Still Broken (retired" in capsys.readouterr().out


def test_dynamodb_unavailable_while_applying_is_retried_not_skipped(follower, client, monkeypatch):
    add = schema.add_index_attributes
    failures = []

    def unavailable_once(name, cuisine):
        if not failures:
            failures.append(name)
            raise Unavailable("throttled")
        return add(name, cuisine)

    monkeypatch.setattr(schema, "add_index_attributes", unavailable_once)
    lab_scripts.create_restaurant(name="Lab Noodles", cuisine="Vietnamese", address="1 Lab Street")
    with pytest.raises(Unavailable):
        follower.poll()
    assert streams.skipped_records() == []

    follower.catch_up()
    assert [r.name for r in reads.restaurant_list(cuisine="Vietnamese").items] == ["Lab Noodles"]
    assert streams.skipped_records() == []


def test_the_lambda_skips_a_malformed_record_and_retires_its_restaurant(lab_table, client):
    from reviews_site import stream_lambda

    client.get(DETAIL)
    assert client.get(DETAIL)["X-Cache"] == "HIT"
    restaurant_keys = serialize(item_keys.restaurant_item_keys(FINE_DINING))
    before = _skipped_count()
    event = {
        "Records": [
            {
                "eventName": "MODIFY",
                "eventSource": "aws:dynamodb",
                "dynamodb": {
                    "Keys": restaurant_keys,
                    "NewImage": {**restaurant_keys, "cuisine": {"Q": "no such type"}},
                    "SequenceNumber": "222",
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                },
            }
        ]
    }

    assert stream_lambda.handler(event, None) == {"batchItemFailures": []}
    assert client.get(DETAIL)["X-Cache"] == "MISS"
    assert _skipped_count() == before + 1
    [skipped] = streams.skipped_records()
    assert (skipped.sequence, skipped.pk, skipped.retired) == ("222", f"REST#{FINE_DINING}", True)
    assert "could not be decoded" in skipped.reason

    call_command("follow_stream", "--replay-skipped")  # replayed from the item as the table holds it
    assert streams.skipped_records() == []
