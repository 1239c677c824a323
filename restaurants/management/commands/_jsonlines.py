"""Reading items from JSON lines, one item a line, in either of two forms:

- plain JSON, the lab's items.json (``{"PK": "REST#Thai", "five_stars": 3}``):
  numbers are read as decimals, never floats, and our index attributes are
  added to restaurant items (``bulk.typed_lab_item``);
- DynamoDB's typed JSON, what ``export_table`` writes
  (``{"Item": {"PK": {"S": "REST#Thai"}}}``, ``restaurants.dynamo.typed_json``):
  written back exactly as it is.

Every line becomes a typed item or the reason it cannot be written
(``item_checks.item_problem``), so the commands can check a whole file before
they write anything.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.core.management.base import CommandError

from restaurants.dynamo.bulk import typed_lab_item
from restaurants.dynamo.item_checks import item_problem
from restaurants.dynamo.typed_json import NotTypedJSON, is_typed_document, item_from_json


@dataclass(frozen=True)
class Line:
    number: int
    item: dict | None  # typed, ready to write; None when there is a problem
    problem: str | None = None


def read_lines(path: str) -> Iterator[Line]:
    """Every non-blank line of ``path``, parsed and checked."""
    try:
        handle = Path(path).open("rb")  # bytes: a line that is not UTF-8 is that line's problem
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror}") from error
    with handle:
        for number, raw in enumerate(handle, start=1):
            if raw.strip():
                yield Line(number, *_parse(raw))


def _parse(raw: bytes) -> tuple[dict | None, str | None]:
    try:
        document = json.loads(raw.decode("utf-8"), parse_float=Decimal)
    except UnicodeDecodeError as error:
        return None, f"not UTF-8 ({error.reason} at byte {error.start})"
    except json.JSONDecodeError as error:
        return None, f"not valid JSON ({error.msg})"
    if is_typed_document(document):
        try:
            item = item_from_json(document)
        except NotTypedJSON as error:
            return None, f"not a typed item: {error}"
    elif isinstance(document, dict) and isinstance(document.get("PK"), str) and isinstance(document.get("SK"), str):
        try:
            item = typed_lab_item(document)
        except ArithmeticError:
            return None, "a number DynamoDB cannot hold (more than 38 significant digits, or out of range)"
        except (TypeError, ValueError) as error:
            return None, f"a value DynamoDB cannot hold ({error})"
    else:
        return None, 'an item needs string PK and SK attributes (or is {"Item": ...} in typed JSON)'
    problem = item_problem(item)
    return (None, problem) if problem else (item, None)
