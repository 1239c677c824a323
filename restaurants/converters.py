"""A URL converter for restaurant and user names.

Names may hold any character, ``/`` and ``%`` included. Django decodes the path
once before matching, so ``/`` and ``%`` are escaped once more here and
unescaped after matching; every other character is left to Django's quoting.
"""

from urllib.parse import unquote

from django.urls import register_converter


class NameConverter:
    regex = "[^/]+"

    def to_python(self, value: str) -> str:
        return unquote(value)

    def to_url(self, value: str) -> str:
        return value.replace("%", "%25").replace("/", "%2F")


register_converter(NameConverter, "name")
