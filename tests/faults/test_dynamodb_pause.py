"""DynamoDB stops answering in the middle of a post (the process paused with
SIGSTOP, as a network stall would), then resumes and applies it: the author is
told it could not be confirmed, keeps their text, and posting again is a
success, not "already reviewed"; nobody sees a page without the review."""

import os
import re
import signal
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import reverse

from devtools.embedded.dynamodb_local import start_dynamodb_local
from restaurants import selectors as site_selectors
from restaurants.dynamo import client as dynamo_client
from restaurants.dynamo import reads, writes
from restaurants.dynamo.errors import NotFound
from restaurants.dynamo.schema import create_table
from restaurants.waiting import wait_until

from .conftest import PASSWORD, RESTAURANT, point_caches_at

pytestmark = pytest.mark.integration

PAGE = f"/restaurants/{quote(RESTAURANT)}/"
POST = reverse("restaurants:review_create", args=[RESTAURANT])


@pytest.fixture
def pausable_dynamodb(settings, monkeypatch):
    """A DynamoDB Local of this test's own (it gets paused), with short timeouts and no SDK retries."""
    server = start_dynamodb_local()
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", server.url)
    settings.DYNAMODB_TABLE = f"pause-{uuid.uuid4().hex[:8]}"
    dynamo_client.reset_client()
    create_table()  # with the usual timeouts: a fresh JVM under load can take over 1 s
    writes.restaurant_create(name=RESTAURANT, cuisine="Diner", address="1 Slow Lane")
    settings.DYNAMODB_READ_TIMEOUT = 1
    settings.DYNAMODB_MAX_ATTEMPTS = 1
    dynamo_client.reset_client()
    yield server
    os.kill(server.process.pid, signal.SIGCONT)
    server.stop()
    dynamo_client.reset_client()


def pause(pid: int) -> None:
    """SIGSTOP, then wait until every thread of the process is stopped: the
    signal is delivered asynchronously, and a JVM thread still running on a
    loaded machine could answer a request sent right after the kill."""
    os.kill(pid, signal.SIGSTOP)
    all_stopped = lambda: all(_stopped(task) for task in Path(f"/proc/{pid}/task").iterdir())  # noqa: E731
    wait_until(all_stopped, timeout=30, every=0.005, what="every thread of the process to stop")


def wait_for_the_held_review() -> None:
    """Until DynamoDB, resumed, has applied the review it held during the pause."""
    held = lambda: writes.review_get(username="patient", restaurant=RESTAURANT)  # noqa: E731
    wait_until(held, timeout=30, every=0.02, what="the write held during the pause", ignoring=(NotFound,))


