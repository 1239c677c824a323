"""The one rule for restaurant names, and how a name travels in a URL.

A restaurant's name is its identity. It is the key of its item (``REST#<name>``
in PK, SK, GSI1PK and GSI1SK), the sort key of both list indexes (GSI2SK,
GSI3SK), part of the key of every review of it (SK, GSI1PK), and one path
segment of every page about it (``/restaurants/<name>/``). It cannot change
later, so whatever would break one of those uses is refused where a name
enters: the admin's forms, ``services.restaurant_create``, ``load_items`` and
``import_table`` (``restaurants.dynamo.item_checks``), and the DynamoDB
stream consumer for items other clients write. They all call
``restaurant_name_problem``; nothing else decides.

The rule (docs/data-model.md, "Restaurant names"), each part for a reason:

- not empty: a URL segment needs a character, and ``REST#`` alone is no name;
- no space (or other whitespace) at either end: forms strip it, so such a
  name could never be typed into the admin again, and it looks like another;
- printable characters only, no Unicode category C: no controls (newline,
  tab, NUL), no invisible format characters (zero-width space, bidi
  overrides), no private-use or unassigned code points, no lone surrogates
  (which UTF-8, and so DynamoDB, cannot hold at all);
- not ``.`` or ``..``: browsers treat those path segments (escaped or not) as
  "this folder" and "the folder above", so the page could not be reached;
- its URL form fits the converter's cap: ``/`` and ``%`` are escaped once more
  than other characters (each then counts 3), and the result is at most
  ``URL_SEGMENT_MAX_LENGTH`` (200) characters;
- ``REST#<name>`` fits a DynamoDB sort key (1,024 UTF-8 bytes). The URL cap
  already ensures it (200 characters of at most 4 bytes), but the key layer
  checks its own limit rather than rely on the web's.
"""

import unicodedata
from urllib.parse import unquote

from . import item_keys

# The longest URL form of a name: ``restaurants.converters`` matches at most this
# many characters, and 200 four-byte characters make an 805-byte sort key.
URL_SEGMENT_MAX_LENGTH = 200

_DOT_SEGMENTS = {".", ".."}


def name_to_url_segment(name: str) -> str:
    """A name as one URL path segment, before Django's own quoting.

    Django decodes the path once before matching it, so ``/`` (which would
    split the segment) and ``%`` (which would be decoded twice) are escaped
    once more here; every other character is left to Django's quoting."""
    return name.replace("%", "%25").replace("/", "%2F")


def name_from_url_segment(segment: str) -> str:
    """The name a matched URL segment stands for (inverse of ``name_to_url_segment``)."""
    return unquote(segment)


def restaurant_name_problem(name: object) -> str | None:
    """Why ``name`` cannot be a restaurant's name, in a sentence for the person
    who chose it; None if it can."""
    if not isinstance(name, str):
        return "A name must be text."
    if not name:
        return "A name cannot be empty."
    if name != name.strip():
        return "A name cannot start or end with a space."
    unprintable = next((char for char in name if unicodedata.category(char).startswith("C")), None)
    if unprintable is not None:
        return (
            "Use printable characters only: no control, invisible or private-use characters "
            f"(found U+{ord(unprintable):04X})."
        )
    if name in _DOT_SEGMENTS:
        return "“.” and “..” cannot be names: browsers read them as a folder in a web address."
    url_length = len(name_to_url_segment(name))
    if url_length > URL_SEGMENT_MAX_LENGTH:
        return (
            f"Too long for a web address: {url_length} characters once escaped (“/” and “%” count 3 each), "
            f"at most {URL_SEGMENT_MAX_LENGTH}."
        )
    key_bytes = len(item_keys.restaurant_key(name).encode("utf-8"))
    if key_bytes > item_keys.SORT_KEY_MAX_BYTES:
        return f"Too long for a DynamoDB key: {key_bytes} bytes, at most {item_keys.SORT_KEY_MAX_BYTES}."
    return None
