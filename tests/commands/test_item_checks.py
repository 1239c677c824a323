"""item_checks.item_problem refuses what DynamoDB refuses, and no more, so a
load checked line by line never stops halfway through a BatchWriteItem; and
load_items / import_table check the whole file before writing anything."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from restaurants.dynamo import item_keys
from restaurants.dynamo.client import call
from restaurants.dynamo.errors import Rejected
from restaurants.dynamo.item_checks import item_problem
from restaurants.dynamo.schema import scan_typed_items
from tests.conftest import FIXTURE_LAB_ITEMS


def nested(kind: str, depth: int) -> dict:
    value = {"S": "x"}
    for _ in range(depth):
        value = {"L": [value]} if kind == "L" else {"M": {"k": value}}
    return value


KEY = {"PK": {"S": "USER#checks"}, "SK": {"S": "#PROFILE"}}
ACCEPTED = {
    "plus sign": {"a": {"N": "+1"}},
    "exponent": {"a": {"N": "1E+5"}},
    "negative zero": {"a": {"N": "-0"}},
    "leading point": {"a": {"N": ".5"}},
    "trailing point": {"a": {"N": "5."}},
    "38 digits": {"a": {"N": "1" * 38}},
    "38 significant digits and a zero": {"a": {"N": "1" * 38 + "0"}},
    "largest": {"a": {"N": "9.9999999999999999999999999999999999999E+125"}},
    "smallest": {"a": {"N": "1E-130"}},
    "empty string in a set": {"a": {"SS": [""]}},
    "empty binary": {"a": {"B": b""}},
    "empty binary in a set": {"a": {"BS": [b""]}},
    "empty string": {"a": {"S": ""}},
    "31 lists deep": {"a": nested("L", 31)},
    "31 maps deep": {"a": nested("M", 31)},
    "empty list and map": {"a": {"L": []}, "b": {"M": {}}},
    "index key at its limit": {"GSI1SK": {"S": "x" * item_keys.SORT_KEY_MAX_BYTES}},
}
REFUSED = {
    "space before a number": {"a": {"N": " 1"}},
    "space after a number": {"a": {"N": "1 "}},
    "NaN": {"a": {"N": "NaN"}},
    "Infinity": {"a": {"N": "Infinity"}},
    "hex": {"a": {"N": "0x10"}},
    "underscore": {"a": {"N": "1_000"}},
    "empty number": {"a": {"N": ""}},
    "39 digits": {"a": {"N": "1" * 39}},
    "39 digits with a point": {"a": {"N": "1" * 38 + ".1"}},
    "too large": {"a": {"N": "1E+126"}},
    "too small": {"a": {"N": "1E-131"}},
    "1 and 1.0 in a number set": {"a": {"NS": ["1", "1.0"]}},
    "0 and -0 in a number set": {"a": {"NS": ["0", "-0"]}},
    "a string twice in a set": {"a": {"SS": ["a", "a"]}},
    "bytes twice in a set": {"a": {"BS": [b"a", b"a"]}},
    "empty set": {"a": {"SS": []}},
    "NULL false": {"a": {"NULL": False}},
    "empty map key": {"a": {"M": {"": {"S": "x"}}}},
    "empty attribute name": {"": {"S": "x"}},
    "32 lists deep": {"a": nested("L", 32)},
    "32 maps deep": {"a": nested("M", 32)},
    "index key of another type": {"GSI1PK": {"N": "1"}},
    "empty index key": {"GSI2SK": {"S": ""}},
    "index sort key past 1024 bytes": {"GSI1SK": {"S": "x" * (item_keys.SORT_KEY_MAX_BYTES + 1)}},
    "empty sort key": {"SK": {"S": ""}},
    "partition key past 2048 bytes": {"PK": {"S": "USER#" + "x" * item_keys.PARTITION_KEY_MAX_BYTES}},
}


@pytest.mark.parametrize("case", ACCEPTED)
def test_what_dynamodb_takes_passes_the_checks(table, case):
    item = {**KEY, **ACCEPTED[case]}
    assert item_problem(item) is None
    call("PutItem", Item=item)


@pytest.mark.parametrize("case", REFUSED)
def test_what_dynamodb_refuses_is_refused_before_writing(table, aws, case):
    item = {**KEY, **REFUSED[case]}
    assert item_problem(item) is not None
    if aws == "dynamodb-local":  # moto lets some of these through: DynamoDB's own word is DynamoDB Local's
        with pytest.raises(Rejected):
            call("PutItem", Item=item)


# --- The commands: every line checked before the first write ----------------------

GOOD = '{"PK": "USER#kim", "SK": "#PROFILE", "email": "kim@example.com"}'
RESTAURANT = '{"PK": "REST#%s", "SK": "REST#%s", "name": "%s", "cuisine": "Thai"}'
BAD_LINES = {
    "not JSON": ("{nope", "not valid JSON"),
    "not an object": ("[1, 2]", "needs string PK and SK"),
    "no PK": ('{"SK": "x"}', "needs string PK and SK"),
    "a number as PK": ('{"PK": 1, "SK": "x"}', "needs string PK and SK"),
    "a name with no URL": (RESTAURANT % (("/" * 67,) * 3), "Too long for a web address"),
    "a name with a trailing space": (RESTAURANT % (("Thai ",) * 3), "start or end with a space"),
    "a name that is not its key": ('{"PK": "REST#A", "SK": "REST#A", "name": "B"}', "must be keyed 'REST#B'"),
    "a name that is a number": ('{"PK": "REST#1", "SK": "REST#1", "name": 1}', "needs a string name"),
    "a review of a bad name": ('{"PK": "USER#kim", "SK": "REST#Thai\\tHouse", "rating": 5}', "U+0009"),
    "a lone surrogate": ('{"PK": "USER#\\ud800", "SK": "#PROFILE"}', "not valid UTF-8"),
    "39 digits in plain JSON": ('{"PK": "USER#a", "SK": "#PROFILE", "n": %s}' % ("9" * 39), "38 significant"),
    "NaN in plain JSON": ('{"PK": "USER#a", "SK": "#PROFILE", "n": NaN}', "cannot hold"),
    "a typed line of an unknown type": ('{"Item": {"PK": {"S": "USER#a"}, "SK": {"X": "y"}}}', "unknown type"),
    "a typed line with bad base64": ('{"Item": {"PK": {"S": "USER#a"}, "SK": {"S": "b"}, "b": {"B": "!"}}}', "base64"),
    "a typed number set with a repeat": (
        '{"Item": {"PK": {"S": "USER#a"}, "SK": {"S": "b"}, "n": {"NS": ["1", "1.0"]}}}',
        "same value twice",
    ),
    "a typed index key of another type": (
        '{"Item": {"PK": {"S": "USER#a"}, "SK": {"S": "b"}, "GSI1PK": {"N": "1"}}}',
        "GSI1PK is a key attribute",
    ),
}


@pytest.mark.parametrize("case", BAD_LINES)
def test_a_file_with_one_bad_line_writes_nothing_and_names_the_line(table, tmp_path, case):
    line, reason = BAD_LINES[case]
    path = tmp_path / "items.jsonl"
    path.write_text(f"{GOOD}\n\n{line}\n{GOOD.replace('kim', 'lee')}\n", encoding="utf-8")

    with pytest.raises(CommandError) as refused:
        call_command("load_items", str(path), verbosity=0)

    message = str(refused.value)
    assert "1 of 3 lines cannot be written, so nothing was written" in message
    assert "line 3: " in message and reason in message, message
    assert list(scan_typed_items()) == []


def test_a_line_that_is_not_utf8_is_named_too(table, tmp_path):
    path = tmp_path / "items.jsonl"
    path.write_bytes(GOOD.encode() + b'\n{"PK": "USER#\xff", "SK": "#PROFILE"}\n')

    with pytest.raises(CommandError, match=r"line 2: not UTF-8"):
        call_command("import_table", str(path), verbosity=0)
    assert list(scan_typed_items()) == []


def test_skip_invalid_writes_the_other_items_and_counts_the_skipped(table, tmp_path, capsys):
    path = tmp_path / "items.jsonl"
    lab = FIXTURE_LAB_ITEMS.read_text(encoding="utf-8")
    path.write_text(lab + RESTAURANT % (("/" * 67,) * 3) + "\n" + "{nope\n", encoding="utf-8")

    call_command("load_items", str(path), skip_invalid=True, verbosity=0)

    output = capsys.readouterr()
    assert "Loaded 261 items" in output.out and "skipped 2 invalid lines" in output.out
    assert "line 262: restaurant name" in output.err and "line 263: not valid JSON" in output.err
    assert len([item for item in scan_typed_items() if item["PK"]["S"] != "META"]) == 261
