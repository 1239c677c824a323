"""``{% restaurant_fragment "histogram" summary %}...{% end_restaurant_fragment %}``

Caches the enclosed HTML for a restaurant summary, shared by all visitors,
under the summary's version. Only put markup in it that is the same for every
visitor: never a username, a message or a CSRF token.
"""

from django import template
from django.utils.safestring import mark_safe

from restaurants import selectors

register = template.Library()


class RestaurantFragmentNode(template.Node):
    def __init__(self, nodelist, fragment, summary):
        self.nodelist = nodelist
        self.fragment = fragment
        self.summary = summary

    def render(self, context):
        summary = self.summary.resolve(context)
        html = selectors.restaurant_fragment_get(
            name=summary.restaurant.name,
            fragment=self.fragment.resolve(context),
            version=summary.version,
            render=lambda: self.nodelist.render(context),
        )
        return mark_safe(html)


@register.tag("restaurant_fragment")
def restaurant_fragment(parser, token):
    bits = token.split_contents()
    if len(bits) != 3:
        raise template.TemplateSyntaxError("usage: {% restaurant_fragment <name> <summary> %}")
    nodelist = parser.parse(("end_restaurant_fragment",))
    parser.delete_first_token()
    return RestaurantFragmentNode(nodelist, parser.compile_filter(bits[1]), parser.compile_filter(bits[2]))
