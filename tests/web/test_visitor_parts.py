"""Pages rendered from a shared shell plus the visitor's own parts, and form
fields rendered from a per-process skeleton (restaurants/templatetags/visitor_parts.py)."""

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template, TemplateSyntaxError
from django.test import RequestFactory

from restaurants.forms import ReviewForm
from restaurants.templatetags import visitor_parts

PROCESSORS = [
    "django.template.context_processors.request",
    "django.contrib.auth.context_processors.auth",
    "django.contrib.messages.context_processors.messages",
]


@pytest.fixture
def templates(settings):
    """Use the given templates (name: source) instead of the site's."""

    def use(**sources):
        settings.TEMPLATES = [
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "OPTIONS": {
                    "loaders": [("django.template.loaders.locmem.Loader", sources)],
                    "context_processors": PROCESSORS,
                    "builtins": ["restaurants.templatetags.visitor_parts"],
                },
            }
        ]

    return use


def _request(user=None):
    request = RequestFactory().get("/somewhere/?x=1")
    request.user = user or AnonymousUser()
    return request


def _render(template_name, shared, personal, shell=None):
    stored = []
    response = visitor_parts.render_page(_request(), template_name, shared, personal, shell=shell, store=stored.append)
    return response.content.decode(), stored


def test_a_page_from_its_shell_is_the_page_rendered_whole(templates):
    templates(
        **{
            "base-a.html": '<nav>{% visitor_part "who" %}{{ user }} {{ request.get_full_path }}{% end_visitor_part %}'
            "</nav>{% block content %}{% endblock %}",
            "page-a.html": '{% extends "base-a.html" %}{% block content %}<h1>{{ title }}</h1>'
            '{% visitor_part "mine" %}<p>{{ note }}</p>{% end_visitor_part %}'
            "<footer>{{ title }}</footer>{% endblock %}",
        }
    )
    whole, stored = _render("page-a.html", {"title": "Thai & Co"}, {"note": "yours"})
    assert (
        whole
        == "<nav>AnonymousUser /somewhere/?x=1</nav><h1>Thai &amp; Co</h1><p>yours</p><footer>Thai &amp; Co</footer>"
    )
    [shell] = stored
    assert shell.holes == ["who", "mine"]
    assert "AnonymousUser" not in "".join(shell.parts) and "yours" not in "".join(shell.parts)

    again, stored_again = _render("page-a.html", {"title": "ignored: the shell has it"}, {"note": "theirs"}, shell)
    assert again == whole.replace("yours", "theirs") and stored_again == []


@pytest.mark.parametrize(
    "outside",
    [
        "{{ user }}",
        "{{ user.username }}",
        "{% if messages %}m{% endif %}",
        "{% csrf_token %}",
        "{{ note }}",
        "{{ request.path }}",
    ],
)
def test_a_personal_value_outside_every_visitor_part_fails_the_shared_render(templates, outside):
    name = f"leak-{abs(hash(outside))}.html"
    templates(**{name: f"<p>{{{{ title }}}}</p>{outside}"})
    with pytest.raises(visitor_parts.PersonalValueInSharedPart):
        _render(name, {"title": "shared"}, {"note": "personal"})


def test_visitor_parts_render_in_place_on_any_other_page(templates):
    templates(**{"plain.html": '<p>{% visitor_part "who" %}{{ user }}{% end_visitor_part %}</p>'})
    from django.template.loader import render_to_string

    assert render_to_string("plain.html", request=_request()) == "<p>AnonymousUser</p>"


def test_a_visitor_part_inside_a_loop_is_refused(templates):
    templates(
        **{"loop.html": '{% for i in "ab" %}{% visitor_part "who" %}{{ user }}{% end_visitor_part %}{% endfor %}'}
    )
    with pytest.raises(TemplateSyntaxError):
        _render("loop.html", {}, {})


def test_a_shell_naming_parts_the_templates_no_longer_have_is_rendered_again(templates):
    templates(**{"page-b.html": '<p>{% visitor_part "who" %}{{ user }}{% end_visitor_part %}</p>'})
    old = visitor_parts.selectors.PageShell(parts=["<p>", "</p>"], holes=["gone"])
    page, stored = _render("page-b.html", {}, {}, old)
    assert page == "<p>AnonymousUser</p>" and stored[0].holes == ["who"]


FIELDS = (
    "{% csrf_token %}{{ form.submission }}{% for choice in form.rating %}{{ choice.tag }}{% endfor %}"
    "{{ form.review }}{{ form.review.errors }}"
)


@pytest.mark.parametrize("blank", [ReviewForm, visitor_parts.BlankForm], ids=["built", "not built"])
@pytest.mark.parametrize("submission", ["tok-1", "tok-2", 'a"<b>&c'])
def test_blank_form_fields_from_the_skeleton_are_the_fields_rendered_plainly(templates, submission, blank):
    templates(**{"fields.html": FIELDS})
    initial = {"submission": submission}
    form = ReviewForm(initial=initial) if blank is ReviewForm else visitor_parts.BlankForm(ReviewForm, initial)
    plain = Template('{% include "fields.html" %}')
    skeleton = Template('{% form_fields "fields.html" form %}')
    for token in ("csrf-one", "csrf-two"):
        from_skeleton = skeleton.render(Context({"form": form, "csrf_token": token}))
        assert from_skeleton == plain.render(Context({"form": ReviewForm(initial=initial), "csrf_token": token}))
        assert token in from_skeleton


@pytest.mark.parametrize("debug", [False, True], ids=["visible value", "DEBUG"])
def test_a_blank_form_the_skeleton_cannot_draw_is_built_and_rendered(templates, settings, debug):
    """A visible given value (it could be anything) or DEBUG (templates may change): built, then included."""
    settings.DEBUG = debug
    templates(**{"fields.html": FIELDS})
    initial = {"submission": "tok"} if debug else {"submission": "tok", "review": "Typed <b>before</b>"}
    context = {"csrf_token": "csrf"}
    rendered = Template('{% form_fields "fields.html" form %}').render(
        Context({**context, "form": visitor_parts.BlankForm(ReviewForm, initial)})
    )
    assert rendered == Template('{% include "fields.html" %}').render(
        Context({**context, "form": ReviewForm(initial=initial)})
    )
    assert 'value="tok"' in rendered and (debug or "Typed &lt;b&gt;before&lt;/b&gt;" in rendered)


def test_a_bound_form_is_rendered_with_its_values_and_errors(templates):
    templates(**{"fields.html": FIELDS})
    form = ReviewForm({"rating": "4", "review": "", "submission": "tok"})
    assert not form.is_valid()
    context = {"form": form, "csrf_token": "csrf"}
    rendered = Template('{% form_fields "fields.html" form %}').render(Context(context))
    assert rendered == Template('{% include "fields.html" %}').render(Context(context))
    assert re.search(r'value="4"[^>]* checked', rendered) and "This field is required." in rendered
