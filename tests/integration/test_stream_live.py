"""Writes by another client reach the site through the table's stream: DynamoDB
Local's Streams API, a real redis-server, the anonymous page cache, and
``manage.py follow_stream`` as an operator runs it."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from restaurants.dynamo import streams
from restaurants.dynamo.bulk import write_items
from restaurants.waiting import wait_until
from tests import lab_scripts
from tests.conftest import lab_items

pytestmark = [pytest.mark.integration, pytest.mark.stream]
ROOT = Path(__file__).resolve().parents[2]
THAI = "Example Corp. Thai"
DETAIL = reverse("restaurants:detail", args=[THAI])
TARGET_SECONDS = 2.0


@pytest.fixture
def lab_site(live):
    write_items(lab_items())
    return live


def _cached(client, path: str) -> None:
    client.get(path)
    assert client.get(path)["X-Cache"] == "HIT"


def test_a_lab_script_review_is_on_the_cached_pages_after_one_pass(lab_site, client):
    call_command("follow_stream", "--once", verbosity=0)
    _cached(client, DETAIL)
    _cached(client, "/top/")
    lab_scripts.create_review(restaurant=THAI, username="labuser", rating=5, review="Written by create_review.py.")
    assert "Written by create_review.py." not in client.get(DETAIL).content.decode()

    call_command("follow_stream", "--once", verbosity=0)
    page = client.get(DETAIL)
    assert page.status_code == 200 and "Written by create_review.py." in page.content.decode()
    top = client.get("/top/")
    assert top["X-Cache"] == "MISS"
    assert client.get(reverse("restaurants:reviews", args=[THAI])).status_code == 200


def test_a_lab_script_restaurant_is_listed_after_one_pass(lab_site, client):
    call_command("follow_stream", "--once", verbosity=0)
    _cached(client, "/")
    lab_scripts.create_restaurant(name="Lab Noodles", cuisine="Vietnamese", address="1 Lab Street")

    call_command("follow_stream", "--once", verbosity=0)
    assert "Lab Noodles" in client.get("/").content.decode()
    assert "Lab Noodles" in client.get("/?cuisine=Vietnamese").content.decode()


def test_follow_stream_shows_an_outside_review_within_two_seconds_and_stops_on_sigterm(
    lab_site, redis_server, client, tmp_path
):
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "reviews_site.settings",
        "DYNAMODB_TABLE": settings.DYNAMODB_TABLE,
        "REDIS_URL": redis_server.url,
    }
    log = tmp_path / "follow_stream.log"
    with log.open("w") as output:
        follower = subprocess.Popen(
            [sys.executable, "manage.py", "follow_stream"],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        stream = streams.table_stream()
        # Its first start takes its place in each shard, retires every cache, then saves a checkpoint.
        wait_until(
            lambda: streams.checkpoints(stream),
            timeout=30,
            every=0.02,
            what=lambda: f"a checkpoint:\n{log.read_text()}",
        )
        _cached(client, DETAIL)

        written = time.monotonic()
        lab_scripts.create_review(restaurant=THAI, username="labuser", rating=4, review="Seen within two seconds.")
        wait_until(
            lambda: "Seen within two seconds." in client.get(DETAIL).content.decode(),
            timeout=TARGET_SECONDS,
            every=0.02,
            what=lambda: f"the review on the page:\n{log.read_text()}",
        )
        latency = time.monotonic() - written
        print(f"outside-client review visible after {latency:.2f} s")
    finally:
        follower.send_signal(signal.SIGTERM)
        code = follower.wait(timeout=30)
    assert code == 0, log.read_text()
    assert "Stopped; applied" in log.read_text()
