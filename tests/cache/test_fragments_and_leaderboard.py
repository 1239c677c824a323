"""Fragments for logged-in visitors, and the leaderboard, against a real Redis."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from restaurants import services
from restaurants.cache.data import leaderboard, stats
from restaurants.cache.rules import keys
from restaurants.dynamo.bulk import write_items
from restaurants.dynamo.item_keys import restaurant_index_attributes
from tests.cache.conftest import PASSWORD

pytestmark = pytest.mark.integration
FINE_DINING = "AnyCompany Fine Dining"
DETAIL = reverse("restaurants:detail", args=[FINE_DINING])


def _fragments(redis) -> list[bytes]:
    return sorted(redis.scan_iter(match="site:fragment:*"))


def test_logged_in_visitors_share_fragments_but_not_their_names(site, redis, member):
    member.get(DETAIL)
    stored = _fragments(redis)
    assert len(stored) == 3  # the rating panel, the latest reviews and the page's shell
    assert not any(b"kim" in redis.get(key) for key in stored)

    get_user_model().objects.create_user("lee", None, PASSWORD)
    other = Client()
    other.login(username="lee", password=PASSWORD)
    stats.flush_counts()
    before = stats.read_counts()["fragment"]["hit"]
    page = other.get(DETAIL).content.decode()
    assert stats.read_counts()["fragment"]["hit"] == before + 1  # the page's shell, which holds both
    assert "lee" in page and "csrfmiddlewaretoken" in page  # personal parts stay per request


def test_a_write_changes_the_fragment_keys(site, redis, member):
    member.get(DETAIL)
    before = set(_fragments(redis))
    services.review_post(username="lee", restaurant=FINE_DINING, rating=2, text="Fragment news.")
    page = member.get(DETAIL).content.decode()
    assert "Fragment news." in page
    assert set(_fragments(redis)) - before  # new versions, old ones left to expire
    assert all(0 < redis.ttl(key) for key in _fragments(redis))


def test_one_five_star_review_does_not_top_the_leaderboard(site):
    write_items([{**restaurant_index_attributes("Lucky One", "Test"), "name": "Lucky One", "cuisine": "Test"}])
    services.review_post(username="kim", restaurant="Lucky One", rating=5, text="Perfect.")
    leaderboard.rebuild()
    top = leaderboard.top(limit=20)
    names = [entry.name for entry in top]
    assert names.index("Lucky One") > 0
    lucky = top[names.index("Lucky One")]
    assert lucky.average == 5.0 and lucky.score < 4.0


def test_a_review_moves_its_restaurant_on_the_leaderboard(site):
    leaderboard.rebuild()
    before = {e.name: e.score for e in leaderboard.top(limit=50)}
    for number in range(5):
        services.review_post(username=f"fan{number}", restaurant=FINE_DINING, rating=5, text="Great.")
    after = {e.name: e for e in leaderboard.top(limit=50)}
    assert after[FINE_DINING].score > before[FINE_DINING]
    assert after[FINE_DINING].review_count == 32


def test_a_missing_leaderboard_is_rebuilt_by_the_next_reader(site, redis, client):
    redis.delete(keys.leaderboard_key())
    page = client.get(reverse("restaurants:top"))
    assert page.status_code == 200 and FINE_DINING in page.content.decode()
    assert redis.exists(keys.leaderboard_key())
    assert 0 < redis.ttl(keys.leaderboard_key())


def test_rebuild_leaderboard_command(site, redis):
    call_command("rebuild_leaderboard", verbosity=0)
    assert redis.zcard(keys.leaderboard_key()) == 10


def test_warm_cache_fills_summaries_and_pages(site, redis, client):
    call_command("warm_cache", verbosity=0)
    assert len(list(redis.scan_iter(match="site:summary:{restaurant:*"))) == 10
    assert client.get(DETAIL)["X-Cache"] == "HIT"
    assert client.get("/")["X-Cache"] == "HIT"


@pytest.mark.parametrize("option, gone, kept", [("--pages", "page", "summary"), ("--data", "summary", "page")])
def test_flush_cache_removes_only_what_it_is_asked_to(site, redis, client, option, gone, kept):
    call_command("warm_cache", verbosity=0)
    call_command("flush_cache", option, verbosity=0)
    assert not list(redis.scan_iter(match=f"site:{gone}:*"))
    assert list(redis.scan_iter(match=f"site:{kept}:*"))


def test_flushing_everything_keeps_people_logged_in(site, redis, member, client):
    call_command("warm_cache", verbosity=0)
    call_command("flush_cache", "--all", verbosity=0)
    assert not [
        k for k in redis.scan_iter(match="site:*") if not k.startswith((b"site:stats", b"site:instance"))
    ]  # bookkeeping, not cache
    assert member.get(DETAIL).context["user"].username == "kim"
    assert client.get(DETAIL)["X-Cache"] == "MISS"


def test_cache_benchmark_prints_both_sources_and_writes_a_plot(site, tmp_path):
    from io import StringIO

    out = StringIO()
    plot = tmp_path / "plot.png"
    call_command("cache_benchmark", restaurants=5, output=str(plot), stdout=out)
    text = out.getvalue()
    assert "DynamoDB emulator at http://127.0.0.1" in text and "Redis (cache hit)" in text
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_warm_logged_in_page_view_costs_no_dynamodb_request(site, member):
    from restaurants.dynamo.client import count_requests

    member.get(DETAIL)
    with count_requests() as requests:
        page = member.get(DETAIL)
    assert page.status_code == 200 and "Post review" in page.content.decode()
    assert sum(requests.values()) == 0


def test_the_own_review_panel_follows_the_users_writes(site, member):
    member.get(DETAIL)
    member.post(reverse("restaurants:review_create", args=[FINE_DINING]), {"rating": 4, "review": "Mine."})
    assert "You reviewed" in member.get(DETAIL).content.decode()
    member.post(reverse("restaurants:review_delete", args=[FINE_DINING]))
    assert "Post review" in member.get(DETAIL).content.decode()


def test_a_password_change_is_seen_by_the_next_request(site, member):
    from django.contrib.auth import get_user_model

    member.get(DETAIL)  # the profile is cached now
    kim = get_user_model().objects.get_by_natural_key("kim")
    kim.set_password("a-new-password-7")
    kim.save()
    assert not member.get(DETAIL).context["user"].is_authenticated


def test_an_empty_table_gives_an_empty_leaderboard(live, redis_server):
    assert leaderboard.rebuild() == 0
    assert leaderboard.top() == []
    assert redis_server.client().ttl(keys.leaderboard_key()) > 0
