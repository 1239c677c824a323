"""DynamoDB stops answering in the middle of a post (the process paused with
SIGSTOP, as a network stall would), then resumes and applies it: the author is
told it could not be confirmed, keeps their text, and posting again is a
success, not "already reviewed"; nobody sees a page without the review."""

import os
import re
import signal
import time
import uuid
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import reverse

from devtools.embedded.dynamodb_local import start_dynamodb_local
from restaurants import selectors as site_selectors
from restaurants.dynamo import client as dynamo_client
from restaurants.dynamo import selectors, services
from restaurants.dynamo.errors import NotFound
from restaurants.dynamo.schema import create_table

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
    services.restaurant_create(name=RESTAURANT, cuisine="Diner", address="1 Slow Lane")
    settings.DYNAMODB_READ_TIMEOUT = 1
    settings.DYNAMODB_MAX_ATTEMPTS = 1
    dynamo_client.reset_client()
    yield server
    os.kill(server.process.pid, signal.SIGCONT)
    server.stop()
    dynamo_client.reset_client()


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

    os.kill(pausable_dynamodb.process.pid, signal.SIGSTOP)
    lost = author.post(POST, form)
    os.kill(pausable_dynamodb.process.pid, signal.SIGCONT)

    assert lost.status_code == 503
    assert b"Worth the wait." in lost.content  # the text is kept for another try
    deadline = time.monotonic() + 30
    while True:  # the paused request is applied once DynamoDB resumes
        try:
            services.review_get(username="patient", restaurant=RESTAURANT)
            break
        except NotFound:
            assert time.monotonic() < deadline, "the write held during the pause was never applied"
            time.sleep(0.02)
    assert b"Worth the wait." in Client().get(PAGE).content  # no stale page: the caches were dropped

    again = author.post(POST, form, follow=True)
    assert again.status_code == 200
    assert b"Thank you! Your review is published." in again.content and b"already reviewed" not in again.content
    assert selectors.restaurant_get(name=RESTAURANT, consistent=True).stars.five == 1


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
    os.kill(pausable_dynamodb.process.pid, signal.SIGSTOP)
    try:
        paused = [probe() for _ in range(site_selectors.READINESS_TIMEOUTS_UNAVAILABLE)]
    finally:
        os.kill(pausable_dynamodb.process.pid, signal.SIGCONT)

    stalls = site_selectors.READINESS_TIMEOUTS_UNAVAILABLE - 1
    assert paused == [(200, "degraded", "timeout")] * stalls + [(503, "unavailable", "timeout")]
    assert probe() == (200, "ok", "ok")
