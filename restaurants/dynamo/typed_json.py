"""Items as DynamoDB's own typed JSON: the backup's format.

    {"Item": {"PK": {"S": "REST#Thai"}, "five_stars": {"N": "3"}, "logo": {"B": "iVBORw0K..."}}}

One item a line, each the form the AWS CLI prints and DynamoDB's export to S3
writes (``DYNAMODB_JSON``). Unlike plain JSON it loses nothing DynamoDB can
hold: numbers stay DynamoDB's decimal strings (38 significant digits,
exponents from -130 to +125, which a float cannot carry), binary values are
base64, string/number/binary sets stay sets and lists stay lists, and an empty
string stays a string. Items read from DynamoDB are turned into this form and
back without ever passing through Python values (``items.deserialize`` turns
numbers into int/float and sets into lists for the site's own use).

Only the shape is checked here (one known type per value, JSON types that fit
it, valid base64). Whether DynamoDB would take the item is
``item_checks.item_problem``'s question.
"""

import base64
import binascii

SCALAR_TYPES = {"S": str, "N": str, "BOOL": bool, "NULL": bool}


class NotTypedJSON(ValueError):
    """A document is not an item in DynamoDB's typed JSON; the message says where."""


def is_typed_document(document: object) -> bool:
    """True for ``{"Item": {...}}``. A plain item (the lab's items.json) needs
    PK and SK, so it is never a document with the single attribute "Item"."""
    return isinstance(document, dict) and set(document) == {"Item"}


def item_to_json(item: dict) -> dict:
    """A typed item as DynamoDB's client returns it (binary as bytes) made
    JSON-serialisable: ``{"Item": ...}`` with binary in base64."""
    return {"Item": {name: _value_to_json(value) for name, value in item.items()}}


def item_from_json(document: object) -> dict:
    """The typed item a ``{"Item": ...}`` document holds, binary as bytes, ready
    for DynamoDB's client; ``NotTypedJSON`` naming the first thing wrong."""
    if not is_typed_document(document) or not isinstance(document["Item"], dict):
        raise NotTypedJSON('a typed item is {"Item": {<name>: {<type>: <value>}, ...}}')
    return {name: _value_from_json(value, name) for name, value in document["Item"].items()}


def _value_to_json(value: dict) -> dict:
    (kind, content), *_ = value.items()
    if kind == "B":
        return {"B": _base64(content)}
    if kind == "BS":
        return {"BS": [_base64(element) for element in content]}
    if kind == "M":
        return {"M": {name: _value_to_json(element) for name, element in content.items()}}
    if kind == "L":
        return {"L": [_value_to_json(element) for element in content]}
    return {kind: content}


def _value_from_json(value: object, where: str) -> dict:
    if not isinstance(value, dict) or len(value) != 1:
        raise NotTypedJSON(f'{where}: a value is one {{<type>: <value>}} pair, e.g. {{"S": "text"}}')
    (kind, content), *_ = value.items()
    if kind in SCALAR_TYPES:
        if not isinstance(content, SCALAR_TYPES[kind]):
            raise NotTypedJSON(f"{where}: a {kind} value must be a JSON {SCALAR_TYPES[kind].__name__}")
        return {kind: content}
    if kind == "B":
        return {"B": _bytes(content, where)}
    if kind in ("SS", "NS", "BS"):
        if not isinstance(content, list) or not all(isinstance(element, str) for element in content):
            raise NotTypedJSON(f"{where}: a {kind} value must be a JSON list of strings")
        return {kind: [_bytes(element, where) for element in content] if kind == "BS" else content}
    if kind == "M":
        if not isinstance(content, dict):
            raise NotTypedJSON(f"{where}: an M value must be a JSON object")
        return {"M": {name: _value_from_json(element, f"{where}.{name}") for name, element in content.items()}}
    if kind == "L":
        if not isinstance(content, list):
            raise NotTypedJSON(f"{where}: an L value must be a JSON list")
        return {"L": [_value_from_json(element, f"{where}[{index}]") for index, element in enumerate(content)]}
    raise NotTypedJSON(f"{where}: unknown type {kind!r} (S, N, B, BOOL, NULL, M, L, SS, NS or BS)")


def _base64(content: bytes) -> str:
    return base64.b64encode(content).decode("ascii")


def _bytes(content: object, where: str) -> bytes:
    if not isinstance(content, str):
        raise NotTypedJSON(f"{where}: binary must be a base64 string")
    try:
        return base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError) as error:
        raise NotTypedJSON(f"{where}: not valid base64 ({error})") from error
