"""Opaque pagination cursors.

A cursor is DynamoDB's LastEvaluatedKey, signed with the secret key and bound
to the list it came from, so a visitor can neither forge a key nor replay a
cursor from one restaurant's reviews on another's.
"""

from django.core import signing

from .errors import InvalidCursor


def encode_cursor(last_evaluated_key: dict | None, *, scope: str) -> str | None:
    if not last_evaluated_key:
        return None
    return signing.dumps(last_evaluated_key, salt=f"cursor:{scope}", compress=True)


def decode_cursor(cursor: str | None, *, scope: str) -> dict | None:
    if not cursor:
        return None
    try:
        key = signing.loads(cursor, salt=f"cursor:{scope}")
    except (signing.BadSignature, ValueError, UnicodeDecodeError) as error:
        raise InvalidCursor("This page link is not valid any more.") from error
    if not isinstance(key, dict):
        raise InvalidCursor("This page link is not valid any more.")
    return key
