"""``{% part_url %}``: ``{% url %}`` remembered per process, never answering
for another URLconf or script prefix (restaurants/templatetags/part_urls.py)."""

import pytest
from django.template import Context, Template
from django.urls import NoReverseMatch, reverse, set_script_prefix

TAGS = "{% load part_urls %}"


def _both(source: str, **context) -> tuple[str, str]:
    url = Template("{% url " + source + " %}").render(Context(context))
    part_url = Template(TAGS + "{% part_url " + source + " %}").render(Context(context))
    return url, part_url


@pytest.mark.parametrize("name", ["Brick Burgers", "Café & Bar", "O'Neil's <b>"])
def test_it_answers_what_url_answers_escaped_alike(name):
    url, part_url = _both("'restaurants:review_create' name", name=name)
    assert part_url == url
    assert Template(TAGS + "{% part_url 'restaurants:user' 'kim' %}").render(Context()) == reverse(
        "restaurants:user", args=["kim"]
    )


def test_another_script_prefix_gets_its_own_urls():
    plain = Template(TAGS + "{% part_url 'accounts:logout' %}").render(Context())
    set_script_prefix("/tastebook/")
    try:
        prefixed = Template(TAGS + "{% part_url 'accounts:logout' %}").render(Context())
    finally:
        set_script_prefix("/")
    assert prefixed == "/tastebook" + plain
    assert Template(TAGS + "{% part_url 'accounts:logout' %}").render(Context()) == plain


def test_another_urlconf_gets_its_own_urls(settings):
    """The site's list page has a URL; a URLconf without it has none, whatever was remembered."""
    source = TAGS + "{% part_url 'restaurants:list' %}"
    assert Template(source).render(Context()) == reverse("restaurants:list")
    settings.ROOT_URLCONF = "tests.cache.shadowing_urls"
    with pytest.raises(NoReverseMatch):
        Template(source).render(Context())
    assert Template(TAGS + "{% part_url 'restaurants:special' %}").render(Context()) == "/restaurants/special/"
