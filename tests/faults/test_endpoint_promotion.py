"""ElastiCache's failover as other processes live it: the replica promoted,
the old primary made its replica (read only), the endpoint moved. Each
process still holds connections to the old primary. A write whose
invalidation meets the demoted primary must reach the new one before the
writer is told it is published, and the other processes must stop serving
from the old one: no page without the write, and hits again at once."""

import pytest
from django.test import Client

from restaurants.cache.rules import policy
from tests.browser.conftest import gunicorn_serving, site_environment

from .conftest import point_caches_at
from .test_redis_restart_and_failover import EDIT, PAGE, REVIEW, in_sync, logged_in, wait_until
from .test_replica_detach import fetch

pytestmark = pytest.mark.integration


def test_a_write_during_an_endpoint_move_is_on_every_process_page_at_once(
    table, author, redis_factory, proxy, settings, dynamodb_server, tmp_path
):
    old, new = redis_factory("old"), redis_factory("new")
    new.client().replicaof("127.0.0.1", old.port)
    wait_until(lambda: in_sync(new, old), what="the replica to sync")
    endpoint = proxy(old.port)
    point_caches_at(settings, endpoint.url)
    env = site_environment(dynamodb_server.url, endpoint.url, settings.DYNAMODB_TABLE)
    writer = logged_in(author.username)
    assert writer.post(REVIEW, {"rating": 4, "review": "Before the move."}).status_code == 302
    with gunicorn_serving(env, tmp_path) as reader:  # another process, with its own connections
        fetch(reader + PAGE)
        assert fetch(reader + PAGE)[0] == "HIT"
        wait_until(lambda: in_sync(new, old), what="the replica to catch up")

        new.client().replicaof("no", "one")
        old.client().replicaof("127.0.0.1", new.port)
        wait_until(lambda: in_sync(old, new), what="the old primary to follow the new one")
        endpoint.switch(new.port)  # open connections stay on the old primary, now read only

        edited = writer.post(EDIT, {"rating": 2, "review": "During the move."})
        assert (edited.status_code, edited["Location"]) == (302, PAGE)
        seen = [fetch(reader + PAGE) for _ in range(20)]
        assert all("During the move." in body for _, body in seen), [cache for cache, _ in seen]
        assert seen[-1][0] == "HIT"  # the cache serves again, from the new primary
    assert new.client().keys("site:page:*")


def test_a_demoted_primary_is_not_read_before_the_endpoint_moves(
    table, author, redis_factory, proxy, settings, fake_clock
):
    """The replica is promoted before the old primary is demoted (a split
    brain of a moment): a write in between is retired on the old primary
    only, which then resyncs from the new one and loses it. Until the
    endpoint moves, the old primary holds the new one's older pages under
    the marker it wrote itself: it must not be read."""
    old, new = redis_factory("old"), redis_factory("new")
    new.client().replicaof("127.0.0.1", old.port)
    wait_until(lambda: in_sync(new, old), what="the replica to sync")
    endpoint = proxy(old.port)
    point_caches_at(settings, endpoint.url)
    visitor, writer = Client(), logged_in(author.username)
    visitor.get(PAGE)
    assert visitor.get(PAGE)["X-Cache"] == "HIT"
    wait_until(lambda: in_sync(new, old), what="the page to reach the replica")

    new.client().replicaof("no", "one")
    assert writer.post(REVIEW, {"rating": 5, "review": "Between promotion and demotion."}).status_code == 302
    old.client().replicaof("127.0.0.1", new.port)
    wait_until(lambda: in_sync(old, new), what="the old primary to resync from the new one")
    fake_clock.advance(policy.REPLICA_CHECK_SECONDS)  # each connection looks at its server again

    for _ in range(3):
        page = visitor.get(PAGE)
        assert "Between promotion and demotion." in page.content.decode(), page.get("X-Cache")
    endpoint.switch(new.port)
    fake_clock.advance(policy.REPLICA_CHECK_SECONDS)
    pages = [visitor.get(PAGE) for _ in range(3)]
    assert all("Between promotion and demotion." in page.content.decode() for page in pages)
    assert pages[-1]["X-Cache"] == "HIT"  # the new primary, emptied once, caches again
