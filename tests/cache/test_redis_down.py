"""With Redis down, anonymous browsing goes straight to DynamoDB, and the
cache comes back on its own when Redis does."""

import logging
import socket

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from restaurants import services
from restaurants.cache.data import summaries
from tests.cache.conftest import PASSWORD
from tests.conftest import real_redis_caches

pytestmark = pytest.mark.integration
FINE_DINING = "AnyCompany Fine Dining"
DETAIL = reverse("restaurants:detail", args=[FINE_DINING])


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def redis_down(site, settings):
    settings.CACHES = real_redis_caches(f"redis://127.0.0.1:{_closed_port()}/0")
    return site


@pytest.mark.parametrize("url", ["/", "/?cuisine=Thai", "/top/", DETAIL, f"{DETAIL}reviews/", "/users/ewilliams/"])
def test_anonymous_pages_still_work(redis_down, client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert "X-Cache" not in response


def test_the_outage_is_logged_once_per_interval_not_per_request(redis_down, client, caplog, settings):
    settings.CACHE_RETRY_AFTER_SECONDS = 60
    with caplog.at_level(logging.WARNING, logger="restaurants.cache.plumbing.connection"):
        for _ in range(10):
            client.get(DETAIL)
    assert len([r for r in caplog.records if r.name == "restaurants.cache.plumbing.connection"]) == 1


def test_the_cache_comes_back_by_itself(redis_down, client, settings, redis_server, fake_clock):
    client.get(DETAIL)
    settings.CACHES = real_redis_caches(redis_server.url)
    fake_clock.advance(settings.CACHE_RETRY_AFTER_SECONDS)
    assert client.get(DETAIL)["X-Cache"] == "MISS"
    assert client.get(DETAIL)["X-Cache"] == "HIT"


def test_a_write_during_the_outage_is_applied_when_redis_returns(site, client, settings, redis_server, fake_clock):
    summaries.restaurant_summary(FINE_DINING)
    client.get(DETAIL)
    settings.CACHES = real_redis_caches(f"redis://127.0.0.1:{_closed_port()}/0")
    services.review_post(username="kim", restaurant=FINE_DINING, rating=5, text="Posted in the dark.")
    settings.CACHES = real_redis_caches(redis_server.url)
    fake_clock.advance(settings.CACHE_RETRY_AFTER_SECONDS)
    page = client.get(DETAIL)
    assert "Posted in the dark." in page.content.decode()


def test_logging_in_is_a_503_not_a_500(redis_down, client):
    """Logins fail closed (restaurants/cache/accounts/ratelimit.py): refused, politely."""
    get_user_model().objects.create_user("lee", None, PASSWORD)
    assert client.get(reverse("accounts:login")).status_code == 200
    response = client.post(reverse("accounts:login"), {"username": "lee", "password": PASSWORD})
    assert response.status_code == 503 and "Retry-After" in response
