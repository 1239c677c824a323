"""A URL converter for restaurant and user names.

Names may hold any character, ``/`` and ``%`` included. How a name becomes a
path segment, and how long that segment may be, is decided with the name rule
(``restaurants.dynamo.names``), so a name the rule accepts always has a URL
and a URL this converter matches never builds a key past DynamoDB's limits.
"""

from django.urls import register_converter

from .names import URL_SEGMENT_MAX_LENGTH, name_from_url_segment, name_to_url_segment


class NameConverter:
    regex = f"[^/]{{1,{URL_SEGMENT_MAX_LENGTH}}}"

    def to_python(self, value: str) -> str:
        return name_from_url_segment(value)

    def to_url(self, value: str) -> str:
        return name_to_url_segment(value)


register_converter(NameConverter, "name")
