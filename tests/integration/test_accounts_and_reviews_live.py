"""Accounts and reviews against moto's HTTP server and a real redis-server."""

import os
import pty
import select
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from restaurants.dynamo import item_keys, reads
from restaurants.dynamo.bulk import write_items
from restaurants.dynamo.errors import AlreadyExists
from restaurants.dynamo.schema import scan_items

pytestmark = pytest.mark.integration

User = get_user_model()
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "pass-word-9"


@pytest.fixture
def bistro(live):
    write_items(
        [{**item_keys.restaurant_index_attributes("Le Bistro", "French"), "name": "Le Bistro", "cuisine": "French"}]
    )
    return "Le Bistro"


def test_twenty_concurrent_posts_leave_twenty_reviews_and_exact_counters(bistro):
    names = [f"diner{i:02d}" for i in range(20)]
    for name in names:
        User.objects.create_user(name, None, PASSWORD)
    clients = {}
    for name in names:
        clients[name] = Client()
        clients[name].login(username=name, password=PASSWORD)
    start = threading.Barrier(len(names))

    def post(index_and_name):
        index, name = index_and_name
        start.wait()
        url = reverse("restaurants:review_create", args=[bistro])
        return clients[name].post(url, {"rating": index % 5 + 1, "review": f"Review {index}"}).status_code

    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        statuses = list(pool.map(post, enumerate(names)))

    assert statuses == [302] * 20
    reviews = [i for i in scan_items() if i.get("restaurant") == bistro]
    assert len(reviews) == 20
    stars = reads.restaurant_get(name=bistro).stars
    assert (stars.five, stars.four, stars.three, stars.two, stars.one) == (4, 4, 4, 4, 4)


def test_two_simultaneous_signups_for_one_name_have_one_winner(live):
    start = threading.Barrier(2)

    def sign_up(password):
        start.wait()
        try:
            User.objects.create_user("popular", None, password)
            return "won"
        except AlreadyExists:
            return "taken"

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(sign_up, ["first-pass-1", "second-pass-2"]))
    assert outcomes == ["taken", "won"]


def test_sign_up_log_in_post_and_see_it_with_real_sessions(bistro):
    browser = Client()
    signup = {"username": "Ada", "password1": PASSWORD, "password2": PASSWORD}
    assert browser.post("/accounts/signup/", signup).status_code == 302
    browser.post("/accounts/logout/")
    assert browser.post("/accounts/login/", {"username": "ada", "password": PASSWORD}).status_code == 302
    response = browser.post(reverse("restaurants:review_create", args=[bistro]), {"rating": 5, "review": "Superb."})
    page = browser.get(response["Location"]).content.decode()
    assert "Superb." in page and ">ada<" in page


def test_login_rate_limit_with_real_redis(live):
    User.objects.create_user("kim", None, PASSWORD)
    browser = Client()
    statuses = [
        browser.post("/accounts/login/", {"username": "kim", "password": "nope"}).status_code
        for _ in range(settings.LOGIN_ATTEMPTS_PER_ACCOUNT_AND_CLIENT + 1)
    ]
    assert statuses[-1] == 429 and set(statuses[:-1]) == {400}


def _manage_env(live) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "reviews_site.settings",
        "AWS_ENDPOINT_URL_DYNAMODB": live.url,
        "DYNAMODB_TABLE": settings.DYNAMODB_TABLE,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def test_createsuperuser_noinput_makes_a_staff_user_in_dynamodb(live, site_password_hashers):
    env = {
        **_manage_env(live),
        "DJANGO_SUPERUSER_USERNAME": "boss",
        "DJANGO_SUPERUSER_EMAIL": "boss@example.com",
        "DJANGO_SUPERUSER_PASSWORD": "sup3r-secret-pw",
    }

    def createsuperuser():
        command = [sys.executable, "manage.py", "createsuperuser", "--noinput"]
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)

    result = createsuperuser()
    assert result.returncode == 0, result.stderr
    boss = User.objects.get_by_natural_key("boss")
    assert boss.is_staff and boss.is_superuser and boss.check_password("sup3r-secret-pw")

    again = createsuperuser()
    assert again.returncode != 0 and "already taken" in again.stderr


def test_createsuperuser_interactive_asks_and_creates(live, site_password_hashers):
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "createsuperuser"],
        cwd=ROOT,
        env=_manage_env(live),
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        start_new_session=True,
    )
    os.close(terminal)
    # Answer each prompt once it is shown: getpass flushes typed-ahead input.
    answers = [
        (b"Username", b"chief"),
        (b"Email", b"chief@example.com"),
        (b"Password:", b"an0ther-secret-pw"),
        (b"(again)", b"an0ther-secret-pw"),
    ]
    output = b""
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        if select.select([controller], [], [], 0.2)[0]:
            try:
                output += os.read(controller, 1024)
            except OSError:
                break
        if answers and answers[0][0] in output.split(b"\n")[-1]:
            os.write(controller, answers.pop(0)[1] + b"\n")
            output += b"\n"
    os.close(controller)
    assert process.wait(timeout=10) == 0, output.decode(errors="replace")
    chief = User.objects.get_by_natural_key("chief")
    assert chief.is_superuser and chief.check_password("an0ther-secret-pw")
