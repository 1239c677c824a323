"""The anonymous full-page cache and its invalidation, against a real Redis."""

import pytest
from django.test import Client
from django.urls import reverse

from restaurants import services
from restaurants.dynamo.client import count_requests
from tests.cache.conftest import command_count, total_commands

pytestmark = pytest.mark.integration
FINE_DINING = "AnyCompany Fine Dining"
DETAIL = reverse("restaurants:detail", args=[FINE_DINING])
REVIEWS = reverse("restaurants:reviews", args=[FINE_DINING])
AUTHOR_PAGE = reverse("restaurants:user", args=["kim"])


def test_second_anonymous_view_is_a_hit_that_costs_no_dynamodb_request(site, client):
    first = client.get(DETAIL)
    with count_requests() as requests:
        second = client.get(DETAIL)
    assert first["X-Cache"] == "MISS" and second["X-Cache"] == "HIT"
    assert second.content == first.content
    assert sum(requests.values()) == 0


def test_a_hit_is_one_redis_round_trip(site, redis, client):
    client.get(DETAIL)
    before = total_commands(redis)
    client.get(DETAIL)
    assert total_commands(redis) - before == 1  # HGET of the page from its group's hash


def test_a_hit_is_served_before_sessions_and_auth(site, client, monkeypatch):
    from django.contrib.sessions.middleware import SessionMiddleware

    client.get(DETAIL)

    def boom(*args, **kwargs):
        raise AssertionError("the session middleware ran on a page-cache hit")

    monkeypatch.setattr(SessionMiddleware, "process_request", boom)
    assert client.get(DETAIL)["X-Cache"] == "HIT"


def test_conditional_get_gets_a_304(site, client):
    etag = client.get(DETAIL)["ETag"]
    response = client.get(DETAIL, headers={"if-none-match": etag})
    assert response.status_code == 304 and response["X-Cache"] == "HIT"
    assert response["ETag"] == etag and "Content-Type" not in response


def test_logged_in_visitors_are_never_served_or_stored(site, member, client):
    page = member.get(DETAIL)
    assert "X-Cache" not in page and "kim" in page.content.decode()
    anonymous = client.get(DETAIL)
    assert anonymous["X-Cache"] == "MISS"
    assert "kim" not in anonymous.content.decode() and "csrfmiddlewaretoken" not in anonymous.content.decode()


def test_cached_pages_hold_no_csrf_token_or_personal_data(site, client, redis):
    for url in ("/", DETAIL, REVIEWS, "/top/", reverse("restaurants:user", args=["ewilliams"])):
        client.get(url)
    pages = [value for key in redis.scan_iter(match="site:page:*") for value in redis.hvals(key)]
    assert len(pages) == 5
    assert not any(b"csrfmiddlewaretoken" in page or b"Log out" in page for page in pages)


def test_errors_are_not_cached(site, client, redis):
    client.get("/restaurants/Nowhere/")
    client.get(REVIEWS, {"cursor": "forged"})
    assert client.get("/restaurants/Nowhere/").status_code == 404
    assert not list(redis.scan_iter(match="site:page:*"))


def test_unknown_query_parameters_share_the_page(site, client):
    client.get(DETAIL)
    assert client.get(DETAIL, {"utm_source": "mail"})["X-Cache"] == "HIT"


def test_text_from_a_first_visitors_query_never_reaches_a_shared_page(site, client, redis):
    first = client.get(DETAIL, {"utm_source": "<b>Injected by the first visitor</b>"})
    assert first.status_code == 200 and b"utm_source" in first.content  # their own page shows it (login link)
    assert not list(redis.scan_iter(match="site:page:*"))
    later = [client.get(DETAIL), client.get(DETAIL), client.get(DETAIL, {"utm_source": "other"})]
    assert [page["X-Cache"] for page in later] == ["MISS", "HIT", "HIT"]
    assert all(b"Injected" not in page.content and b"utm_source" not in page.content for page in later), "leaked"


def test_a_cached_page_is_never_served_for_a_host_django_refuses(site, client):
    client.get(DETAIL)
    assert client.get(DETAIL)["X-Cache"] == "HIT"
    refused = client.get(DETAIL, HTTP_HOST="evil.example")
    assert refused.status_code == 400 and not refused.has_header("X-Cache")


