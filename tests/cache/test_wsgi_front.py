"""The page cache at the WSGI level: hits never reach Django."""

import io
from urllib.parse import unquote_to_bytes
from wsgiref.util import setup_testing_defaults

import pytest
from django.urls import reverse

from reviews_site import wsgi

pytestmark = pytest.mark.integration
FINE_DINING = "AnyCompany Fine Dining"


def call(url_path: str, **environ_extra) -> tuple[str, dict, bytes]:
    # What a WSGI server puts in PATH_INFO: the percent-decoded bytes, as latin-1.
    path = unquote_to_bytes(url_path).decode("latin-1")
    environ = {"PATH_INFO": path, "REQUEST_METHOD": "GET", "wsgi.input": io.BytesIO(), **environ_extra}
    setup_testing_defaults(environ)
    environ["HTTP_HOST"] = "testserver"
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"], captured["headers"] = status, dict(headers)

    body = b"".join(wsgi.application(environ, start_response))
    return captured["status"], captured["headers"], body


@pytest.fixture
def django_must_not_run(monkeypatch):
    def refuse(environ, start_response):
        raise AssertionError("Django handled a request the WSGI front should have answered")

    def arm():
        monkeypatch.setattr(wsgi.application, "application", refuse)

    return arm


def test_a_hit_is_answered_before_django(site, django_must_not_run):
    path = reverse("restaurants:detail", args=[FINE_DINING])
    status, headers, first = call(path)
    assert status.startswith("200") and headers["X-Cache"] == "MISS"
    django_must_not_run()
    status, headers, second = call(path)
    assert status == "200 OK" and headers["X-Cache"] == "HIT" and second == first
    assert headers["Content-Type"].startswith("text/html") and headers["X-Frame-Options"] == "DENY"


def test_the_front_answers_conditional_and_head_requests(site, django_must_not_run):
    path = reverse("restaurants:detail", args=[FINE_DINING])
    _, headers, _ = call(path)
    django_must_not_run()
    status, _, body = call(path, HTTP_IF_NONE_MATCH=headers["ETag"])
    assert status == "304 Not Modified" and body == b""
    status, head_headers, body = call(path, REQUEST_METHOD="HEAD")
    assert status == "200 OK" and body == b"" and int(head_headers["Content-Length"]) > 0


def test_a_session_cookie_goes_to_django(site, monkeypatch):
    path = reverse("restaurants:detail", args=[FINE_DINING])
    call(path)
    _, headers, _ = call(path, HTTP_COOKIE="sessionid=abc; csrftoken=x")
    assert "X-Cache" not in headers
    _, headers, _ = call(path, HTTP_COOKIE="csrftoken=x")
    assert headers["X-Cache"] == "HIT"


def test_names_with_unicode_and_reserved_characters_hit(site):
    from restaurants.dynamo.bulk import write_items
    from restaurants.dynamo.keys import restaurant_index_attributes

    name = "Zoë's Café #1 / 100%"
    write_items([{**restaurant_index_attributes(name, "Test"), "name": name, "cuisine": "Test", "address": "x"}])
    path = reverse("restaurants:detail", args=[name])
    assert call(path)[1]["X-Cache"] == "MISS"
    status, headers, body = call(path)
    assert headers["X-Cache"] == "HIT" and "Zoë&#x27;s Café #1 / 100%" in body.decode()
