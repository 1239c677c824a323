"""export_table / import_table keep every item DynamoDB can hold exactly: binary
and binary sets, number and string sets, numbers of 38 digits and extreme
exponents, nested maps and lists, empty strings, NULL and BOOL. Run on moto's
mock and on DynamoDB Local (this folder's conftest)."""

import base64
import json
from decimal import Decimal

from django.core.management import call_command

from restaurants.dynamo import item_keys
from restaurants.dynamo.client import call
from restaurants.dynamo.schema import create_table, scan_typed_items
from tests.conftest import lab_items

EXOTIC = {
    **{name: {"S": value} for name, value in item_keys.user_item_keys("exotic").items()},
    "binary": {"B": bytes(range(256))},
    "empty_binary": {"B": b""},
    "binary_set": {"BS": [b"\x00", b"\xff\xfe", b""]},
    "numbers": {"NS": ["1", "-0.5", "12345678901234567890123456789012345678", "1E+125", "1E-130"]},
    "strings": {"SS": ["a", "", "東京", "\u2028line\u2029\x85"]},
    "digits_38": {"N": "3.1415926535897932384626433832795028841"},
    "huge": {"N": "9.9999999999999999999999999999999999999E+125"},
    "tiny": {"N": "-1E-130"},
    "integer_38": {"N": "-99999999999999999999999999999999999999"},
    "empty_string": {"S": ""},
    "control_text": {"S": "nul\x00 tab\t cr\r lf\n"},
    "null": {"NULL": True},
    "yes": {"BOOL": True},
    "no": {"BOOL": False},
    "empty_list": {"L": []},
    "empty_map": {"M": {}},
    "nested": {
        "M": {
            "list": {"L": [{"N": "1.50"}, {"B": b"\x01"}, {"SS": ["x"]}, {"L": [{"NULL": True}]}, {"S": ""}]},
            "map": {"M": {"deeper": {"M": {"bytes": {"BS": [b"a"]}, "n": {"NS": ["0.000001"]}}}}},
        }
    },
    "deep": {"L": [{"L": [{"L": [{"M": {"k": {"N": "7"}}}]}]}]},
}


def normalized(item: dict) -> dict:
    """Sets have no order: DynamoDB may return their elements in any."""

    def value(typed: dict) -> dict:
        (kind, content), *_ = typed.items()
        if kind == "NS":
            return {kind: sorted(content, key=Decimal)}
        if kind in ("SS", "BS"):
            return {kind: sorted(content)}
        if kind == "M":
            return {kind: {name: value(element) for name, element in content.items()}}
        if kind == "L":
            return {kind: [value(element) for element in content]}
        return typed

    return {name: value(typed) for name, typed in item.items()}


def table_items() -> dict:
    by_key = {}
    for item in scan_typed_items():
        if {"PK": item["PK"]["S"], "SK": item["SK"]["S"]} != item_keys.CUISINES_ITEM_KEY:
            by_key[(item["PK"]["S"], item["SK"]["S"])] = normalized(item)
    return by_key


def test_a_backup_restores_every_item_exactly(lab_table, tmp_path):
    call("PutItem", Item=EXOTIC)
    before = table_items()
    backup = tmp_path / "backup.jsonl"

    call_command("export_table", str(backup), verbosity=0)
    call("DeleteTable")
    create_table()
    call_command("import_table", str(backup), verbosity=0)

    after = table_items()
    assert len(after) == len(lab_items()) + 1
    assert after == before
    assert after[("USER#exotic", "#PROFILE")]["digits_38"] == {"N": "3.1415926535897932384626433832795028841"}


def test_the_backup_is_dynamodbs_typed_json(table, tmp_path):
    call("PutItem", Item=EXOTIC)
    backup = tmp_path / "backup.jsonl"

    call_command("export_table", str(backup), verbosity=0)

    [line] = backup.read_text(encoding="utf-8").splitlines()
    item = json.loads(line)["Item"]
    assert item["PK"] == {"S": "USER#exotic"}
    assert item["binary"] == {"B": base64.b64encode(bytes(range(256))).decode("ascii")}
    assert {Decimal(number) for number in item["numbers"]["NS"]} == {Decimal(n) for n in EXOTIC["numbers"]["NS"]}
    assert set(item["strings"]["SS"]) == {"a", "", "東京", "\u2028line\u2029\x85"}
    assert item["null"] == {"NULL": True} and item["no"] == {"BOOL": False}


def test_plain_json_numbers_are_loaded_as_written_not_as_floats(table, tmp_path):
    path = tmp_path / "items.jsonl"
    path.write_text('{"PK": "USER#pi", "SK": "#PROFILE", "pi": 3.14159265358979323846264338327950288, "n": 1e-100}\n')

    call_command("load_items", str(path), verbosity=0)

    [item] = list(scan_typed_items())
    assert item["pi"] == {"N": "3.14159265358979323846264338327950288"}
    assert Decimal(item["n"]["N"]) == Decimal("1e-100")
