"""The logged-in restaurant page against a real Redis: one round trip for the
session and everything else, and a shared shell that holds nothing personal."""

import copy
import re

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.test import Client
from django.urls import reverse
from redis import Redis

from restaurants import services
from restaurants.cache.accounts import sessions
from restaurants.cache.accounts.sessions import SessionStore
from restaurants.cache.data import stats
from restaurants.cache.rules import keys
from restaurants.dynamo.client import count_requests
from tests.cache.conftest import PASSWORD, total_commands

pytestmark = pytest.mark.integration
FINE_DINING = "AnyCompany Fine Dining"
DETAIL = reverse("restaurants:detail", args=[FINE_DINING])
SHELL = keys.fragment_shell_key(keys.restaurant_tag(FINE_DINING))
TOKENS = re.compile(r'name="(csrfmiddlewaretoken|submission)" value="[^"]+"')


def _log_in(username: str) -> Client:
    get_user_model().objects.create_user(username, None, PASSWORD)
    browser = Client()
    assert browser.login(username=username, password=PASSWORD)
    return browser


def _without_tokens(body: bytes) -> str:
    """The page with its per-showing tokens (CSRF, submission) blanked."""
    return TOKENS.sub(r'name="\1" value="-"', body.decode())


def test_a_logged_in_view_is_one_redis_round_trip_and_no_dynamodb_request(site, redis, member, round_trips):
    member.get(DETAIL)  # fills the summary, profile, own review and the page's shell
    before = total_commands(redis)
    round_trips.clear()
    with count_requests() as requests:
        page = member.get(DETAIL)
    assert page.status_code == 200 and "Write a review" in page.content.decode()
    assert page.context["user"].username == "kim"
    assert len(round_trips) == 1  # the session, profile, own review, summary and shell together
    assert total_commands(redis) - before == 1  # one MGET
    assert sum(requests.values()) == 0


def test_a_session_new_to_the_process_is_read_first_then_the_rest(site, redis, member, round_trips):
    member.get(DETAIL)
    sessions._users.clear()  # as in another worker, or after a restart
    round_trips.clear()
    page = member.get(DETAIL)
    assert page.status_code == 200 and page.context["user"].username == "kim"
    assert _commands(round_trips) == [b"GET", b"MGET"]  # the session; then everything else
    round_trips.clear()
    member.get(DETAIL)
    assert _commands(round_trips) == [b"MGET"]  # the process knows the session now


def test_sessions_on_another_server_are_read_there(site, redis, round_trips, settings):
    caches = copy.deepcopy(settings.CACHES)
    elsewhere = site.url.removesuffix("/0") + "/1"  # the same server, another database
    caches["sessions"]["LOCATION"] = [elsewhere]
    settings.CACHES = caches
    member = _log_in("kim")
    member.get(DETAIL)
    round_trips.clear()
    page = member.get(DETAIL)
    assert page.status_code == 200 and page.context["user"].username == "kim"
    assert _commands(round_trips) == [b"GET", b"MGET"]
    assert Redis.from_url(elsewhere).keys("session:*") and not redis.keys("session:*")


def _commands(round_trips: list) -> list[bytes]:
    return [packed.split(b"\r\n")[2] for _, packed in round_trips]


def test_a_session_remembered_as_another_user_shows_only_its_own_user(site, redis, member):
    member.get(DETAIL)
    get_user_model().objects.create_user("lee", None, PASSWORD)
    services.review_post(username="lee", restaurant=FINE_DINING, rating=5, text="Lee's own.")
    lee = Client()
    assert lee.login(username="lee", password=PASSWORD)
    lee.get(DETAIL)  # lee's profile and own review are cached now
    kims_session = member.cookies[django_settings.SESSION_COOKIE_NAME].value
    sessions._users[kims_session] = "lee"  # a wrong guess: the session's own user wins

    page = member.get(DETAIL)
    assert page.context["user"].username == "kim"
    assert "Write a review" in page.content.decode() and "You reviewed" not in page.content.decode()
    assert sessions._users[kims_session] == "kim"  # and is remembered from now on


def test_a_session_ended_elsewhere_is_not_taken_for_its_old_user(site, redis, member):
    member.get(DETAIL)
    session = SessionStore(member.cookies[django_settings.SESSION_COOKIE_NAME].value)
    assert sessions.read_ahead_key(session) is not None  # this process would read it ahead
    session.delete()  # logged out in another worker, or expired

    page = member.get(DETAIL)
    assert page.status_code == 200
    assert "Log in" in page.content.decode() and "Write a review" not in page.content.decode()


