"""Account management with Django's own views on our DynamoDB users: the
email address (and its lookup items), password change, and password reset
by email, throttled and never telling whether an address has an account."""

import re
import threading

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.mail.backends import locmem
from django.test import Client
from django.urls import reverse

from restaurants.accounts import AFTER_RESPONSE_THREAD
from restaurants.dynamo import item_keys, users
from restaurants.dynamo.client import call
from restaurants.dynamo.items import deserialize, serialize

User = get_user_model()
PASSWORD = "pass-word-9"
NEW_PASSWORD = "brand-New-pass-73"
RESET = reverse("accounts:password_reset")


@pytest.fixture
def kim(table):
    return User.objects.create_user("kim", "Kim@Example.com", PASSWORD)


def _logged_in(username="kim", password=PASSWORD) -> Client:
    client = Client()
    assert client.login(username=username, password=password)
    return client


def _lookup_items(address: str) -> list[dict]:
    response = call(
        "Query",
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": item_keys.email_key(address)}},
        ConsistentRead=True,
    )
    return [deserialize(item) for item in response["Items"]]


def _sent() -> list:
    """The mails sent, once those started after their answers are out."""
    for thread in threading.enumerate():
        if thread.name == AFTER_RESPONSE_THREAD:
            thread.join(timeout=60)
            assert not thread.is_alive(), "a mail was still being sent after a minute"
    return mail.outbox


def _reset_link(message) -> str:
    return re.search(re.escape(settings.SITE_URL) + r"(/accounts/password/reset/\S+/)", message.body).group(1)


# --- The address and its lookup items -------------------------------------------------


