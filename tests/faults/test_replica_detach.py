"""A read replica that stops following its primary while it still answers:
detached (``REPLICAOF NO ONE``, as when it is promoted elsewhere or cut from
its primary), or lagging behind a link that stays up. No process may keep
serving its pages once a write is confirmed, and no page built from its
older data may be stored where it outlives the write it missed.
"""

import urllib.request
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import reverse

from restaurants.cache.plumbing import connection
from tests.browser.conftest import gunicorn_serving, site_environment

from .conftest import RESTAURANT, point_caches_at
from .test_redis_restart_and_failover import in_sync, logged_in, wait_until

pytestmark = pytest.mark.integration

PAGE = f"/restaurants/{quote(RESTAURANT)}/"
REVIEWS = reverse("restaurants:reviews", args=[RESTAURANT])
REVIEW = reverse("restaurants:review_create", args=[RESTAURANT])


def fetch(url: str) -> tuple[str, str]:
    """(X-Cache, body) of an anonymous GET to another process."""
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.headers.get("X-Cache", ""), answer.read().decode()


@pytest.fixture
def replicated(redis_factory):
    primary, replica = redis_factory("primary"), redis_factory("replica")
    replica.client().replicaof("127.0.0.1", primary.port)
    wait_until(lambda: in_sync(replica, primary), what="the replica to sync")
    return primary, replica


def test_no_process_reads_a_detached_replica_once_a_write_is_confirmed(
    table, author, replicated, settings, dynamodb_server, tmp_path
):
    primary, replica = replicated
    point_caches_at(settings, primary.url, replicas=(replica.url,))
    env = {
        **site_environment(dynamodb_server.url, primary.url, settings.DYNAMODB_TABLE),
        "REDIS_REPLICA_URLS": replica.url,
    }
    with gunicorn_serving(env, tmp_path) as reader:  # another process, reading the replica
        fetch(reader + PAGE)
        wait_until(lambda: in_sync(replica, primary), what="the page to reach the replica")
        assert fetch(reader + PAGE)[0] == "HIT"

        replica.client().replicaof("no", "one")  # it still answers, with what it had
        posted = logged_in(author.username).post(REVIEW, {"rating": 5, "review": "Confirmed while detached."})
        assert posted.status_code == 302

        seen = [fetch(reader + PAGE) for _ in range(20)]
        assert all("Confirmed while detached." in body for _, body in seen), [cache for cache, _ in seen]
        assert "HIT" in {cache for cache, _ in seen}  # the primary's cache still serves

        replica.client().replicaof("127.0.0.1", primary.port)  # attached again: it syncs afresh
        wait_until(lambda: in_sync(replica, primary), what="the replica to sync again")
        for _ in range(5):
            assert "Confirmed while detached." in fetch(reader + PAGE)[1]


def test_a_page_built_from_a_lagging_replica_is_not_stored_for_later(table, author, redis_factory, proxy, settings):
    primary, replica = redis_factory("primary"), redis_factory("replica")
    link = proxy(primary.port)  # the replica's link to its primary, which can lag without breaking
    replica.client().replicaof("127.0.0.1", link.port)
    wait_until(lambda: in_sync(replica, primary), what="the replica to sync")
    point_caches_at(settings, primary.url, replicas=(replica.url,))
    visitor = Client()
    visitor.get(PAGE)
    wait_until(lambda: in_sync(replica, primary), what="the summary to reach the replica")

    link.hold()  # the replica stops receiving writes; its link still reads "up"
    writer = logged_in(author.username)
    assert writer.post(REVIEW, {"rating": 5, "review": "Written during the lag."}).status_code == 302
    connection.replica_circuit.reset()  # as another process would: it has not seen the write fall short
    lagging = visitor.get(REVIEWS)  # rendered from the replica's older summary (the lag's limit)
    assert lagging.status_code == 200
    link.release()
    wait_until(lambda: in_sync(replica, primary), what="the replica to catch up")

    for _ in range(3):
        page = visitor.get(REVIEWS)
        assert "Written during the lag." in page.content.decode(), page.get("X-Cache")
