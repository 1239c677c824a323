"""A URL converter for restaurant and user names.

Names may hold any character, ``/`` and ``%`` included. Django decodes the path
once before matching, so ``/`` and ``%`` are escaped once more here and
unescaped after matching; every other character is left to Django's quoting.
"""

from urllib.parse import unquote

from django.urls import register_converter


class NameConverter:
    # Bounded so that no URL can build a key past DynamoDB's key-size limit.
    regex = "[^/]{1,200}"  # 4-byte characters: at most 805 bytes of sort key (limit 1024)

    def to_python(self, value: str) -> str:
        return unquote(value)

    def to_url(self, value: str) -> str:
        return value.replace("%", "%25").replace("/", "%2F")


register_converter(NameConverter, "name")