def test_responses_that_set_cookies_are_not_stored(site, client, redis):
    from django.contrib import messages
    from django.http import HttpResponse

    # A view that touches the session and sets a cookie: the middleware must refuse it.
    response = HttpResponse("x")
    response.set_cookie("x", "y")
    from restaurants.cache.pages import pages

    assert not pages.response_is_storable(response)
    assert messages  # keeps the import honest


def _warm_every_page(client):
    for url in ("/", "/?cuisine=Fine Dining", "/top/", DETAIL, REVIEWS, AUTHOR_PAGE):
        client.get(url)


@pytest.mark.parametrize("url", ["/", "/?cuisine=Fine Dining", "/top/", DETAIL, REVIEWS, AUTHOR_PAGE])
def test_posting_retires_every_page_that_shows_the_review(site, client, url):
    services.review_post(username="kim", restaurant="Example Corp. Thai", rating=3, text="Elsewhere.")
    _warm_every_page(client)
    assert client.get(url)["X-Cache"] == "HIT"
    services.review_post(username="kim", restaurant=FINE_DINING, rating=5, text="Just posted!")
    response = client.get(url)
    assert response["X-Cache"] == "MISS"
    if url in (DETAIL, REVIEWS, AUTHOR_PAGE):
        assert "Just posted!" in response.content.decode()


def test_edit_and_delete_retire_the_pages(site, client):
    review = services.review_post(username="kim", restaurant=FINE_DINING, rating=5, text="First words.")
    client.get(DETAIL)
    edited = services.review_edit(review=review, rating=4, text="Second words.")
    assert "Second words." in client.get(DETAIL).content.decode()
    client.get(DETAIL)
    services.review_remove(review=edited)
    page = client.get(DETAIL)
    assert page["X-Cache"] == "MISS" and "Second words." not in page.content.decode()


def test_invalidation_is_constant_work_without_keys_or_scan(site, client, redis, monkeypatch):
    from restaurants.cache.data import stats
    from restaurants.cache.rules import keys

    monkeypatch.setattr(stats, "FLUSH_EVERY_SECONDS", 10**6)  # no counter flush inside a measurement

    def commands_for_one_write(username):
        before = total_commands(redis)
        services.review_post(username=username, restaurant=FINE_DINING, rating=4, text="Words.")
        return total_commands(redis) - before

    commands_for_one_write("zero")  # loads each Lua script once (EVALSHA, then EVAL), a one-off cost
    _warm_every_page(client)
    few = commands_for_one_write("first")
    _warm_every_page(client)
    for tag in (keys.restaurant_tag(FINE_DINING), keys.LISTS_TAG):  # a thousand more cached pages per group
        redis.hset(keys.page_group_key(tag), mapping={f"/page-{n}": b"cached" for n in range(1000)})
    many = commands_for_one_write("second")
    assert few == many
    assert command_count(redis, "keys") == 0 and command_count(redis, "scan") == 0


def test_a_page_rendered_before_a_write_is_not_stored_after_it(site, client, monkeypatch):
    from restaurants.cache.pages import pages

    original_store = pages.store

    def store_after_a_write(tag, field, generation, response):
        services.review_post(username="kim", restaurant=FINE_DINING, rating=2, text="Raced.")
        original_store(tag, field, generation, response)

    monkeypatch.setattr(pages, "store", store_after_a_write)
    client.get(DETAIL)
    monkeypatch.setattr(pages, "store", original_store)
    page = client.get(DETAIL)
    assert page["X-Cache"] == "MISS" and "Raced." in page.content.decode()


def test_a_fresh_anonymous_visitor_sees_a_review_right_after_it_is_posted(site, member):
    visitor = Client()
    assert visitor.get(DETAIL)["X-Cache"] == "MISS"
    member.post(reverse("restaurants:review_create", args=[FINE_DINING]), {"rating": 5, "review": "Hot off the press"})
    assert "Hot off the press" in visitor.get(DETAIL).content.decode()
