"""CDN-ready pages: what anonymous pages tell shared caches and browsers, and
the purge our writes send to a CDN's purge API (a small real HTTP server here)."""

import http.server
import threading

import pytest
from django.urls import reverse

from restaurants import services
from restaurants.cache.pages import cdn
from restaurants.cache.plumbing.connection import circuit
from restaurants.cache.rules import keys
from tests.cache.test_wsgi_front import call

pytestmark = pytest.mark.integration
FINE_DINING = "AnyCompany Fine Dining"
DETAIL = reverse("restaurants:detail", args=[FINE_DINING])
WITHOUT_PURGE = "public, max-age=0, must-revalidate, s-maxage=0"
WITH_PURGE = "public, max-age=0, s-maxage=300, stale-if-error=3600"


class PurgeApi:
    """Stands in for a CDN's purge API: records each request, answers ``status``."""

    def __init__(self):
        self.requests: list[tuple[str, str, str]] = []  # method, path, Fastly-Key header
        self.status = 200
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                api.requests.append((self.command, self.path, self.headers.get("Fastly-Key", "")))
                self.send_response(api.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def purged_keys(self) -> list[str]:
        return [path.rpartition("/")[2] for _, path, _ in self.requests]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def purge_api(settings):
    api = PurgeApi()
    settings.CDN_PURGE = api.url + "/service/tastebook/purge/{key}"
    settings.CDN_PURGE_HEADER = "Fastly-Key: secret-token"
    cdn.forget_pending()
    yield api
    cdn.forget_pending()
    api.stop()


def group_keys(tag: str) -> str:
    return f"site-pages {keys.surrogate_key(tag)}"


def test_without_a_purge_a_cdn_must_revalidate_every_anonymous_page(site):
    status, miss, _ = call(DETAIL)
    _, hit, _ = call(DETAIL)
    status, not_modified, _ = call(DETAIL, HTTP_IF_NONE_MATCH=hit["ETag"])
    assert miss["X-Cache"] == "MISS" and hit["X-Cache"] == "HIT" and status == "304 Not Modified"
    for headers in (miss, hit, not_modified):
        assert headers["Cache-Control"] == WITHOUT_PURGE
        assert headers["Surrogate-Key"] == group_keys(keys.restaurant_tag(FINE_DINING))


def test_with_a_purge_a_cdn_may_keep_pages_and_browsers_still_revalidate(site, purge_api):
    user_page = reverse("restaurants:user", args=["ewilliams"])
    for url, tag in (("/", keys.LISTS_TAG), (user_page, keys.user_tag("ewilliams"))):
        call(url)
        status, headers, _ = call(url)
        assert status == "200 OK" and headers["X-Cache"] == "HIT"
        assert headers["Cache-Control"] == WITH_PURGE  # max-age=0: browsers ask again, with the ETag
        assert headers["Surrogate-Key"] == group_keys(tag) and headers["ETag"]


def test_stale_while_revalidate_is_sent_only_when_asked_for(site, purge_api, settings):
    settings.CDN_STALE_WHILE_REVALIDATE = 30
    _, headers, _ = call(DETAIL)
    assert headers["Cache-Control"] == "public, max-age=0, s-maxage=300, stale-while-revalidate=30, stale-if-error=3600"


def test_pages_that_are_not_shared_tell_a_cdn_not_to_keep_them(site, member, client):
    logged_in = member.get(DETAIL)
    assert "X-Cache" not in logged_in and "Surrogate-Key" not in logged_in
    login_form = client.get(reverse("accounts:login"))
    not_found = client.get(reverse("restaurants:detail", args=["Nowhere"]))
    no_slash = client.get(DETAIL.rstrip("/"))
    for response in (logged_in, not_found, no_slash):
        assert response["Cache-Control"] == "private, no-cache", response.status_code
    # Django's login view says it itself (never_cache), and is left as it is.
    assert login_form["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"


def test_posting_a_review_purges_every_group_that_shows_it(site, purge_api):
    services.review_post(username="kim", restaurant=FINE_DINING, rating=5, text="Purged at once.")
    expected = {keys.surrogate_key(tag) for tag in (keys.restaurant_tag(FINE_DINING), keys.user_tag("kim"))}
    expected.add(keys.surrogate_key(keys.LISTS_TAG))
    assert set(purge_api.purged_keys()) == expected
    assert {(method, token) for method, _, token in purge_api.requests} == {("POST", "secret-token")}
    # Each is sent again shortly after, for a page the CDN was fetching during the first purge.
    assert set(cdn.pending()) == expected


def test_a_repeat_purge_is_sent_once_due(site, purge_api, fake_clock):
    cdn.purge("site-lists")
    assert purge_api.purged_keys() == ["site-lists"]
    cdn.send_due()
    assert purge_api.purged_keys() == ["site-lists"]  # not due yet
    fake_clock.advance(2.0)
    cdn.send_due()
    assert purge_api.purged_keys() == ["site-lists", "site-lists"] and cdn.pending() == {}


def test_a_refused_purge_never_fails_the_write_and_is_tried_again(site, purge_api, fake_clock, client):
    purge_api.status = 503
    review = services.review_post(username="kim", restaurant=FINE_DINING, rating=4, text="Written anyway.")
    assert review.review == "Written anyway."
    assert "Written anyway." in client.get(DETAIL).content.decode()
    failed = set(purge_api.purged_keys())
    assert keys.surrogate_key(keys.restaurant_tag(FINE_DINING)) in failed and set(cdn.pending()) == failed
    purge_api.status = 200
    purge_api.requests.clear()
    fake_clock.advance(5.0)
    cdn.send_due()
    assert set(purge_api.purged_keys()) == failed


def test_an_unreachable_purge_api_is_logged_and_tried_again(site, purge_api, settings, caplog):
    settings.CDN_PURGE = "http://127.0.0.1:9/purge/{key}"  # nothing listens there
    services.review_post(username="kim", restaurant=FINE_DINING, rating=3, text="Still saved.")
    assert "CDN purge of" in caplog.text and len(cdn.pending()) == 3


def test_with_redis_down_a_write_still_purges_the_cdn(site, purge_api):
    circuit.trip(ConnectionError("Redis unreachable"))
    services.review_post(username="kim", restaurant=FINE_DINING, rating=2, text="During the outage.")
    assert keys.surrogate_key(keys.restaurant_tag(FINE_DINING)) in purge_api.purged_keys()


def test_a_callable_can_purge_instead_of_a_url(site, settings):
    purged.clear()
    settings.CDN_PURGE = "tests.cache.test_cdn_headers.record_purge"
    services.review_post(username="kim", restaurant=FINE_DINING, rating=5, text="Called.")
    assert keys.surrogate_key(keys.LISTS_TAG) in purged
    cdn.forget_pending()


def test_flushing_the_page_cache_purges_every_page(site, purge_api):
    from restaurants.cache.operations import flush

    flush.flush(flush.PAGES)
    assert purge_api.purged_keys() == ["site-pages"]


purged: list[str] = []


def record_purge(key: str) -> None:
    purged.append(key)
