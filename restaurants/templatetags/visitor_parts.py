"""Pages rendered once for everyone, but for the parts that are the visitor's own.

``{% visitor_part "name" %}...{% end_visitor_part %}`` marks a part of a page
that differs per visitor: the account links, the messages, the review form or
the visitor's own review. Everywhere it renders its content in place, as if
the tag were not there. ``render_page`` uses it to render a page in two
steps:

1. the *shell*: the page rendered without any personal value at hand (no
   user, request, session messages, CSRF token or view value the view calls
   personal), each visitor part left out. It is the same for every visitor,
   so the cache keeps it (``selectors.restaurant_page_shell_store``) and later
   views skip it;
2. the visitor parts alone, with the full context, spliced into the shell.

A personal value used outside a visitor part fails the shell's render
(``PersonalValueInSharedPart``), so it can never reach the shared shell.
Visitor parts must sit in the page's template or the templates it extends
(not in an included one, nor in a cached fragment), once each.

``{% form_fields "template" form %}`` includes a form's fields template.
An unbound form renders the same markup for every visitor but for its hidden
per-showing values (the submission token) and the CSRF token, so that markup
is rendered once per process with placeholders, which each view replaces;
a bound form (with its values and errors) is rendered as an include would.
A view showing a form blank passes a ``BlankForm``, which is not even built.
"""

import hashlib
import secrets
import threading
from dataclasses import dataclass

from django import template
from django.conf import settings
from django.http import HttpResponse
from django.template import engines
from django.template.base import Node, NodeList, Template, TextNode
from django.template.context import Context, make_context
from django.template.loader_tags import ExtendsNode
from django.utils.html import escape
from django.utils.safestring import mark_safe

from restaurants import selectors

register = template.Library()

_SHELL = "_visitor_parts_shell"  # context key of the shell being recorded (no template can name it)
# Context processors' values and Django's own per-request ones: never in a shell.
ALWAYS_PERSONAL = ("user", "perms", "request", "csrf_token", "messages")


class PersonalValueInSharedPart(Exception):
    """A template used a personal value outside every visitor part: the page's
    shared shell would carry it to other visitors. Move it into a visitor part."""


class _ShellContext(Context):
    """The context of a shell's render: naming a personal value raises, and it
    does not claim to hold one (so a test client's ``response.context["user"]``
    finds the view's context instead)."""

    def __init__(self, values: dict, personal: frozenset[str]) -> None:
        super().__init__(values)
        self.personal = personal

    def _refuse(self, key):
        raise PersonalValueInSharedPart(f"{key!r} is used outside every {{% visitor_part %}}")

    def __getitem__(self, key):
        if key in self.personal:
            self._refuse(key)
        return super().__getitem__(key)

    def get(self, key, otherwise=None):
        if key in self.personal:
            self._refuse(key)
        return super().get(key, otherwise)

    def __contains__(self, key):
        return key not in self.personal and super().__contains__(key)


class _ShellRecorder:
    def __init__(self) -> None:
        self.marker = f"\x00{secrets.token_hex(16)}\x00"
        self.holes: list[str] = []


class VisitorPartNode(Node):
    def __init__(self, name: str, nodelist) -> None:
        self.name = name
        self.nodelist = nodelist

    def render(self, context):
        recorder = context.get(_SHELL)
        if recorder is None:
            return self.nodelist.render(context)
        if self.name in recorder.holes:
            raise template.TemplateSyntaxError(f"visitor part {self.name!r} rendered twice in one page")
        recorder.holes.append(self.name)
        return recorder.marker


@register.tag("visitor_part")
def visitor_part(parser, token):
    bits = token.split_contents()
    if len(bits) != 2 or bits[1][0] not in "\"'" or bits[1][0] != bits[1][-1]:
        raise template.TemplateSyntaxError('usage: {% visitor_part "<name>" %}...{% end_visitor_part %}')
    nodelist = parser.parse(("end_visitor_part",))
    parser.delete_first_token()
    return VisitorPartNode(bits[1][1:-1], nodelist)


# --- Rendering a page from its shell -------------------------------------------

_layouts: dict[str, tuple[str, dict[str, VisitorPartNode]]] = {}
_layouts_lock = threading.Lock()


def _engine():
    return engines["django"].engine


def _layout(template_name: str) -> tuple[str, dict[str, VisitorPartNode]]:
    """A digest of the template and those it extends (a shell rendered from
    other templates is not this page's), and their visitor parts by name."""
    with _layouts_lock:
        if template_name in _layouts and not settings.DEBUG:
            return _layouts[template_name]
    sources, parts, name = [], {}, template_name
    while name:
        compiled = _engine().get_template(name)
        sources.append(compiled.source)
        for node in compiled.nodelist.get_nodes_by_type(VisitorPartNode):
            parts.setdefault(node.name, node)  # a child's block overrides its parent's
        extends = compiled.nodelist.get_nodes_by_type(ExtendsNode)
        name = extends[0].parent_name.resolve(Context()) if extends else None
    digest = hashlib.sha256("\x00".join(sources).encode()).hexdigest()[:12]
    with _layouts_lock:
        _layouts[template_name] = (digest, parts)
    return digest, parts


def layout(template_name: str) -> str:
    """Names the templates a shell of ``template_name`` is rendered from."""
    return _layout(template_name)[0]


