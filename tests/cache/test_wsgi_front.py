"""The page cache at the WSGI level: hits never reach Django.

Every request here goes through ``wsgiref.validate.validator``, which checks
what PEP 3333 requires of both sides (a status str, a list of (str, str)
tuples, an iterable of bytes that is closed). A strict server such as
``manage.py runserver`` fails on what gunicorn lets pass.
"""

import io
import threading
import urllib.request
import warnings
from urllib.parse import quote, unquote_to_bytes
from wsgiref.simple_server import WSGIRequestHandler, make_server
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import WSGIWarning, validator

import pytest
from django.urls import reverse

from reviews_site import wsgi

pytestmark = pytest.mark.integration
FINE_DINING = "AnyCompany Fine Dining"


def call(url_path: str, **environ_extra) -> tuple[str, dict, bytes]:
    """One request through the validator; a PEP 3333 violation (or a
    validator warning) fails the test."""
    # What a WSGI server puts in PATH_INFO: the percent-decoded bytes, as latin-1.
    path = unquote_to_bytes(url_path).decode("latin-1")
    environ = {"SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": "", "REQUEST_METHOD": "GET"}
    environ.update({"wsgi.input": io.BytesIO(), **environ_extra})
    setup_testing_defaults(environ)
    environ["HTTP_HOST"] = environ_extra.get("HTTP_HOST", "testserver")
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"], captured["headers"] = status, dict(headers)
        return lambda data: None

    with warnings.catch_warnings():
        warnings.simplefilter("error", WSGIWarning)
        chunks = validator(wsgi.application)(environ, start_response)
        try:
            body = b"".join(chunks)
        finally:
            chunks.close()
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
    status, not_modified, body = call(path, HTTP_IF_NONE_MATCH=headers["ETag"])
    assert status == "304 Not Modified" and body == b""
    assert not_modified["ETag"] == headers["ETag"] and not_modified["X-Cache"] == "HIT"
    assert "Content-Type" not in not_modified  # a 304 has no content to describe
    status, head_headers, body = call(path, REQUEST_METHOD="HEAD")
    assert status == "200 OK" and body == b"" and int(head_headers["Content-Length"]) > 0


def test_a_miss_passes_through_to_django_and_is_stored(site):
    path = reverse("restaurants:detail", args=[FINE_DINING])
    status, headers, body = call(path)
    assert status == "200 OK" and headers["X-Cache"] == "MISS" and FINE_DINING.encode() in body
    assert call(path)[1]["X-Cache"] == "HIT"
    status, headers, _ = call(reverse("restaurants:detail", args=["Nowhere"]))
    assert status.startswith("404") and "X-Cache" not in headers


def test_a_miss_the_client_already_has_is_a_304_from_django(site):
    from restaurants.cache.rules import keys

    path = reverse("restaurants:detail", args=[FINE_DINING])
    _, headers, _ = call(path)
    site.client().delete(keys.page_group_key(keys.restaurant_tag(FINE_DINING)))
    status, not_modified, body = call(path, HTTP_IF_NONE_MATCH=headers["ETag"])
    assert status == "304 Not Modified" and body == b""
    assert not_modified["X-Cache"] == "MISS" and not_modified["ETag"] == headers["ETag"]


def test_a_session_cookie_goes_to_django(site, monkeypatch):
    path = reverse("restaurants:detail", args=[FINE_DINING])
    call(path)
    _, headers, _ = call(path, HTTP_COOKIE="sessionid=abc; csrftoken=x")
    assert "X-Cache" not in headers
    _, headers, _ = call(path, HTTP_COOKIE="csrftoken=x")
    assert headers["X-Cache"] == "HIT"


def test_names_with_unicode_and_reserved_characters_hit(site):
    from restaurants.dynamo.bulk import write_items
    from restaurants.dynamo.item_keys import restaurant_index_attributes

    name = "Zoë's Café #1 / 100%"
    write_items([{**restaurant_index_attributes(name, "Test"), "name": name, "cuisine": "Test", "address": "x"}])
    path = reverse("restaurants:detail", args=[name])
    assert call(path)[1]["X-Cache"] == "MISS"
    status, headers, body = call(path)
    assert headers["X-Cache"] == "HIT" and "Zoë&#x27;s Café #1 / 100%" in body.decode()


@pytest.fixture
def strict_server(site):
    """The site's WSGI application (``reviews_site.wsgi``: the front, then
    Django) served by wsgiref's ``simple_server``, the strict server under
    ``manage.py runserver``, on a free loopback port. Its error stream is kept:
    the server turns an application error into a logged traceback."""
    errors = io.StringIO()

    class QuietHandler(WSGIRequestHandler):
        def get_stderr(self):
            return errors

        def log_message(self, format, *args):
            pass

    server = make_server("127.0.0.1", 0, wsgi.application, handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", errors
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_strict_wsgi_server_serves_the_second_anonymous_view_as_a_hit(strict_server):
    base_url, errors = strict_server
    url = base_url + quote(reverse("restaurants:detail", args=[FINE_DINING]))
    with urllib.request.urlopen(url, timeout=10) as first:
        first_body = first.read()
        assert first.status == 200 and first.headers["X-Cache"] == "MISS"
    with urllib.request.urlopen(url, timeout=10) as second:
        assert second.status == 200 and second.headers["X-Cache"] == "HIT", errors.getvalue()
        assert second.read() == first_body
    assert errors.getvalue() == "", errors.getvalue()


def test_a_cached_page_is_never_answered_for_a_host_django_refuses(site, django_must_not_run):
    page = reverse("restaurants:detail", args=[FINE_DINING])
    call(page)
    assert call(page)[1]["X-Cache"] == "HIT"
    status, headers, body = call(page, HTTP_HOST="evil.example")
    assert status.startswith("400") and "X-Cache" not in headers
    assert FINE_DINING.encode() not in body
