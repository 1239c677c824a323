"""Sessions written through to DynamoDB: what each step costs the table, and
what the store does when a session ended or the table does not answer."""

import collections
from urllib.parse import quote

import fakeredis
import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.sessions.backends.base import UpdateError
from django.test import Client
from django.urls import reverse

from restaurants.cache.accounts import sessions
from restaurants.dynamo import item_keys, writes
from restaurants.dynamo import sessions as stored_sessions
from restaurants.dynamo.errors import Unavailable

PASSWORD = "pass-word-9"
RESTAURANT = "Session Diner"
PAGE = f"/restaurants/{quote(RESTAURANT)}/"
REVIEW = reverse("restaurants:review_create", args=[RESTAURANT])
LOGGED_IN = b">Log out</button>"


@pytest.fixture
def kim(table):
    writes.restaurant_create(name=RESTAURANT, cuisine="Diner", address="1 Cookie Lane")
    return get_user_model().objects.create_user("kim", None, PASSWORD)


@pytest.fixture
def session_calls(monkeypatch):
    """The DynamoDB requests made on session items, by operation."""
    counted = collections.Counter()
    call = stored_sessions.call

    def counting(operation, **params):
        counted[operation] += 1
        return call(operation, **params)

    monkeypatch.setattr(stored_sessions, "call", counting)
    return counted


def log_in(browser: Client, username: str = "kim") -> None:
    answer = browser.post(reverse("accounts:login"), {"username": username, "password": PASSWORD})
    assert answer.status_code == 302


def table_gone(monkeypatch, operation: str) -> None:
    """DynamoDB does not answer ``operation`` on session items (until ``monkeypatch.undo()``)."""

    def unavailable(**kwargs):
        raise Unavailable("DynamoDB did not answer")

    monkeypatch.setattr(stored_sessions, operation, unavailable)


def forget_every_cached_session(server) -> None:
    """Redis loses its sessions (a restart without persistence, an eviction)."""
    fakeredis.FakeRedis(server=server).flushall()


def test_what_each_step_costs_the_table(kim, session_calls, fake_redis):
    browser = Client()
    browser.get(reverse("accounts:login"))
    assert sum(session_calls.values()) == 0  # a visitor who has not logged in has no session

    log_in(browser)
    assert session_calls == {"PutItem": 2}  # Django's rotation: the new key reserved, then the login in it
    assert b"Welcome back, kim." in browser.get(PAGE).content
    assert session_calls == {"PutItem": 3}  # the welcome, taken out of the session
    session_calls.clear()

    for _ in range(3):
        assert LOGGED_IN in browser.get(PAGE).content
    assert sum(session_calls.values()) == 0  # Redis answers: not one read

    assert browser.post(REVIEW, {"rating": 4, "review": "A cost, measured."}).status_code == 302
    assert browser.get(PAGE).status_code == 200
    assert session_calls == {"PutItem": 2}  # the confirmation put in the session, then taken out
    session_calls.clear()

    forget_every_cached_session(fake_redis)
    for _ in range(3):
        assert LOGGED_IN in browser.get(PAGE).content
    assert session_calls == {"GetItem": 1}  # once from the table, then from Redis again
    session_calls.clear()

    assert browser.post(reverse("accounts:logout")).status_code == 302
    assert session_calls == {"DeleteItem": 1}


def test_the_item_is_small_and_carries_its_expiry(kim, fake_clock):
    browser = Client()
    log_in(browser)
    session_key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    stored = stored_sessions.session_item_get(session_key=session_key)
    assert stored.expires_at == int(fake_clock.now()) + settings.SESSION_COOKIE_AGE
    item = {
        **item_keys.session_item_keys(session_key),
        "data": stored.data,
        item_keys.EXPIRY_ATTRIBUTE: stored.expires_at,
    }
    size = sum(len(name) + len(str(value).encode()) for name, value in item.items())
    assert size < 400  # one write unit (1 KB), one consistent read unit (4 KB)


def test_a_session_that_expired_is_refused_though_the_table_still_has_it(kim, fake_clock, fake_redis):
    browser = Client()
    log_in(browser)
    assert LOGGED_IN in browser.get(PAGE).content
    forget_every_cached_session(fake_redis)  # Redis's copy expired on time
    fake_clock.advance(settings.SESSION_COOKIE_AGE)
    assert LOGGED_IN not in browser.get(PAGE).content


def test_a_save_never_brings_back_a_session_that_ended_meanwhile(kim):
    browser = Client()
    log_in(browser)
    session_key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    in_flight = sessions.SessionStore(session_key)
    assert in_flight.get(SESSION_KEY) == "kim"  # a request that read the session...
    sessions.SessionStore(session_key).delete()  # ...then a logout in another tab
    in_flight["note"] = "late"
    with pytest.raises(UpdateError):
        in_flight.save()
    assert stored_sessions.session_item_get(session_key=session_key) is None
    assert LOGGED_IN not in browser.get(PAGE).content


def test_a_copy_read_just_before_a_logout_is_not_put_back(kim, monkeypatch):
    browser = Client()
    log_in(browser)
    session_key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    read_before = stored_sessions.session_item_get(session_key=session_key)
    assert browser.post(reverse("accounts:logout")).status_code == 302

    # A request that missed Redis and read the item just before the logout deleted it
    # puts its copy in Redis now.
    monkeypatch.setattr(stored_sessions, "session_item_get", lambda session_key: read_before)
    assert sessions.SessionStore(session_key)._stored()[SESSION_KEY] == "kim"
    monkeypatch.undo()
    replayed = Client()
    replayed.cookies[settings.SESSION_COOKIE_NAME] = session_key
    assert LOGGED_IN not in replayed.get(PAGE).content


def test_a_review_saved_when_the_session_cannot_be_is_confirmed_on_the_spot(kim, monkeypatch):
    browser = Client()
    log_in(browser)
    table_gone(monkeypatch, "session_item_put")
    answer = browser.post(REVIEW, {"rating": 5, "review": "Saved; the session was not."})
    assert answer.status_code == 200 and b"Thank you! Your review is published." in answer.content
    monkeypatch.undo()
    assert b"Saved; the session was not." in Client().get(PAGE).content


def test_a_login_whose_session_cannot_be_saved_says_it_did_not_happen(kim, monkeypatch):
    table_gone(monkeypatch, "session_item_put")
    browser = Client()
    answer = browser.post(reverse("accounts:login"), {"username": "kim", "password": PASSWORD})
    assert answer.status_code == 503 and b"could not sign you in" in answer.content
    monkeypatch.undo()
    assert LOGGED_IN not in browser.get(PAGE).content


def test_log_out_everywhere_else_keeps_this_session(kim):
    here, elsewhere = Client(), Client()
    log_in(here)
    log_in(elsewhere)
    answer = here.post(reverse("accounts:end_other_sessions"))
    assert answer.status_code == 302
    assert b"Your other sessions are logged out." in here.get(answer["Location"]).content
    assert LOGGED_IN in here.get(PAGE).content
    assert LOGGED_IN not in elsewhere.get(PAGE).content
    assert here.get(reverse("accounts:end_other_sessions")).status_code == 405


def test_a_logout_the_table_did_not_take_says_you_are_still_signed_in(kim, monkeypatch):
    browser = Client()
    log_in(browser)
    table_gone(monkeypatch, "session_item_delete")
    answer = browser.post(reverse("accounts:logout"))
    assert answer.status_code == 503 and b"you are still signed in" in answer.content
    monkeypatch.undo()
    assert LOGGED_IN in browser.get(PAGE).content
