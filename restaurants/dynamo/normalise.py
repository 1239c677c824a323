"""The searchable form of a restaurant name, and of what a visitor types.

Name search is a prefix match on one index (``keys.NAME_SEARCH_INDEX``), so
everything that should not matter is taken out of both sides before they
are compared, by this one function:

- accents and other combining marks: NFKD, then every mark dropped, so "Café"
  is "cafe" (and full-width or ligature forms are their plain letters);
- case: ``casefold`` ("Straße" is "strasse"); a few Latin letters that NFKD
  does not take apart are spelled out ("ø" is "o", "æ" is "ae");
- apostrophes and full stops join what they separate ("Joe's" is "joes",
  "St. John" is "st john"); every other character that is not a letter or a
  digit ("#", "&", "-", "/") separates words; spaces are collapsed;
- a leading "the" and a leading rank such as "#1" (words that people do not
  type first), as long as a word follows: "#1 Café" is "cafe", "The Grill" is
  "grill", but "The" alone stays "the".

The result is at most ``MAX_BYTES`` of UTF-8 (cut at a character), so that
the index's sort key, ``<normalised> #<name>``, stays within DynamoDB's 1,024
bytes for any name the name rule allows (800 bytes at most).

The function is idempotent (the normal form of a normal form is itself), so
the search page can use the normal form as its address: "Café" and "cafe"
are one cached page.
"""

import re
import unicodedata

MAX_BYTES = 200
# The longest search a visitor may type (the search box's maxlength; longer is a 400):
# as long as the longest name, and no shorter than any normal form (at most MAX_BYTES
# bytes, so characters), so the address a search is sent to is never refused.
QUERY_MAX_LENGTH = 200

# Latin letters that are not a base letter plus a combining mark, so NFKD keeps them.
_SPELLED_OUT = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i", "ħ": "h", "ŧ": "t"}
)
_JOINING = re.compile(r"['’‘ʼ`.]")  # apostrophes and full stops: "Joe's" -> "joes"
_WORD = re.compile(r"#?[^\W_]+")  # letters and digits, with the "#" of a rank kept for now
_RANK = re.compile(r"#\d+")
_LEADING_ARTICLE = "the"


def normalised_name(text: str, *, max_bytes: int = MAX_BYTES) -> str:
    """``text`` as name search compares it (see the module's docstring), in at
    most ``max_bytes`` of UTF-8."""
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    folded = "".join(char for char in folded if not unicodedata.category(char).startswith("M"))
    folded = _JOINING.sub("", folded.translate(_SPELLED_OUT))
    words = _WORD.findall(folded)
    while len(words) > 1 and (words[0] == _LEADING_ARTICLE or _RANK.fullmatch(words[0])):
        del words[0]
    return _cut(" ".join(word.lstrip("#") for word in words), max_bytes)


def _cut(normal: str, max_bytes: int) -> str:
    encoded = normal.encode("utf-8")
    if len(encoded) <= max_bytes:
        return normal
    return encoded[: max(max_bytes, 0)].decode("utf-8", errors="ignore").rstrip()
