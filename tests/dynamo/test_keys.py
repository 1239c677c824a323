import datetime as dt

from restaurants.dynamo import item_keys
from restaurants.dynamo.ksuid import KSUID_EPOCH, ksuid_time, new_ksuid


def test_restaurant_item_carries_the_lab_keys_and_ours():
    attributes = item_keys.restaurant_index_attributes("Salt & Smoke", "American")
    assert attributes["PK"] == attributes["SK"] == attributes["GSI1PK"] == attributes["GSI1SK"] == "REST#Salt & Smoke"
    assert attributes["GSI2PK"] == "CUISINE#American"
    assert attributes["GSI3PK"] == "RESTAURANTS"
    assert attributes["GSI2SK"] == attributes["GSI3SK"] == "Salt & Smoke"


def test_review_keys_follow_the_lab_design():
    assert item_keys.review_item_keys(username="kim", restaurant="Zoë's #1", review_id="abc") == {
        "PK": "USER#kim",
        "SK": "REST#Zoë's #1",
        "GSI1PK": "REST#Zoë's #1",
        "GSI1SK": "#REVIEW#abc",
    }


def test_restaurant_sorts_before_its_reviews_in_descending_order():
    restaurant = item_keys.restaurant_key("Thai")
    review = item_keys.review_sort_key("f" * 40)
    assert sorted([review, restaurant], reverse=True) == [restaurant, review]


def test_user_profile_sorts_before_the_users_reviews():
    assert item_keys.PROFILE_SK < item_keys.restaurant_key("!")


def test_ksuid_has_the_labs_form_and_encodes_the_time():
    at = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
    ksuid = new_ksuid(at)
    assert len(ksuid) == 40 and ksuid == ksuid.lower() and int(ksuid, 16) >= 0
    assert int(ksuid[:8], 16) == int(at.timestamp()) - KSUID_EPOCH
    assert ksuid_time(ksuid) == at


def test_lab_ksuid_decodes_to_its_created_at():
    # From the lab's items.json: created_at 2020-03-03T19:42:13.
    assert ksuid_time("0aec65154cd980b02a3bde4609966f95a4c2a242") == dt.datetime(2020, 3, 3, 19, 42, 13, tzinfo=dt.UTC)


def test_new_ksuids_sort_after_every_lab_review(lab_review_ids):
    assert new_ksuid() > max(lab_review_ids)
