"""The staff admin on DynamoDB users and a real Redis: login, dashboard,
cache actions, moderation and the audit trail."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from restaurants.cache.data import stats, summaries
from restaurants.cache.rules import keys
from restaurants.dynamo import reads
from restaurants.dynamo.audit import audit_latest
from restaurants.dynamo.bulk import write_items
from restaurants.templatetags.durations import duration
from tests.conftest import lab_items

pytestmark = pytest.mark.integration
User = get_user_model()
PASSWORD = "pass-word-9"
FINE_DINING = "AnyCompany Fine Dining"


@pytest.fixture
def site(live, redis_server):
    write_items(lab_items())
    return redis_server


@pytest.fixture
def staff(site):
    User.objects.create_superuser("boss", "boss@example.com", PASSWORD)
    browser = Client()
    browser.login(username="boss", password=PASSWORD)
    return browser


def test_staff_log_in_through_the_admin_login_page(site):
    User.objects.create_superuser("boss", "boss@example.com", PASSWORD)
    browser = Client()
    response = browser.post("/admin/login/?next=/admin/", {"username": "boss", "password": PASSWORD, "next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    page = browser.get("/admin/")
    assert page.status_code == 200 and "Cache dashboard" in page.content.decode()


def test_anonymous_visitors_are_sent_to_the_admin_login(site, client):
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert client.post("/admin/cache/flush-all/").status_code == 302
    assert client.get("/admin/restaurants/").status_code == 302


def test_non_staff_users_are_refused(site):
    User.objects.create_user("kim", None, PASSWORD)
    browser = Client()
    browser.login(username="kim", password=PASSWORD)
    assert browser.get("/admin/")["Location"].startswith("/admin/login/")
    refused = browser.post("/admin/login/", {"username": "kim", "password": PASSWORD})
    assert refused.status_code == 200 and "Please enter the correct username and password" in refused.content.decode()


def test_admin_actions_need_a_csrf_token(site):
    User.objects.create_superuser("boss", "boss@example.com", PASSWORD)
    browser = Client(enforce_csrf_checks=True)
    browser.login(username="boss", password=PASSWORD)
    assert browser.post("/admin/cache/flush-all/").status_code == 403


def test_dashboard_figures_match_what_is_in_redis(staff, redis_server):
    redis = redis_server.client()
    for number in range(7):
        redis.set(f"site:summary:{{restaurant:test{number}}}", "{}", ex=60)
    redis.hset("site:page:{lists}", mapping={"/a": "x", "/b": "y"})
    redis.get("site:summary:{restaurant:test0}")  # a keyspace hit
    redis.get("site:summary:nothing")  # a keyspace miss
    stats.reset_counts()
    for _ in range(3):
        stats.record("summary", "hit")
    stats.record("summary", "miss")
    stats.flush_counts()
    info = redis.info()

    body = staff.get("/admin/").content.decode()

    assert re.search(r'data-namespace="summary"><td>summary</td><td class="count">7</td>', body)
    assert re.search(r'data-namespace="page"><td>page</td><td class="count">1</td>', body)
    summary_row = re.search(r'<tr data-kind="summary">(.*?)</tr>', body, re.S).group(1)
    assert (
        '<td class="hits">3</td>' in summary_row and '<td class="misses">1</td>' in summary_row and "75%" in summary_row
    )
    assert info["redis_version"] in body
    assert f'<td class="evicted">{info["evicted_keys"]}</td>' in body


def test_flushing_everything_keeps_the_staff_member_logged_in(staff, client):
    client.get(reverse("restaurants:detail", args=[FINE_DINING]))
    assert client.get(reverse("restaurants:detail", args=[FINE_DINING]))["X-Cache"] == "HIT"
    assert "Yes, flush all caches" in staff.get("/admin/cache/flush-all/").content.decode()
    response = staff.post("/admin/cache/flush-all/")
    assert response.status_code == 302
    page = staff.get("/admin/")
    assert page.status_code == 200 and "Removed" in page.content.decode()
    assert client.get(reverse("restaurants:detail", args=[FINE_DINING]))["X-Cache"] == "MISS"
    [record] = audit_latest(limit=1)
    assert (record.who, record.action, record.ok) == ("boss", "Flush all caches", True)
    assert record.result.startswith("Removed")


def test_purging_one_restaurant_leaves_the_others(staff, client, redis_server):
    other = "AnyCompany Mexican"
    for name in (FINE_DINING, other):
        summaries.restaurant_summary(name)
        client.get(reverse("restaurants:detail", args=[name]))
    response = staff.post("/admin/cache/purge/", {"restaurant": FINE_DINING})
    assert response.status_code == 302
    redis = redis_server.client()
    assert not redis.exists(keys.summary_key(FINE_DINING))
    assert redis.exists(keys.summary_key(other))
    assert client.get(reverse("restaurants:detail", args=[FINE_DINING]))["X-Cache"] == "MISS"
    assert client.get(reverse("restaurants:detail", args=[other]))["X-Cache"] == "HIT"
    assert audit_latest(limit=1)[0].target == FINE_DINING


def test_purge_needs_a_name(staff):
    response = staff.post("/admin/cache/purge/", {"restaurant": ""})
    assert response.status_code == 200 and "This field is required" in response.content.decode()


def test_warm_and_rebuild_report_what_they_did(staff):
    staff.post("/admin/cache/warm/")
    staff.post("/admin/cache/rebuild-leaderboard/")
    results = [record.result for record in audit_latest(limit=2)]
    assert results[0].startswith("Ranked 10 restaurants")
    assert results[1].startswith("Warmed 10 summaries")


def test_deleting_a_review_fixes_counters_and_caches(staff, client):
    detail = reverse("restaurants:detail", args=[FINE_DINING])
    client.get(detail)
    before = reads.restaurant_get(name=FINE_DINING).stars
    listing = staff.get(f"/admin/restaurants/{FINE_DINING}/").content.decode()
    assert "kgraham" in listing
    confirm = staff.get(f"/admin/restaurants/{FINE_DINING}/reviews/kgraham/delete/")
    assert "Yes, delete it" in confirm.content.decode()
    rating = int(re.search(r"(\d)-star review", confirm.content.decode()).group(1))

    assert staff.post(f"/admin/restaurants/{FINE_DINING}/reviews/kgraham/delete/").status_code == 302

    after = reads.restaurant_get(name=FINE_DINING).stars
    assert after.total == before.total - 1
    assert dict(after.by_rating())[rating] == dict(before.by_rating())[rating] - 1
    page = client.get(detail)
    assert page["X-Cache"] == "MISS" and ">kgraham<" not in page.content.decode()
    assert audit_latest(limit=1)[0].action == "Delete review"


def test_staff_create_and_edit_restaurants(staff, client):
    response = staff.post("/admin/restaurants/add/", {"name": "Fjord & Fire", "cuisine": "Nordic", "address": "1 Pier"})
    assert response.status_code == 302
    assert "Nordic" in reads.cuisine_list()
    assert "Fjord &amp; Fire" in client.get("/?cuisine=Nordic").content.decode()
    staff.post("/admin/restaurants/Fjord & Fire/", {"name": "Renamed", "cuisine": "Scandinavian", "address": "2 Pier"})
    restaurant = reads.restaurant_get(name="Fjord & Fire")
    assert (restaurant.cuisine, restaurant.address) == ("Scandinavian", "2 Pier")
    assert [r.name for r in reads.restaurant_list(cuisine="Scandinavian").items] == ["Fjord & Fire"]
    assert [r.action for r in audit_latest(limit=2)] == ["Edit restaurant", "Create restaurant"]


def test_renaming_is_refused_with_an_explanation(staff):
    page = staff.get(f"/admin/restaurants/{FINE_DINING}/").content.decode()
    assert "renaming would orphan its reviews" in page and "disabled" in page
    assert "GSI1PK" not in page and "SK and" not in page  # no internal key names for staff


def test_duplicate_and_invalid_restaurants_are_refused(staff):
    duplicate = staff.post("/admin/restaurants/add/", {"name": FINE_DINING, "cuisine": "X", "address": "Y"})
    assert "already exists" in duplicate.content.decode()
    blank = staff.post("/admin/restaurants/add/", {"name": "  ", "cuisine": "X", "address": "Y"})
    assert "This field is required" in blank.content.decode()
    control = staff.post("/admin/restaurants/add/", {"name": "Bad\x00Name", "cuisine": "X", "address": "Y"})
    assert control.status_code == 200 and "printable" in control.content.decode()


def test_unknown_restaurant_or_review_is_a_404(staff):
    assert staff.get("/admin/restaurants/Nowhere/").status_code == 404
    assert staff.get(f"/admin/restaurants/{FINE_DINING}/reviews/nobody/delete/").status_code == 404
    assert staff.get("/admin/cache/no-such-action/").status_code == 404


def test_the_dashboard_shows_a_redis_outage_instead_of_failing(staff, settings):
    from restaurants.cache.plumbing.connection import circuit
    from tests.conftest import real_redis_caches

    settings.CACHES = {**real_redis_caches("redis://127.0.0.1:1/0"), "sessions": settings.CACHES["sessions"]}
    circuit.reset()
    page = staff.get("/admin/")
    circuit.reset()
    assert page.status_code == 200 and "unreachable" in page.content.decode()


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (30, "30 s"),
        (900, "15 min"),
        (90, "1 min 30 s"),
        (3600, "1 h"),
        (5400, "1 h 30 min"),
        (86400, "24 h"),
        (1209600, "14 days"),
    ],
)
def test_the_dashboard_shows_durations_as_staff_read_them(seconds, shown):
    assert duration(seconds) == shown
