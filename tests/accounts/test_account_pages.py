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


def test_logout_lands_on_a_page_that_says_so_without_starting_a_new_session(client, kim, settings):
    client.login(username="kim", password=PASSWORD)
    response = client.post("/accounts/logout/", follow=True)
    assert response.redirect_chain == [("/accounts/logged-out/", 302)]
    assert "You are logged out." in response.content.decode() and "Log out" not in response.content.decode()
    assert not client.cookies[settings.SESSION_COOKIE_NAME].value  # deleted, no anonymous session in its place


def test_the_logged_out_page_never_tells_a_logged_in_visitor_they_are_logged_out(client, kim):
    client.login(username="kim", password=PASSWORD)
    response = client.get("/accounts/logged-out/")
    assert response.status_code == 302 and response["Location"] == "/"


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


def _login(client, password, username="kim", address="203.0.113.7", **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address, **extra)


def test_repeated_failures_from_one_client_get_a_429(client, kim, settings):
    for _ in range(settings.LOGIN_ATTEMPTS_PER_ACCOUNT_AND_CLIENT):
        assert _login(client, "wrong").status_code == 400
    response = _login(client, PASSWORD)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= settings.LOGIN_FAILURE_WINDOW
    assert "Too many login attempts" in response.content.decode()


def test_a_stranger_failing_on_your_name_does_not_lock_you_out(client, kim, settings):
    for _ in range(settings.LOGIN_ATTEMPTS_PER_ACCOUNT_AND_CLIENT + 3):
        _login(Client(), "wrong", address="198.51.100.66")
    assert _login(client, PASSWORD, address="203.0.113.7").status_code == 302


def test_the_limit_ends_with_its_window(client, kim, settings, fake_redis):
    import fakeredis

    for _ in range(settings.LOGIN_ATTEMPTS_PER_ACCOUNT_AND_CLIENT):
        _login(client, "wrong")
    redis = fakeredis.FakeRedis(server=fake_redis)
    [key] = [k for k in redis.keys("*ratelimit:*:account:*")]
    assert 0 < redis.ttl(key) <= settings.LOGIN_FAILURE_WINDOW
    redis.delete(key)  # what expiry does at the end of the window
    assert _login(client, PASSWORD).status_code == 302


def test_many_failures_from_one_client_get_a_429_for_any_name(client, kim, settings):
    settings.LOGIN_FAILURES_PER_CLIENT = 3
    for name in ("a1", "b2", "c3"):
        _login(Client(), "x", username=name)
    assert _login(client, PASSWORD).status_code == 429
    assert _login(Client(), PASSWORD, address="192.0.2.1").status_code == 302  # another client


def test_successful_logins_do_not_count_as_failures_of_their_client(kim, settings):
    settings.LOGIN_FAILURES_PER_CLIENT = 3
    for _ in range(6):  # everyone behind one NAT logs in fine
        assert _login(Client(), PASSWORD).status_code == 302


def test_parallel_attempts_get_exactly_the_allowed_password_checks(kim, settings, monkeypatch):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from restaurants.models import User

    checks = []
    check = User.check_password
    monkeypatch.setattr(User, "check_password", lambda user, raw: checks.append(raw) or check(user, raw))
    start = threading.Barrier(32)

    def attempt(_):
        browser = Client()
        start.wait()
        return _login(browser, "wrong").status_code

    with ThreadPoolExecutor(max_workers=32) as pool:
        statuses = list(pool.map(attempt, range(32)))
    assert sorted(statuses).count(400) == settings.LOGIN_ATTEMPTS_PER_ACCOUNT_AND_CLIENT
    assert statuses.count(429) == 32 - settings.LOGIN_ATTEMPTS_PER_ACCOUNT_AND_CLIENT
    assert len(checks) == settings.LOGIN_ATTEMPTS_PER_ACCOUNT_AND_CLIENT


def test_the_client_is_read_behind_the_trusted_proxies_only(client, kim, settings):
    settings.LOGIN_ATTEMPTS_PER_ACCOUNT_AND_CLIENT = 2
    settings.TRUSTED_PROXY_COUNT = 1  # an ALB appends the address it saw
    for _ in range(2):
        _login(Client(), "wrong", address="10.0.0.5", HTTP_X_FORWARDED_FOR="forged, 198.51.100.66")
    # Same load balancer, another visitor: not refused.
    assert _login(client, PASSWORD, address="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 302
    # The attacker again, whatever they put to the left: refused.
    blocked = _login(Client(), PASSWORD, address="10.0.0.5", HTTP_X_FORWARDED_FOR="other, 198.51.100.66")
    assert blocked.status_code == 429


def test_login_page_shows_errors_without_leaking_which_part_was_wrong(client, kim):
    body = client.post("/accounts/login/", {"username": "kim", "password": "wrong"}).content.decode()
    assert re.search(r"Please enter a correct username and password", body)


# --- Redis down: logins fail closed (restaurants/cache/accounts/ratelimit.py says why) ---


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