def test_signing_up_with_an_address_stores_it_and_its_lookup(table):
    Client().post(
        "/accounts/signup/",
        {"username": "ann", "email": "Ann@Example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert users.user_item_get(username="ann")["email"] == "Ann@example.com"  # Django normalises the domain
    assert [item["SK"] for item in _lookup_items("ann@example.com")] == ["USER#ann"]


def test_changing_the_address_on_the_account_page_moves_the_lookup(kim):
    client = _logged_in()
    page = client.get(reverse("accounts:account")).content.decode()
    assert 'value="Kim@example.com"' in page
    response = client.post(reverse("accounts:account"), {"email": "kim@new.example"}, follow=True)
    assert "Your email address is saved." in response.content.decode()
    assert users.user_item_get(username="kim", consistent=True)["email"] == "kim@new.example"
    assert _lookup_items("kim@example.com") == []
    assert [item["username"] for item in _lookup_items("KIM@new.example")] == ["kim"]


def test_removing_the_address_removes_its_lookup(kim):
    response = _logged_in().post(reverse("accounts:account"), {"email": ""}, follow=True)
    assert "Your email address is removed." in response.content.decode()
    assert "email" not in users.user_item_get(username="kim", consistent=True)
    assert _lookup_items("kim@example.com") == []


def test_an_invalid_address_is_a_form_error(kim):
    response = _logged_in().post(reverse("accounts:account"), {"email": "not an address"})
    assert response.status_code == 400 and "Enter a valid email address." in response.content.decode()


def test_the_account_page_needs_a_login(table):
    response = Client().get(reverse("accounts:account"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_deleting_a_user_removes_its_lookup(kim):
    kim.delete()
    assert _lookup_items("kim@example.com") == []


# --- Password change --------------------------------------------------------------------


def test_changing_the_password_keeps_this_session_ends_the_others_and_the_new_one_logs_in(kim):
    this, other = _logged_in(), _logged_in()
    response = this.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert "Your password is changed." in response.content.decode()
    assert this.get("/").context["user"].username == "kim"
    assert not other.get("/").context["user"].is_authenticated
    assert not Client().login(username="kim", password=PASSWORD)
    assert Client().login(username="kim", password=NEW_PASSWORD)
    assert users.user_item_get(username="kim", consistent=True)["email"] == "Kim@example.com"  # untouched


def test_a_wrong_old_password_is_refused_and_counts_as_a_login_attempt(kim, settings):
    client = _logged_in()
    wrong = {"old_password": "not-it-at-all", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    for _ in range(settings.LOGIN_ATTEMPTS_PER_ACCOUNT_AND_CLIENT):
        assert client.post(reverse("accounts:password_change"), wrong).status_code == 400
    assert client.post(reverse("accounts:password_change"), wrong).status_code == 429
    assert Client().login(username="kim", password=PASSWORD)  # unchanged


# --- Password reset ---------------------------------------------------------------------


def test_a_reset_mail_reaches_the_address_and_its_link_sets_a_new_password(kim):
    signed_in = _logged_in()
    response = Client().post(RESET, {"email": "KIM@example.COM"})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:password_reset_done")
    assert len(_sent()) == 1 and _sent()[0].to == ["Kim@example.com"]
    assert '"kim"' in _sent()[0].body

    visitor = Client()
    form_page = visitor.get(_reset_link(_sent()[0]), follow=True)
    assert "Choose a new password" in form_page.content.decode()
    done = visitor.post(
        form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True
    )
    assert "Your password is changed" in done.content.decode()
    assert Client().login(username="kim", password=NEW_PASSWORD)
    assert not Client().login(username="kim", password=PASSWORD)
    assert not signed_in.get("/").context["user"].is_authenticated  # every session ended

    again = Client().get(_reset_link(_sent()[0]), follow=True)  # the link works once
    assert "This link does not work any more" in again.content.decode()


@pytest.mark.parametrize("host", ["testserver", "localhost:6666"])  # both allowed by the shipped defaults
def test_the_mailed_link_is_on_the_configured_site_whatever_host_the_request_names(kim, host):
    assert Client().post(RESET, {"email": "kim@example.com"}, HTTP_HOST=host).status_code == 302
    [message] = _sent()
    assert "https://tastebook.test/accounts/password/reset/" in message.body  # tests/settings.py's SITE_URL
    assert host not in message.body


def test_an_unknown_address_gets_the_same_answer_and_no_mail(kim):
    known, unknown = Client().post(RESET, {"email": "kim@example.com"}), Client().post(RESET, {"email": "x@y.example"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert [message.to for message in _sent()] == [["Kim@example.com"]]


def test_every_active_account_of_an_address_gets_its_own_mail(kim):
    User.objects.create_user("kim2", "kim@example.com", PASSWORD)
    User.objects.create_user("kim3", "kim@example.com", PASSWORD, is_active=False)
    User.objects.create_user("kim4", "kim@example.com", None)  # unusable password, like the demo users
    Client().post(RESET, {"email": "kim@example.com"})
    assert sorted(re.search(r'account "(\w+)"', m.body).group(1) for m in _sent()) == ["kim", "kim2"]


def test_a_lookup_the_profile_no_longer_matches_sends_nothing(kim):
    """Another client changed the profile's address without the lookup item."""
    call(
        "UpdateItem",
        Key=serialize(item_keys.user_item_keys("kim")),
        UpdateExpression="SET email = :e",
        ExpressionAttributeValues={":e": {"S": "elsewhere@example.com"}},
    )
    Client().post(RESET, {"email": "kim@example.com"})
    assert _sent() == []


@pytest.fixture
def kim_live(live):
    """kim on DynamoDB Local, with the reset counters in a real Redis."""
    return User.objects.create_user("kim", "Kim@Example.com", PASSWORD)


def _mailed_to(address: str) -> int:
    return sum(message.to == [address] for message in _sent())


@pytest.mark.integration
def test_requests_from_other_clients_never_refuse_the_owner(kim_live, settings):
    """The attack of issue #21: strangers ask for kim's address from several
    clients; kim, from her own, still gets the usual answer and her mail."""
    for n in range(settings.PASSWORD_RESETS_PER_EMAIL_AND_CLIENT + 2):
        assert Client().post(RESET, {"email": "kim@example.com"}, REMOTE_ADDR=f"203.0.113.{n}").status_code == 302
    own = Client().post(RESET, {"email": "KIM@example.com"}, REMOTE_ADDR="198.51.100.7")
    assert own.status_code == 302 and own["Location"] == reverse("accounts:password_reset_done")
    assert _mailed_to("Kim@example.com") == settings.PASSWORD_RESETS_PER_EMAIL_AND_CLIENT + 3


@pytest.mark.integration
@pytest.mark.parametrize("address", ["kim@example.com", "nobody@example.com"])
def test_one_client_is_refused_for_an_address_it_asked_too_often_and_only_that_client(kim_live, settings, address):
    for _ in range(settings.PASSWORD_RESETS_PER_EMAIL_AND_CLIENT):
        assert Client().post(RESET, {"email": address}, REMOTE_ADDR="203.0.113.1").status_code == 302
    refused = Client().post(RESET, {"email": address.upper()}, REMOTE_ADDR="203.0.113.1")
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= settings.PASSWORD_RESET_WINDOW
    assert "Too many password reset requests" in refused.content.decode()
    assert Client().post(RESET, {"email": "other@example.com"}, REMOTE_ADDR="203.0.113.1").status_code == 302
    assert Client().post(RESET, {"email": address}, REMOTE_ADDR="198.51.100.7").status_code == 302
    mailed = settings.PASSWORD_RESETS_PER_EMAIL_AND_CLIENT + 1 if address.startswith("kim") else 0
    assert _mailed_to("Kim@example.com") == mailed


@pytest.mark.integration
def test_past_an_addresss_mail_cap_the_answer_is_the_same_and_no_mail_goes_out(kim_live, settings):
    settings.PASSWORD_RESET_MAILS_PER_EMAIL = 2
    answers = [Client().post(RESET, {"email": "kim@example.com"}, REMOTE_ADDR=f"203.0.113.{n}") for n in range(4)]
    assert {(answer.status_code, answer["Location"]) for answer in answers} == {
        (302, reverse("accounts:password_reset_done"))
    }
    assert _mailed_to("Kim@example.com") == 2


def test_reset_requests_are_throttled_per_client(kim, settings):
    for n in range(settings.PASSWORD_RESETS_PER_CLIENT):
        assert Client().post(RESET, {"email": f"a{n}@example.com"}, REMOTE_ADDR="203.0.113.9").status_code == 302
    assert Client().post(RESET, {"email": "kim@example.com"}, REMOTE_ADDR="203.0.113.9").status_code == 429
    assert _sent() == []


def test_with_redis_down_a_reset_is_a_503_and_sends_nothing(kim, fake_redis):
    fake_redis.connected = False
    response = Client().post(RESET, {"email": "kim@example.com"})
    assert response.status_code == 503 and _sent() == []


class HeldMailBackend(locmem.EmailBackend):
    """Django's test backend, holding every sending until the test lets it go."""

    reached: threading.Event
    released: threading.Event
    held_the_answer = False

    def send_messages(self, messages):
        type(self).reached.set()
        if not type(self).released.wait(timeout=10):  # nobody released it: the answer waited for the mail
            type(self).held_the_answer = True
        return super().send_messages(messages)


@pytest.fixture
def held_mail(settings):
    HeldMailBackend.reached, HeldMailBackend.released = threading.Event(), threading.Event()
    HeldMailBackend.held_the_answer = False
    settings.EMAIL_BACKEND = f"{__name__}.HeldMailBackend"
    yield HeldMailBackend
    HeldMailBackend.released.set()


def test_the_answer_is_sent_before_the_mail(kim, held_mail):
    response = Client().post(RESET, {"email": "kim@example.com"})
    assert response.status_code == 302 and mail.outbox == []  # answered while no mail is out yet
    assert held_mail.reached.wait(timeout=60)  # the mail is being sent, after the answer
    held_mail.released.set()
    assert [message.to for message in _sent()] == [["Kim@example.com"]]
    assert not held_mail.held_the_answer


@pytest.mark.parametrize("uid", ["bm9ib2R5", "!!!", "eA", "x" * 3000, "a2lt"])  # nobody, junk, "x", long, kim
def test_a_made_up_reset_link_is_refused_without_an_error(kim, uid):
    response = Client().get(f"/accounts/password/reset/{uid}/abc-def/", follow=True)
    assert response.status_code == 200
    assert "This link does not work any more" in response.content.decode()


def test_the_429_after_failed_logins_points_to_the_password_reset(kim, settings):
    for _ in range(settings.LOGIN_ATTEMPTS_PER_ACCOUNT_AND_CLIENT):
        Client().post("/accounts/login/", {"username": "kim", "password": "wrong"})
    refused = Client().post("/accounts/login/", {"username": "kim", "password": "wrong"})
    assert refused.status_code == 429
    assert f'href="{RESET}"' in refused.content.decode()


def test_a_completed_reset_lifts_the_login_pause_of_its_client(kim, settings):
    for _ in range(settings.LOGIN_ATTEMPTS_PER_ACCOUNT_AND_CLIENT):
        Client().post("/accounts/login/", {"username": "kim", "password": "wrong"})
    Client().post(RESET, {"email": "kim@example.com"})
    visitor = Client()
    form_page = visitor.get(_reset_link(_sent()[0]), follow=True)
    visitor.post(form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    response = Client().post("/accounts/login/", {"username": "kim", "password": NEW_PASSWORD})
    assert response.status_code == 302