def test_the_page_shell_is_shared_and_holds_nothing_personal(site, redis, member):
    kims = member.get(DETAIL)
    shell = redis.get(SHELL)
    assert shell is not None and 0 < redis.ttl(SHELL)
    for personal in (b"kim", b"csrfmiddlewaretoken", b"submission", b"Log in", b"Log out"):
        assert personal not in shell

    stats.flush_counts()
    hits = stats.read_counts()["fragment"]["hit"]
    lees = _log_in("lee").get(DETAIL)
    stats.flush_counts()
    assert stats.read_counts()["fragment"]["hit"] == hits + 1  # lee's page came from kim's shell
    assert "lee" in lees.content.decode() and "kim" not in lees.content.decode()
    assert TOKENS.findall(lees.content.decode()) == TOKENS.findall(kims.content.decode())  # both fields there
    assert re.search(r'name="submission" value="([^"]+)"', lees.content.decode()).group(1) != re.search(
        r'name="submission" value="([^"]+)"', kims.content.decode()
    ).group(1)
    assert _without_tokens(lees.content).replace("lee", "kim") == _without_tokens(kims.content)


def test_a_page_from_the_shell_is_the_page_rendered_whole(site, redis, member, client):
    whole = member.get(DETAIL)
    assert redis.exists(SHELL)
    from_shell = member.get(DETAIL)
    assert _without_tokens(from_shell.content) == _without_tokens(whole.content)

    anonymous_from_shell = client.get(DETAIL)  # a page-cache miss, rendered from kim's shell
    redis.delete(SHELL, keys.page_group_key(keys.restaurant_tag(FINE_DINING)))
    anonymous_whole = client.get(DETAIL)
    assert anonymous_from_shell["X-Cache"] == anonymous_whole["X-Cache"] == "MISS"
    assert anonymous_from_shell.content == anonymous_whole.content


def test_a_new_review_reaches_a_logged_in_visitor_at_once(site, member):
    member.get(DETAIL)
    services.review_post(username="lee", restaurant=FINE_DINING, rating=2, text="Shell news.")
    assert "Shell news." in member.get(DETAIL).content.decode()


def test_the_author_sees_their_own_review_right_after_posting_it(site, member):
    assert "Write a review" in member.get(DETAIL).content.decode()
    posted = member.post(
        reverse("restaurants:review_create", args=[FINE_DINING]), {"rating": 4, "review": "Mine, all mine."}
    )
    assert posted.status_code == 302
    page = member.get(DETAIL).content.decode()
    assert "You reviewed AnyCompany Fine Dining (4 stars)" in page and "Write a review" not in page
    assert "Thank you! Your review is published." in page and "Mine, all mine." in page
    assert "Thank you!" not in member.get(DETAIL).content.decode()  # a message is shown once


def test_a_password_change_ends_other_sessions_on_the_restaurant_page(site, member):
    member.get(DETAIL)
    assert member.get(DETAIL).context["user"].username == "kim"  # the profile comes from the cache now
    kim = get_user_model().objects.get_for_login("kim")
    kim.set_password("a-new-pass-word-7")
    kim.save()
    page = member.get(DETAIL).content.decode()
    assert "Log in" in page and "Log out" not in page and "Write a review" not in page


def test_a_session_naming_a_user_without_their_password_hash_shows_nothing_of_theirs(site):
    get_user_model().objects.create_user("lee", None, PASSWORD)
    services.review_post(username="lee", restaurant=FINE_DINING, rating=5, text="Lee's own.")
    forged = SessionStore()
    forged.update(
        {SESSION_KEY: "lee", BACKEND_SESSION_KEY: django_settings.AUTHENTICATION_BACKENDS[0], HASH_SESSION_KEY: "x"}
    )
    forged.create()
    browser = Client()
    browser.cookies[django_settings.SESSION_COOKIE_NAME] = forged.session_key
    page = browser.get(DETAIL).content.decode()
    assert "You reviewed" not in page and "Log out" not in page and "Log in" in page


def test_with_the_cache_switched_off_the_logged_in_page_comes_from_dynamodb(site, redis, member, settings):
    settings.CACHE_ENABLED = False
    with count_requests() as requests:
        page = member.get(DETAIL)
    assert page.status_code == 200 and "Write a review" in page.content.decode()
    assert page.context["user"].username == "kim"
    assert requests.get("Query", 0) >= 1 and not redis.exists(SHELL)


def test_the_process_remembers_a_bounded_number_of_sessions(site, monkeypatch):
    monkeypatch.setattr(sessions, "REMEMBERED_SESSIONS", 3)
    monkeypatch.setattr(sessions, "_users", {})
    created = []
    for number in range(5):
        session = SessionStore()
        session[SESSION_KEY] = f"user{number}"
        session.create()
        created.append(session.session_key)
    assert list(sessions._users) == created[2:]  # the oldest went first
    assert sessions.read_ahead_key(SessionStore(created[0])) is None  # read first, as a new one
    assert sessions.read_ahead_key(SessionStore(created[4]))[1] == "user4"
