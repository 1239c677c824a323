"""Staff deactivate a spammer from the admin, on DynamoDB users and a real
Redis: their sessions end at once, they cannot log in or post, the audit trail
names who did it; reactivation lets them log in again, never their old cookies."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from restaurants import selectors
from restaurants.dynamo.audit import audit_latest
from restaurants.dynamo.bulk import write_items
from restaurants.dynamo.errors import NotFound
from tests.conftest import lab_items

pytestmark = pytest.mark.integration
User = get_user_model()
PASSWORD = "pass-word-9"
MEXICAN = "AnyCompany Mexican"
SPAMMER_PAGE = reverse("staff:user", args=["spammer"])


@pytest.fixture
def site(live):
    write_items(lab_items())


@pytest.fixture
def staff(site):
    """The admin as a browser uses it: CSRF enforced, token read from the page."""
    User.objects.create_superuser("boss", "boss@example.com", PASSWORD)
    browser = Client(enforce_csrf_checks=True)
    assert browser.login(username="boss", password=PASSWORD)
    return browser


@pytest.fixture
def spammer(site):
    User.objects.create_user("spammer", None, PASSWORD)
    browser = Client()
    assert browser.login(username="spammer", password=PASSWORD)
    assert browser.get(reverse("accounts:account")).status_code == 200  # logged in, and its profile cached
    return browser


def set_active(browser: Client, active: bool):
    page = browser.get(SPAMMER_PAGE)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    return browser.post(SPAMMER_PAGE, {"csrfmiddlewaretoken": token, "active": "1" if active else "0"})


def post_review(browser: Client, text: str):
    url = reverse("restaurants:review_create", args=[MEXICAN])
    return browser.post(url, {"rating": 1, "review": text})


def test_deactivating_logs_the_user_out_at_their_next_request(staff, spammer):
    response = set_active(staff, False)
    assert response.status_code == 302
    assert "Deactivated: cannot log in or post." in staff.get(SPAMMER_PAGE).content.decode()

    account = spammer.get(reverse("accounts:account"))
    assert account.status_code == 302 and account["Location"].startswith(reverse("accounts:login"))
    assert User.objects.get_for_login("spammer").is_active is False


def test_a_deactivated_user_cannot_post(staff, spammer):
    set_active(staff, False)
    response = post_review(spammer, "Buy cheap watches!")
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    with pytest.raises(NotFound):
        selectors.review_get(username="spammer", restaurant=MEXICAN)


def test_a_deactivated_user_is_told_why_they_cannot_log_in(staff, spammer):
    set_active(staff, False)
    browser = Client()
    response = browser.post(reverse("accounts:login"), {"username": "spammer", "password": PASSWORD})
    assert response.status_code == 400
    assert "deactivated by our staff" in response.content.decode()
    assert browser.get(reverse("accounts:account")).status_code == 302  # not logged in
    wrong = Client().post(reverse("accounts:login"), {"username": "spammer", "password": "not-the-password"})
    assert wrong.status_code == 400 and "deactivated" not in wrong.content.decode()


def test_the_audit_trail_shows_who_deactivated_and_reactivated_whom(staff, spammer):
    set_active(staff, False)
    set_active(staff, True)
    latest = audit_latest(limit=2)
    assert [(record.who, record.action, record.target, record.ok) for record in latest] == [
        ("boss", "Reactivate user", "spammer", True),
        ("boss", "Deactivate user", "spammer", True),
    ]
    assert "Deactivate user" in staff.get("/admin/").content.decode()


def test_reactivation_lets_them_log_in_again_but_not_with_their_old_session(staff, spammer):
    set_active(staff, False)
    set_active(staff, True)
    assert spammer.get(reverse("accounts:account")).status_code == 302  # the old cookie stays logged out
    browser = Client()
    assert browser.post(reverse("accounts:login"), {"username": "spammer", "password": PASSWORD}).status_code == 302
    assert post_review(browser, "Honest review now.").status_code == 302
    assert selectors.review_get(username="spammer", restaurant=MEXICAN).review == "Honest review now."


def test_non_staff_cannot_deactivate_anyone(site, spammer):
    User.objects.create_user("kim", None, PASSWORD)
    kim = Client()
    kim.login(username="kim", password=PASSWORD)
    response = kim.post(SPAMMER_PAGE, {"active": "0"})
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert User.objects.get_for_login("spammer").is_active is True
    assert spammer.get(reverse("accounts:account")).status_code == 200


def test_staff_cannot_deactivate_themselves(staff):
    page = staff.get(reverse("staff:user", args=["boss"]))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    staff.post(reverse("staff:user", args=["boss"]), {"csrfmiddlewaretoken": token, "active": "0"})
    assert User.objects.get_for_login("boss").is_active is True
    assert staff.get("/admin/").status_code == 200


def test_an_unknown_user_is_a_404_and_a_bad_name_a_clear_400(staff):
    assert staff.get(reverse("staff:user", args=["nobody-here"])).status_code == 404
    found = staff.get(reverse("staff:users"), {"username": "Spammer"})
    assert found.status_code == 302 and found["Location"] == SPAMMER_PAGE
    bad = staff.get(reverse("staff:users"), {"username": "no spaces!"})
    assert bad.status_code == 200 and "Enter a valid username" in bad.content.decode()


def test_the_review_list_links_each_author_to_the_page_that_deactivates_them(staff, spammer):
    spammer.post(reverse("restaurants:review_create", args=[MEXICAN]), {"rating": 1, "review": "Spam."})
    reviews = staff.get(reverse("staff:restaurant", args=[MEXICAN])).content.decode()
    assert f'<a href="{SPAMMER_PAGE}">spammer</a>' in reviews


def test_a_reactivated_user_stays_logged_in_when_the_secret_key_is_rotated(staff, spammer, settings):
    set_active(staff, False)
    set_active(staff, True)
    browser = Client()
    assert browser.login(username="spammer", password=PASSWORD)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    assert browser.get(reverse("accounts:account")).status_code == 200
