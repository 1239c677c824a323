"""upgrade_table finds what the lab's scripts left wrong, and --repair mends it
(--dry-run first: it says what it would do and changes nothing)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from restaurants.dynamo import reads, repair
from restaurants.dynamo.client import call, count_requests
from restaurants.dynamo.entities import StarCounts
from restaurants.dynamo.schema import describe_table, scan_items, survey_table
from tests import lab_scripts
from tests.conftest import lab_items

FINE_DINING = "AnyCompany Fine Dining"
THAI = "Example Corp. Thai"


def _upgrade(*options: str) -> str:
    out = StringIO()
    call_command("upgrade_table", *options, stdout=out)
    return out.getvalue()


def _items():
    return {(item["PK"], item["SK"]): item for item in scan_items()}


@pytest.fixture
def lab_scripts_ran(lab_table):
    """A review by the lab's create_review.py, then its bulk_load_table.py run
    again: the counters of items.json are back, our index attributes gone."""
    review_id = lab_scripts.create_review(restaurant=THAI, username="labuser", rating=5, review="Script review.")
    lab_scripts.bulk_load(lab_items())
    return review_id


@pytest.mark.stream  # a table as create_table makes it, stream included
def test_the_lab_file_needs_no_repair(lab_table):
    output = _upgrade()
    assert "Needs repair" not in output and "Nothing to do" in output


def test_upgrade_reports_what_needs_repair_and_changes_no_lab_data(lab_scripts_ran):
    before = _items()
    output = _upgrade()
    assert "- added index attributes to 10 restaurants" in output
    assert "- 1 reviews have the lab script's sort key REVIEW#<id>" in output
    assert (
        f"- 1 restaurants have star counters that disagree with their stored reviews and can be recounted: {THAI}"
        in (output)
    )
    assert "--repair --dry-run" in output
    after = _items()
    for key, item in before.items():
        assert {name: after[key][name] for name in item} == item  # only attributes were added


def test_a_dry_run_says_what_it_would_do_and_changes_nothing(lab_scripts_ran):
    review_id = lab_scripts_ran
    before = _items()
    output = _upgrade("--repair", "--dry-run")
    assert "- would add index attributes to 10 restaurants" in output
    assert f"- would rewrite GSI1SK of USER#labuser / REST#{THAI}: REVIEW#{review_id} -> #REVIEW#{review_id}" in output
    assert f"- would recount {THAI}: five_stars 3 -> 4" in output
    assert "Dry run: nothing was changed." in output
    assert _items() == before


def test_repair_rewrites_the_sort_key_and_recounts_the_counters(lab_scripts_ran):
    review_id = lab_scripts_ran
    output = _upgrade("--repair")
    assert f"- rewrote GSI1SK of USER#labuser / REST#{THAI}: REVIEW#{review_id} -> #REVIEW#{review_id}" in output
    assert f"- recounted {THAI}: five_stars 3 -> 4" in output

    with count_requests() as requests:
        summary = reads.restaurant_summary_get(name=THAI)
    assert requests == {"Query": 1}  # back in its place: no fallback Query
    assert summary.latest_reviews[0].id == review_id
    assert summary.restaurant.stars == StarCounts(five=4, four=2, three=2, two=6, one=7)
    assert [r.name for r in reads.restaurant_list(cuisine="Thai").items] == [THAI]
    assert "Nothing to do" in _upgrade() and "Needs repair" not in _upgrade()


def test_a_recount_is_skipped_if_the_counters_moved_since_the_survey(lab_scripts_ran):
    [mismatch] = repair.counter_mismatches(survey_table())
    lab_scripts.create_review(restaurant=THAI, username="another", rating=1, review="Meanwhile.")
    assert repair.counters_recount(mismatch) is False
    assert reads.restaurant_get(name=THAI, consistent=True).stars == StarCounts(3, 2, 2, 6, 8)


def test_a_sort_key_repair_is_skipped_if_the_review_changed_meanwhile(lab_scripts_ran):
    [review] = survey_table().misplaced_reviews
    call(
        "UpdateItem",
        Key={"PK": {"S": review["PK"]}, "SK": {"S": review["SK"]}},
        UpdateExpression="SET GSI1SK = :other",
        ExpressionAttributeValues={":other": {"S": "#REVIEW#fixed-by-someone-else"}},
    )
    assert repair.review_sort_key_repair(review) is False


def test_create_table_enables_the_stream(aws):
    call_command("create_table", verbosity=0)
    assert describe_table()["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}


def test_upgrade_enables_the_stream_of_a_table_without_one(aws, settings):
    call(
        "CreateTable",
        AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name in ("PK", "SK")],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )
    assert "would enable the table's stream (NEW_AND_OLD_IMAGES)" in _upgrade("--dry-run")
    assert "StreamSpecification" not in describe_table() or not describe_table()["StreamSpecification"].get(
        "StreamEnabled"
    )
    assert "would enable expiry on expires_at (sessions)" in _upgrade("--dry-run")
    upgraded = _upgrade()
    assert "- enabled the table's stream (NEW_AND_OLD_IMAGES)" in upgraded
    assert "- enabled expiry on expires_at (sessions)" in upgraded
    assert describe_table()["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert call("DescribeTimeToLive")["TimeToLiveDescription"]["AttributeName"] == "expires_at"
    assert "Nothing to do" in _upgrade()


def test_upgrade_leaves_another_ttl_attribute_alone(aws):
    call_command("create_table", verbosity=0)
    call("UpdateTimeToLive", TimeToLiveSpecification={"AttributeName": "expires_at", "Enabled": False})
    call("UpdateTimeToLive", TimeToLiveSpecification={"AttributeName": "purge_after", "Enabled": True})
    assert "left the table's TTL on purge_after alone" in _upgrade()


def test_upgrade_without_a_table_says_so(aws):
    with pytest.raises(CommandError, match="create_table"):
        _upgrade()


@pytest.fixture
def table_before_name_search(aws):
    """A table of ours from before name search: GSI1-GSI3, restaurants without GSI4's item_keys."""
    from restaurants.dynamo import item_keys, schema
    from restaurants.dynamo.bulk import with_our_attributes
    from restaurants.dynamo.items import serialize

    older = [item_keys.REVIEWS_INDEX, item_keys.CUISINE_INDEX, item_keys.ALL_RESTAURANTS_INDEX]
    call(
        "CreateTable",
        AttributeDefinitions=schema._attribute_definitions(older),
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[schema._index_definition(index) for index in older],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification=schema.STREAM_SPECIFICATION,
    )
    schema.wait_until_active()
    for item in lab_items():
        older_item = {name: value for name, value in with_our_attributes(item).items() if not name.startswith("GSI4")}
        call("PutItem", Item=serialize(older_item))
    schema.add_cuisines({item.get("cuisine", "") for item in lab_items()})


