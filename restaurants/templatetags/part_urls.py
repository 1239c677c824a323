"""``{% part_url "restaurants:user" user.username %}``: ``{% url %}``, remembered.

For the visitor parts of a page (``visitor_parts``), which are rendered on
every logged-in view while the rest of the page comes from its cached shell:
there, Django's ``reverse`` was the largest single cost of the render (about
20 µs a URL, three URLs a view). The answer depends only on the view, its
arguments, the URLconf and the script prefix, so it is kept per process for
the most asked (a flood of distinct arguments only evicts the oldest).
Elsewhere a template is rendered once per cached page: ``{% url %}`` is fine.
"""

import functools

from django import template
from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

register = template.Library()


@register.simple_tag
def part_url(view_name: str, *args) -> str:
    return _reverse(view_name, args, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)


@functools.lru_cache(maxsize=4096)
def _reverse(view_name: str, args: tuple, script_prefix: str, urlconf: str) -> str:
    # ``reverse`` reads the script prefix and URLconf of this thread, which are
    # the ones in the key; both are in the key so no other request's can answer.
    return reverse(view_name, args=args, urlconf=urlconf)