def _stopped(task: Path) -> bool:
    try:
        state = (task / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:  # the thread ended meanwhile
        return True
    return state in ("T", "t")


def test_a_post_lost_to_a_pause_and_sent_again_is_one_published_review(pausable_dynamodb, redis_factory, settings):
    from django.contrib.auth import get_user_model

    point_caches_at(settings, redis_factory().url)
    get_user_model().objects.create_user("patient", None, PASSWORD)
    author = Client()
    assert author.login(username="patient", password=PASSWORD)
    assert Client().get(PAGE)["X-Cache"] == "MISS"  # cached without the review
    page = author.get(PAGE).content.decode()
    form = {
        "submission": re.search(r'name="submission" value="([^"]+)"', page).group(1),
        "rating": 5,
        "review": "Worth the wait.",
    }

    pause(pausable_dynamodb.process.pid)
    lost = author.post(POST, form)
    os.kill(pausable_dynamodb.process.pid, signal.SIGCONT)

    assert lost.status_code == 503
    assert b"Worth the wait." in lost.content  # the text is kept for another try
    wait_for_the_held_review()  # the paused request is applied once DynamoDB resumes
    assert b"Worth the wait." in Client().get(PAGE).content  # no stale page: the caches were dropped

    again = author.post(POST, form, follow=True)
    assert again.status_code == 200
    assert b"Thank you! Your review is published." in again.content and b"already reviewed" not in again.content
    assert reads.restaurant_get(name=RESTAURANT, consistent=True).stars.five == 1


def test_readiness_takes_the_instance_out_only_after_dynamodb_timed_out_repeatedly(
    pausable_dynamodb, redis_factory, settings, fake_clock, monkeypatch
):
    """One stall (a loaded machine) keeps the instance serving; a DynamoDB that
    answers nothing for READINESS_TIMEOUTS_UNAVAILABLE probes in a row takes it
    out; the first answer brings it back."""
    point_caches_at(settings, redis_factory().url)
    monkeypatch.setattr(site_selectors, "_readiness", None)
    monkeypatch.setattr(site_selectors, "_timeouts_in_a_row", {})
    monkeypatch.setattr(site_selectors, "READINESS_TIMEOUT_SECONDS", 0.5)  # real seconds, per paused probe
    balancer = Client()

    def probe() -> tuple[int, str, str]:
        # The load balancer's next probe, past the kept answer (a little more: the clock starts at the real
        # monotonic reading, and (t + 2.0) - t can come out just under 2.0 in floating point).
        fake_clock.advance(site_selectors.READINESS_CACHE_SECONDS + 0.1)
        answer = balancer.get("/readyz")
        return answer.status_code, answer.json()["status"], answer.json()["checks"]["dynamodb"]["state"]

    assert probe() == (200, "ok", "ok")
    pause(pausable_dynamodb.process.pid)
    try:
        paused = [probe() for _ in range(site_selectors.READINESS_TIMEOUTS_UNAVAILABLE)]
    finally:
        os.kill(pausable_dynamodb.process.pid, signal.SIGCONT)

    stalls = site_selectors.READINESS_TIMEOUTS_UNAVAILABLE - 1
    assert paused == [(200, "degraded", "timeout")] * stalls + [(503, "unavailable", "timeout")]
    assert probe() == (200, "ok", "ok")


# --- Every form answered with a 503 keeps what was typed and says what happened ---------------


def token_on(page: str) -> str:
    return re.search(r'name="submission" value="([^"]+)"', page).group(1)


def logged_in(settings, redis_factory, username: str) -> Client:
    from django.contrib.auth import get_user_model

    point_caches_at(settings, redis_factory().url)
    get_user_model().objects.create_user(username, None, PASSWORD)
    browser = Client()
    assert browser.login(username=username, password=PASSWORD)
    assert browser.get(PAGE).status_code == 200  # its profile is cached, as on any visit
    return browser


def test_a_review_applied_just_after_its_timeout_gets_the_form_back_saying_posting_again_is_safe(
    pausable_dynamodb, redis_factory, settings, monkeypatch
):
    """The stall ends right after the write timed out and DynamoDB applies it:
    the answer is still the form with the text and what happened, never the
    restaurant's page showing the review with no word (a bare 503)."""
    from restaurants import views

    author = logged_in(settings, redis_factory, "patient")
    submission = token_on(author.get(PAGE).content.decode())
    posting = views.services.review_post

    def stall_ends_once_the_post_timed_out(**kwargs):
        try:
            return posting(**kwargs)
        finally:
            os.kill(pausable_dynamodb.process.pid, signal.SIGCONT)
            wait_for_the_held_review()  # before the view goes on

    monkeypatch.setattr(views.services, "review_post", stall_ends_once_the_post_timed_out)
    pause(pausable_dynamodb.process.pid)
    answer = author.post(POST, {"submission": submission, "rating": 4, "review": "Held in the stall."})

    page = answer.content.decode()
    assert answer.status_code == 503 and answer["Retry-After"]
    assert "We could not confirm that your review was saved" in page and "Posting it again is safe" in page
    assert re.search(r"<textarea[^>]*>\s*Held in the stall.</textarea>", page)  # in the form, to send again
    assert token_on(page) == submission
    monkeypatch.setattr(views.services, "review_post", posting)
    again = author.post(POST, {"submission": token_on(page), "rating": 4, "review": "Held in the stall."}, follow=True)
    assert b"Thank you! Your review is published." in again.content
    assert reads.restaurant_get(name=RESTAURANT, consistent=True).stars.four == 1


def test_an_edit_posted_during_a_stall_keeps_its_text_and_says_what_became_of_it(
    pausable_dynamodb, redis_factory, settings
):
    author = logged_in(settings, redis_factory, "editor")
    assert author.post(POST, {"submission": token_on(author.get(PAGE).content.decode()), "rating": 2, "review": "Meh."})
    edit_url = reverse("restaurants:review_edit", args=[RESTAURANT])
    form = {"submission": token_on(author.get(edit_url).content.decode()), "rating": 5, "review": "Better now."}

    pause(pausable_dynamodb.process.pid)
    try:
        answer = author.post(edit_url, form)
    finally:
        os.kill(pausable_dynamodb.process.pid, signal.SIGCONT)

    page = answer.content.decode()
    assert answer.status_code == 503
    assert "nothing was changed" in page or "Saving it again is safe" in page
    assert re.search(r"<textarea[^>]*>\s*Better now.</textarea>", page) and token_on(page) == form["submission"]
    saved = author.post(edit_url, {**form, "submission": token_on(page)}, follow=True)
    assert b"Your review is updated." in saved.content
    assert writes.review_get(username="editor", restaurant=RESTAURANT).review == "Better now."


def test_a_signup_during_a_stall_keeps_the_details_and_signing_up_again_logs_in(
    pausable_dynamodb, redis_factory, settings
):
    point_caches_at(settings, redis_factory().url)
    visitor = Client()
    form = {"username": "newcomer", "email": "new@example.com", "password1": PASSWORD, "password2": PASSWORD}

    pause(pausable_dynamodb.process.pid)
    try:
        answer = visitor.post(reverse("accounts:signup"), form)
    finally:
        os.kill(pausable_dynamodb.process.pid, signal.SIGCONT)

    page = answer.content.decode()
    assert answer.status_code == 503 and "Signing up again is safe" in page
    assert 'value="newcomer"' in page and 'value="new@example.com"' in page and PASSWORD not in page
    assert visitor.post(reverse("accounts:signup"), form).status_code == 302
    assert visitor.get(reverse("accounts:account")).status_code == 200  # logged in to it


def test_a_login_during_a_stall_is_a_503_that_keeps_the_name(pausable_dynamodb, redis_factory, settings):
    from django.contrib.auth import get_user_model

    point_caches_at(settings, redis_factory().url)
    get_user_model().objects.create_user("regular", None, PASSWORD)
    visitor = Client()

    pause(pausable_dynamodb.process.pid)
    try:
        answer = visitor.post(reverse("accounts:login"), {"username": "regular", "password": PASSWORD})
    finally:
        os.kill(pausable_dynamodb.process.pid, signal.SIGCONT)

    page = answer.content.decode()
    assert answer.status_code == 503 and "our database did not answer in time" in page
    assert 'value="regular"' in page and PASSWORD not in page


def test_any_other_form_posted_during_a_stall_can_be_sent_again_without_its_passwords(
    pausable_dynamodb, redis_factory, settings
):
    author = logged_in(settings, redis_factory, "mover")
    account_url = reverse("accounts:account")
    password_url = reverse("accounts:password_change")
    new_password = "another-Long-pass-7"
    change = {"old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password}

    pause(pausable_dynamodb.process.pid)
    try:
        email_answer = author.post(account_url, {"email": "moved@example.com"})
        password_answer = author.post(password_url, change)
    finally:
        os.kill(pausable_dynamodb.process.pid, signal.SIGCONT)

    page = email_answer.content.decode()
    assert email_answer.status_code == 503 and "Sending it again is safe" in page
    assert f'action="{account_url}"' in page and 'name="email" value="moved@example.com"' in page
    assert password_answer.status_code == 503 and "Sending it again is safe" in password_answer.content.decode()
    assert PASSWORD not in password_answer.content.decode() and new_password not in password_answer.content.decode()
    assert author.post(account_url, {"email": "moved@example.com"}).status_code == 302  # what "Send again" posts
    assert get_user_model_email("mover") == "moved@example.com"


def get_user_model_email(username: str) -> str:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get_for_login(username).email
