"""Whether DynamoDB, and the site, can take an item, asked before a bulk write.

``load_items`` and ``import_table`` check every line of a file before they
write the first one, so a file with one bad item stops with that line's
reason and nothing written, instead of a traceback in the middle of a
BatchWriteItem with half the file in the table. The DynamoDB stream consumer
can ask the same question of an item another client wrote.

``item_problem`` takes an item in DynamoDB's typed form (``{"S": ...}``, binary
as bytes) and answers in a sentence, or None. It checks what DynamoDB would
refuse (probed on DynamoDB Local: ``tests/commands/test_item_checks.py``), and
the site's own rules for the items it reads:

- PK and SK, and any index key attribute present, are non-empty strings
  within DynamoDB's key sizes (an index key of another type is refused);
- a restaurant item has a string ``name`` that follows the name rule
  (``names.restaurant_name_problem``) and is keyed ``REST#<name>``; a review's
  restaurant (its SK) follows the rule too, or its author's page could not
  link it;
- numbers: at most 38 significant digits, magnitude from 1E-130 to below
  1E+126, written as DynamoDB reads them (no spaces, NaN or hex);
- sets are not empty and hold no duplicates (``1`` and ``1.0`` are one
  number); NULL is true; attribute names are not empty; containers nest at
  most 31 deep; strings are UTF-8 (no lone surrogates).

Not checked: the 400 KB item size, which DynamoDB still enforces (a batch it
refuses stops the write with DynamoDB's message).
"""

import re
from decimal import Decimal

from . import item_keys
from .names import restaurant_name_problem

MAX_SIGNIFICANT_DIGITS = 38
LARGEST_EXPONENT = 125  # 9.99...E+125 is the largest magnitude
SMALLEST_EXPONENT = -130  # 1E-130 the smallest
MAX_NESTING = 31  # containers inside an attribute's value

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_INDEX_KEYS = {
    f"{index}{part}": limit
    for index in (
        item_keys.REVIEWS_INDEX,
        item_keys.CUISINE_INDEX,
        item_keys.ALL_RESTAURANTS_INDEX,
        item_keys.NAME_SEARCH_INDEX,
    )
    for part, limit in (("PK", item_keys.PARTITION_KEY_MAX_BYTES), ("SK", item_keys.SORT_KEY_MAX_BYTES))
}


class _Refused(ValueError):
    pass


def item_problem(item: dict) -> str | None:
    """Why this typed item cannot be written, or None."""
    try:
        _check_key("PK", item.get("PK"), item_keys.PARTITION_KEY_MAX_BYTES, required=True)
        _check_key("SK", item.get("SK"), item_keys.SORT_KEY_MAX_BYTES, required=True)
        _check_names(item)
        for name, limit in _INDEX_KEYS.items():
            _check_key(name, item.get(name), limit, required=False)
        for name, value in item.items():
            _check_attribute_name(name)
            _check_value(value, name, depth=0)
    except _Refused as refusal:
        return str(refusal)
    return None


def number_problem(text: object) -> str | None:
    """Why DynamoDB would not take ``text`` as a number (an N value), or None."""
    if not isinstance(text, str) or not _NUMBER.fullmatch(text):
        return f"{text!r} is not a number DynamoDB reads"
    try:
        value = Decimal(text)
    except ArithmeticError:  # an exponent past what Python's decimal holds
        return f"{text[:50]} is too large or too small for DynamoDB"
    if value.is_zero():
        return None
    significant = "".join(map(str, value.as_tuple().digits)).rstrip("0")
    if len(significant) > MAX_SIGNIFICANT_DIGITS:
        return f"{text} has {len(significant)} significant digits; DynamoDB keeps {MAX_SIGNIFICANT_DIGITS}"
    if value.adjusted() > LARGEST_EXPONENT:
        return f"{text} is too large for DynamoDB (below 1E+{LARGEST_EXPONENT + 1})"
    if value.adjusted() < SMALLEST_EXPONENT:
        return f"{text} is too small for DynamoDB (at least 1E{SMALLEST_EXPONENT})"
    return None


def _check_key(name: str, value: dict | None, limit: int, *, required: bool) -> None:
    if value is None:
        if required:
            raise _Refused(f"an item needs a string {name}")
        return
    text = value.get("S") if isinstance(value, dict) else None
    if not isinstance(text, str):
        raise _Refused(f"{name} is a key attribute: it must be a string")
    if not text:
        raise _Refused(f"{name} is a key attribute: it cannot be empty")
    size = len(_utf8(text, name))
    if size > limit:
        raise _Refused(f"{name} is {size} bytes; DynamoDB takes at most {limit} in this key")


def _check_names(item: dict) -> None:
    """The name rule, where a name becomes (or is part of) a key."""
    pk, sk = item["PK"]["S"], item["SK"]["S"]
    if item_keys.is_restaurant_item({"PK": pk, "SK": sk}):
        name = item.get("name", {}).get("S")
        if name is None:
            raise _Refused("a restaurant item needs a string name")
        if problem := restaurant_name_problem(name):
            raise _Refused(f"restaurant name {name!r} breaks the name rule: {problem}")
        if pk != item_keys.restaurant_key(name):
            raise _Refused(f"a restaurant named {name!r} must be keyed {item_keys.restaurant_key(name)!r}, not {pk!r}")
    elif pk.startswith(item_keys.USER_PREFIX) and sk.startswith(item_keys.REST_PREFIX):
        restaurant = sk.removeprefix(item_keys.REST_PREFIX)
        if problem := restaurant_name_problem(restaurant):
            raise _Refused(f"a review of {restaurant!r}, a name that breaks the name rule: {problem}")


def _check_attribute_name(name: object) -> None:
    if not isinstance(name, str) or not name:
        raise _Refused("attribute names cannot be empty")
    _utf8(name, "an attribute name")


def _check_value(value: dict, where: str, *, depth: int) -> None:
    (kind, content), *_ = value.items()
    if kind == "S":
        _utf8(content, where)
    elif kind == "N":
        if problem := number_problem(content):
            raise _Refused(f"{where}: {problem}")
    elif kind == "NULL" and content is not True:
        raise _Refused(f"{where}: a NULL value must be true")
    elif kind in ("SS", "NS", "BS"):
        _check_set(kind, content, where)
    elif kind in ("M", "L"):
        if depth == MAX_NESTING:
            raise _Refused(f"{where}: nested more than {MAX_NESTING} deep")
        children = content.items() if kind == "M" else enumerate(content)
        for key, child in children:
            if kind == "M":
                _check_attribute_name(key)
            _check_value(child, f"{where}.{key}" if kind == "M" else f"{where}[{key}]", depth=depth + 1)


def _check_set(kind: str, elements: list, where: str) -> None:
    if not elements:
        raise _Refused(f"{where}: a set cannot be empty")
    if kind == "SS":
        for element in elements:
            _utf8(element, where)
        distinct = set(elements)
    elif kind == "NS":
        for element in elements:
            if problem := number_problem(element):
                raise _Refused(f"{where}: {problem}")
        distinct = {Decimal(element) for element in elements}  # 1 and 1.0 are one number
    else:
        distinct = set(elements)
    if len(distinct) != len(elements):
        raise _Refused(f"{where}: a set cannot hold the same value twice")


def _utf8(text: str, where: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise _Refused(f"{where}: not valid UTF-8 ({error.reason}: {text[error.start : error.end]!r})") from error
