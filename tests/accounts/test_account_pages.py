import math
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from restaurants.dynamo.client import count_requests

User = get_user_model()
PASSWORD = "pass-word-9"


@pytest.fixture
def kim(table):
    return User.objects.create_user("kim", "kim@example.com", PASSWORD)


def _signup(client, username="newbie", password=PASSWORD, **extra):
    return client.post(
        "/accounts/signup/", {"username": username, "password1": password, "password2": password, **extra}
    )


def test_signing_up_logs_you_in(client, table):
    response = _signup(client, next="/?cuisine=Thai")
    assert response.status_code == 302 and response["Location"] == "/?cuisine=Thai"
    assert client.get("/").context["user"].username == "newbie"


def test_signup_refuses_a_taken_name_with_a_form_error(client, kim):
    response = _signup(client, username="Kim", password="someone-else-9")
    assert response.status_code == 400
    assert "That username is taken" in response.content.decode()


def test_a_retried_signup_whose_first_try_was_saved_logs_you_in(client, kim):
    """The first answer was lost (a timeout, a session store that failed): the
    account is theirs, so the retry is not told the name is taken."""
    response = _signup(client, username="Kim")
    assert response.status_code == 302
    assert client.get("/").context["user"].username == "kim"


def test_signup_refuses_mismatched_and_weak_passwords(client, table):
    mismatched = client.post("/accounts/signup/", {"username": "ann", "password1": PASSWORD, "password2": "other-9"})
    assert "do not match" in mismatched.content.decode()
    weak = _signup(client, username="ann", password="123")
    assert weak.status_code == 400 and "too short" in weak.content.decode()


def test_signup_refuses_an_invalid_username(client, table):
    response = _signup(client, username="no spaces")
    assert response.status_code == 400 and "valid username" in response.content.decode()


def test_login_rotates_the_session_and_follows_next(client, kim):
    client.get("/accounts/login/")
    client.session.save()
    before = client.cookies["sessionid"].value if "sessionid" in client.cookies else None
    response = client.post("/accounts/login/", {"username": "kim", "password": PASSWORD, "next": "/users/kim/"})
    assert response.status_code == 302 and response["Location"] == "/users/kim/"
    assert client.cookies["sessionid"].value != before


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/", "http://testserver.evil/"])
def test_login_refuses_off_site_redirects(client, kim, next_url):
    response = client.post("/accounts/login/", {"username": "kim", "password": PASSWORD, "next": next_url})
    assert response.status_code == 302 and response["Location"] == "/"


def test_signup_refuses_off_site_redirects(client, table):
    assert _signup(client, next="https://evil.example/")["Location"] == "/"


def test_logout_is_a_post_and_ends_the_session(client, kim):
    client.login(username="kim", password=PASSWORD)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert not client.get("/").context["user"].is_authenticated


def test_logout_without_csrf_token_is_refused(kim):
    browser = Client(enforce_csrf_checks=True)
    browser.login(username="kim", password=PASSWORD)
    assert browser.post("/accounts/logout/").status_code == 403


def test_changing_the_password_ends_other_sessions(client, kim):
    client.login(username="kim", password=PASSWORD)
    kim.set_password("brand-new-pass-7")
    kim.save()
    assert not client.get("/").context["user"].is_authenticated


def test_sessions_live_in_redis_under_their_own_prefix(client, kim, fake_redis):
    import fakeredis

    client.login(username="kim", password=PASSWORD)
    keys = fakeredis.FakeRedis(server=fake_redis).keys("*")
    assert any(key.startswith(b"session:") for key in keys)


def test_repeated_failures_for_a_username_get_a_429(client, kim, settings):
    for _ in range(settings.LOGIN_FAILURES_PER_USERNAME):
        assert client.post("/accounts/login/", {"username": "kim", "password": "wrong"}).status_code == 400
    response = client.post("/accounts/login/", {"username": "kim", "password": PASSWORD})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many login attempts" in response.content.decode()


def test_the_username_limit_ends_with_its_window(client, kim, settings, fake_redis):
    import fakeredis

    for _ in range(settings.LOGIN_FAILURES_PER_USERNAME):
        client.post("/accounts/login/", {"username": "kim", "password": "wrong"})
    redis = fakeredis.FakeRedis(server=fake_redis)
    [key] = [k for k in redis.keys("*ratelimit:login:user:*")]
    assert 0 < redis.ttl(key) <= settings.LOGIN_FAILURE_WINDOW
    redis.delete(key)  # what expiry does at the end of the window
    assert client.post("/accounts/login/", {"username": "kim", "password": PASSWORD}).status_code == 302


def test_many_failures_from_one_ip_get_a_429_for_any_name(client, kim, settings):
    settings.LOGIN_FAILURES_PER_IP = 3
    for name in ("a1", "b2", "c3"):
        client.post("/accounts/login/", {"username": name, "password": "x"})
    assert client.post("/accounts/login/", {"username": "kim", "password": PASSWORD}).status_code == 429


def test_login_page_shows_errors_without_leaking_which_part_was_wrong(client, kim):
    body = client.post("/accounts/login/", {"username": "kim", "password": "wrong"}).content.decode()
    assert re.search(r"Please enter a correct username and password", body)


# --- Redis down: logins fail closed (restaurants/cache/ratelimit.py says why) ---


def test_with_redis_down_the_login_page_still_shows(client, table, fake_redis):
    fake_redis.connected = False
    assert client.get("/accounts/login/").status_code == 200


def test_with_redis_down_a_correct_login_is_a_503_with_retry_after_not_a_500(client, kim, fake_redis, settings):
    fake_redis.connected = False
    response = client.post("/accounts/login/", {"username": "kim", "password": PASSWORD})
    assert response.status_code == 503
    assert int(response["Retry-After"]) == math.ceil(settings.CACHE_RETRY_AFTER_SECONDS)
    assert "Logging in is paused" in response.content.decode()


def test_with_redis_down_no_password_is_checked_so_right_and_wrong_look_alike(client, kim, fake_redis):
    """Checking passwords unthrottled would make the login form an oracle: a
    wrong password a 400, a right one a 503 (no session can be stored)."""
    fake_redis.connected = False
    with count_requests() as requests:
        right = client.post("/accounts/login/", {"username": "kim", "password": PASSWORD})
        wrong = client.post("/accounts/login/", {"username": "kim", "password": "wrong"})
    assert (right.status_code, wrong.status_code) == (503, 503)
    assert right.content == wrong.content
    assert sum(requests.values()) == 0  # the user was not even read


def test_logins_work_again_once_redis_answers(client, kim, fake_redis, fake_clock, settings):
    fake_redis.connected = False
    assert client.post("/accounts/login/", {"username": "kim", "password": PASSWORD}).status_code == 503
    fake_redis.connected = True
    fake_clock.advance(settings.CACHE_RETRY_AFTER_SECONDS)
    assert client.post("/accounts/login/", {"username": "kim", "password": PASSWORD}).status_code == 302


@pytest.mark.parametrize("next_url", ["0", "top", "/top/"])
def test_signup_sends_you_to_next_as_a_url_never_a_view_name(client, table, next_url):
    """Found by the fuzz test: ``?next=0`` was handed to redirect(), which took
    it for a view name and failed with NoReverseMatch (a 500)."""
    response = _signup(client, next=next_url)
    assert response.status_code == 302 and response["Location"] == next_url
    again = client.get("/accounts/signup/", {"next": next_url})  # signed in now: sent on at once
    assert again.status_code == 302 and again["Location"] == next_url
