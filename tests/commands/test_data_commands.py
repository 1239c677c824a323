import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from restaurants.dynamo import reads
from restaurants.dynamo.entities import STAR_ATTRIBUTES, star_attribute
from restaurants.dynamo.schema import scan_items, scan_typed_items
from tests.conftest import FIXTURE_LAB_ITEMS


def test_load_items_loads_the_lab_file(table):
    call_command("load_items", str(FIXTURE_LAB_ITEMS), verbosity=0)
    summary = reads.restaurant_summary_get(name="AnyCompany Fine Dining")
    assert summary.restaurant.review_count == 27
    assert len(list(scan_items())) == 261 + 1  # the lab's items and our cuisine list


def test_load_items_rejects_a_broken_file_with_the_line_number(table, tmp_path):
    path = tmp_path / "items.jsonl"
    path.write_text('{"PK": "REST#A", "SK": "REST#A"}\nnot json\n')
    with pytest.raises(CommandError, match="line 2"):
        call_command("load_items", str(path), verbosity=0)


def test_load_items_reports_a_missing_file(table, tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("load_items", str(tmp_path / "missing.jsonl"), verbosity=0)


def test_seed_demo_counters_agree_with_the_reviews(table):
    call_command("seed_demo", restaurants=30, users=40, reviews_per_user=5, verbosity=0)
    items = list(scan_items())
    restaurants = {i["name"]: i for i in items if i["PK"] == i["SK"] and i["PK"].startswith("REST#")}
    reviews = [i for i in items if "rating" in i]
    assert len(restaurants) == 30 and len(reviews) == 200
    counted = {name: dict.fromkeys(STAR_ATTRIBUTES, 0) for name in restaurants}
    for review in reviews:
        counted[review["restaurant"]][star_attribute(review["rating"])] += 1
    for name, restaurant in restaurants.items():
        assert {attr: restaurant[attr] for attr in STAR_ATTRIBUTES} == counted[name]


def test_seed_demo_is_deterministic():
    from devtools.demo import demo_items

    assert list(demo_items(restaurants=20, users=10)) == list(demo_items(restaurants=20, users=10))


def test_default_demo_has_the_promised_size():
    from devtools.demo import demo_items

    items = list(demo_items())
    restaurants = [i for i in items if i["PK"].startswith("REST#")]
    assert len(restaurants) >= 200
    assert len({i["cuisine"] for i in restaurants}) >= 12
    assert len({i["username"] for i in items if "rating" in i}) == 2000
    assert len([i for i in items if "rating" in i]) == 20000
    assert len([i for i in items if i["SK"] == "#PROFILE"]) == 2000


def test_seed_demo_refuses_more_reviews_per_user_than_restaurants(table):
    with pytest.raises(CommandError, match="restaurants"):
        call_command("seed_demo", restaurants=3, users=2, reviews_per_user=5, verbosity=0)


def test_export_then_import_restores_every_item(table, tmp_path):
    call_command("seed_demo", restaurants=12, users=10, reviews_per_user=3, verbosity=0)
    backup = tmp_path / "backup.jsonl"
    call_command("export_table", str(backup), verbosity=0)
    exported = [json.loads(line)["Item"] for line in backup.read_text().splitlines()]
    assert len(exported) == 12 + 10 + 30  # the derived cuisine list is rebuilt on import

    from restaurants.dynamo.client import call

    call("DeleteTable")
    call_command("create_table", verbosity=0)
    call_command("import_table", str(backup), verbosity=0)
    restored = [item for item in scan_typed_items() if item["PK"]["S"] != "META"]
    by_key = lambda item: (item["PK"]["S"], item["SK"]["S"])  # noqa: E731
    assert sorted(restored, key=by_key) == sorted(exported, key=by_key)
    assert len(reads.cuisine_list()) == 12