def render_page(
    request,
    template_name: str,
    shared: dict,
    personal: dict,
    *,
    shell: selectors.PageShell | None,
    store,
    status: int = 200,
) -> HttpResponse:
    """The page as ``render()`` would make it from ``shared`` and ``personal``
    values: from ``shell`` if given (only the visitor parts are rendered),
    else rendered whole, its shell handed to ``store(shell)`` for next time."""
    _, parts = _layout(template_name)
    if shell is None or not set(shell.holes) <= parts.keys():
        shell = _render_shell(template_name, shared, personal)
        store(shell)
    # The shell's text and the visitor parts' nodes make one small template,
    # rendered as the page would be (context processors, CSRF, signals).
    compiled = _engine().get_template(template_name)
    page = Template("", origin=compiled.origin, name=compiled.name, engine=compiled.engine)
    page.nodelist = NodeList([TextNode(shell.parts[0])])
    for name, after in zip(shell.holes, shell.parts[1:], strict=True):
        page.nodelist += [parts[name], TextNode(after)]
    context = make_context({**shared, **personal}, request, autoescape=compiled.engine.autoescape)
    return HttpResponse(page.render(context), status=status)


def _render_shell(template_name: str, shared: dict, personal: dict) -> selectors.PageShell:
    recorder = _ShellRecorder()
    context = _ShellContext({**shared, _SHELL: recorder}, frozenset((*ALWAYS_PERSONAL, *personal)))
    html = _engine().get_template(template_name).render(context)
    parts = html.split(recorder.marker)
    if len(parts) != len(recorder.holes) + 1:
        raise template.TemplateSyntaxError(f"{template_name}: a visitor part inside a cached fragment")
    return selectors.PageShell(parts=parts, holes=recorder.holes)


# --- Form markup ---------------------------------------------------------------

_CSRF_PLACEHOLDER = f"csrf{secrets.token_hex(16)}"
# Per (fields template, form class, prefix, auto_id, names given): the markup and its
# placeholders, or None for a form that cannot be drawn so (a given value not hidden).
_skeletons: dict[tuple, tuple[str, dict[str, str]] | None] = {}


@dataclass(frozen=True)
class BlankForm:
    """A form to show unbound, with these hidden values: what a view passes
    instead of ``form_class(initial=initial)`` when the form is shown blank.
    ``{% form_fields %}`` draws it from the skeleton without building it
    (building one deep-copies every field: 40 µs for the review form, on
    every logged-in restaurant page), and builds it only if it must."""

    form_class: type
    initial: dict[str, str]

    def build(self):
        return self.form_class(initial=self.initial)


class FormFieldsNode(Node):
    def __init__(self, template_name, form) -> None:
        self.template_name = template_name
        self.form = form

    def render(self, context):
        form = self.form.resolve(context)
        fields = context.template.engine.get_template(self.template_name.resolve(context))
        markup = None if settings.DEBUG else _blank_form_markup(fields, form, context)
        if markup is None:
            with context.push(form=form.build() if isinstance(form, BlankForm) else form):
                return fields.render(context)
        return markup


def _blank_form_markup(fields, form, context) -> str | None:
    """``fields`` rendered for ``form`` from the process's skeleton, or None
    if this form cannot be (bound, or given visible values)."""
    if isinstance(form, BlankForm):
        form_class, prefix, auto_id = form.form_class, None, "id_%s"
    elif form.is_bound:
        return None
    else:
        form_class, prefix, auto_id = type(form), form.prefix, form.auto_id
    given = frozenset(form.initial)
    if not all(isinstance(value, str) for value in form.initial.values()):
        return None
    key = (fields.origin.name, form_class, prefix, auto_id, given)
    if key not in _skeletons:
        _skeletons[key] = _skeleton(fields, form_class, prefix, auto_id, given)
    if _skeletons[key] is None:
        return None
    markup, placeholders = _skeletons[key]
    for name, placeholder in placeholders.items():
        markup = markup.replace(placeholder, escape(form.initial[name]))
    if _CSRF_PLACEHOLDER in markup:
        csrf_token = context.get("csrf_token")
        csrf_token = str(csrf_token) if csrf_token else ""
        if csrf_token in ("", "NOTPROVIDED"):  # {% csrf_token %} renders nothing then
            return None
        markup = markup.replace(_CSRF_PLACEHOLDER, escape(csrf_token))
    return mark_safe(markup)


def _skeleton(fields, form_class, prefix, auto_id, given: frozenset[str]) -> tuple[str, dict[str, str]] | None:
    """The fields of a blank form with placeholders for its given hidden values
    and the CSRF token, rendered in a context of their own: nothing else may
    vary from one view to the next. None if a given value is not hidden (it
    would be shown, and may be anything)."""
    placeholders = {name: f"field{secrets.token_hex(16)}" for name in sorted(given)}
    blank = form_class(initial=placeholders, prefix=prefix, auto_id=auto_id)
    if not given <= {name for name, field in blank.fields.items() if field.widget.is_hidden}:
        return None
    markup = fields.render(Context({"form": blank, "csrf_token": _CSRF_PLACEHOLDER}, autoescape=True))
    return markup, {name: value for name, value in placeholders.items() if value in markup}


@register.tag("form_fields")
def form_fields(parser, token):
    bits = token.split_contents()
    if len(bits) != 3:
        raise template.TemplateSyntaxError('usage: {% form_fields "<template>" <form> %}')
    return FormFieldsNode(parser.compile_filter(bits[1]), parser.compile_filter(bits[2]))