def test_upgrade_adds_name_search_to_a_table_from_before_it(table_before_name_search):
    dry = _upgrade("--dry-run")
    assert "- would add index GSI4" in dry and "- would add index attributes to 10 restaurants" in dry
    assert "GSI4" not in {index["IndexName"] for index in describe_table()["GlobalSecondaryIndexes"]}

    output = _upgrade()

    assert "- added index GSI4" in output and "- added index attributes to 10 restaurants" in output
    stored = _items()[(f"REST#{THAI}", f"REST#{THAI}")]
    assert (stored["GSI4PK"], stored["GSI4SK"]) == ("NAMES", f"example corp thai #{THAI}")
    with count_requests() as requests:
        found = reads.restaurant_name_search(query="EXAMPLE CORP. THAÏ")
    assert [restaurant.name for restaurant in found.items] == [THAI]
    assert requests == {"Query": 1}
    assert "Nothing to do" in _upgrade()


def test_upgrade_makes_the_lab_scripts_restaurants_searchable(lab_table):
    lab_scripts.create_restaurant(name="Lab Crêpes", cuisine="French", address="1 Lab Street")
    assert reads.restaurant_name_search(query="lab crepes").items == []

    assert "- added index attributes to 1 restaurants" in _upgrade()
    assert [restaurant.name for restaurant in reads.restaurant_name_search(query="lab crepes").items] == ["Lab Crêpes"]


@pytest.mark.stream
@pytest.mark.parametrize(("cuisine", "filed"), [(["Thai", 7], "Thai, 7"), (7, "7"), ({"style": "Thai"}, "")])
def test_upgrade_files_a_restaurant_whose_cuisine_is_not_text_under_the_cuisine_its_page_shows(
    lab_table, cuisine, filed
):
    lab_scripts.create_restaurant(name="Odd One", cuisine=cuisine, address="1 Pier")

    _upgrade()

    assert "Odd One" in [restaurant.name for restaurant in reads.restaurant_list(page_size=100).items]
    if filed:
        assert [restaurant.name for restaurant in reads.restaurant_list(cuisine=filed).items] == ["Odd One"]
        assert filed in reads.cuisine_list()
