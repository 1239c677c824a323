"""``{% name_link "restaurants:detail" restaurant.name %}``: a link to the page
about a name, or the name alone when no URL can carry it.

Lists show items other clients wrote too (the lab's scripts, a restore, any
program with the table's credentials), and such an item may hold a name that
breaks the name rule (``restaurants/dynamo/names.py``), e.g. one whose URL form
is longer than the converter allows. ``{% url %}`` would raise NoReverseMatch
and take the whole list down for everyone; this tag shows that one entry
without its link instead, and logs it so an operator can fix the item.
"""

import logging

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

log = logging.getLogger(__name__)
register = template.Library()


@register.simple_tag
def name_link(view_name: str, *names, text=None, css_class: str = "") -> str:
    """``<a href>`` to ``view_name`` for ``names``; its text is ``text``, or
    the last name. Without a URL, a ``<span class="unlinked">`` of the text."""
    text = names[-1] if text is None else text
    try:
        href = reverse(view_name, args=names)
    except NoReverseMatch:
        log.warning("No link to %s for %r: the name cannot be put in a URL (see the name rule).", view_name, names)
        return format_html('<span class="{}">{}</span>', " ".join(filter(None, [css_class, "unlinked"])), text)
    if css_class:
        return format_html('<a class="{}" href="{}">{}</a>', css_class, href, text)
    return format_html('<a href="{}">{}</a>', href, text)
