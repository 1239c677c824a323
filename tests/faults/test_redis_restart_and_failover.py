"""Redis restarted from an old snapshot, failed over to a replica, or losing a
replica: no visitor ever sees a page older than a write DynamoDB confirmed, and
nobody gets a 500 or a silent logout for a write that happened."""

import os
import signal
from functools import partial
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from restaurants import waiting
from restaurants.dynamo import client as dynamo_client
from restaurants.dynamo import reads

from .conftest import (
    PASSWORD,
    RESTAURANT,
    SITE_PASSWORD,
    SITE_USER,
    create_site_user,
    documented_acl,
    point_caches_at,
)

pytestmark = pytest.mark.integration

PAGE = f"/restaurants/{quote(RESTAURANT)}/"
REVIEW = reverse("restaurants:review_create", args=[RESTAURANT])
EDIT = reverse("restaurants:review_edit", args=[RESTAURANT])


def logged_in(username: str) -> Client:
    visitor = Client()
    assert visitor.login(username=username, password=PASSWORD)
    return visitor


# Polls a real server's state (replication, promotion) until it holds.
wait_until = partial(waiting.wait_until, timeout=30, every=0.02)


def in_sync(replica, primary) -> bool:
    info = replica.client().info("replication")
    return info.get("master_link_status") == "up" and info.get("master_repl_offset") == primary.client().info(
        "replication"
    ).get("master_repl_offset")


def test_a_restart_from_an_old_snapshot_shows_every_confirmed_review(table, author, redis_factory, settings):
    redis = redis_factory()
    point_caches_at(settings, redis.url)
    anonymous, writer = Client(), logged_in(author.username)
    assert anonymous.get(PAGE)["X-Cache"] == "MISS"
    assert anonymous.get(PAGE)["X-Cache"] == "HIT"
    assert b'name="review"' in writer.get(PAGE).content  # the form: no review of theirs yet
    redis.client().save()  # the snapshot Redis will come back with

    assert writer.post(REVIEW, {"rating": 5, "review": "Written after the snapshot."}).status_code == 302
    assert b"Written after the snapshot." in anonymous.get(PAGE).content

    os.kill(redis.process.pid, signal.SIGKILL)
    redis.process.wait()
    restored = redis_factory(port=redis.port)  # same folder: it loads the old snapshot
    assert restored.client().exists("site:instance")  # the snapshot's marker, from the old server

    page = anonymous.get(PAGE)
    assert page.status_code == 200 and b"Written after the snapshot." in page.content
    own = writer.get(PAGE)
    assert b"Written after the snapshot." in own.content and b'name="review"' not in own.content
    assert reads.restaurant_summary_get(name=RESTAURANT).restaurant.review_count == 1
    assert anonymous.get(PAGE)["X-Cache"] == "HIT"  # and the cache works again


def test_a_failover_moves_every_write_to_the_new_primary(table, author, redis_factory, proxy, settings):
    old, new = redis_factory("old"), redis_factory("new")
    new.client().replicaof("127.0.0.1", old.port)
    wait_until(lambda: in_sync(new, old), what="the replica to sync")
    endpoint = proxy(old.port)
    point_caches_at(settings, endpoint.url)
    writer = logged_in(author.username)
    assert writer.post(REVIEW, {"rating": 4, "review": "Before the failover."}).status_code == 302
    assert b"Before the failover." in Client().get(PAGE).content

    # ElastiCache's failover: promote the replica, demote the old primary, move the endpoint.
    # The replica has caught up (the writer's session with it): replication is asynchronous,
    # and a session younger than the replica's lag is lost with the old primary.
    wait_until(lambda: in_sync(new, old), what="the replica to catch up")
    new.client().replicaof("no", "one")
    old.client().replicaof("127.0.0.1", new.port)
    wait_until(lambda: in_sync(old, new), what="the old primary to follow the new one")
    endpoint.switch(new.port)

    edited = writer.post(EDIT, {"rating": 2, "review": "After the failover."})
    assert (edited.status_code, edited["Location"]) == (302, PAGE), edited.content[:500]  # not to log in
    assert b"After the failover." in writer.get(PAGE).content
    assert b"After the failover." in Client().get(PAGE).content
    newcomer = Client()
    signup = {"username": "after_failover", "password1": PASSWORD, "password2": PASSWORD}
    assert newcomer.post(reverse("accounts:signup"), signup).status_code == 302
    assert newcomer.get(PAGE).context["user"].username == "after_failover"
    summaries = [new.client().get(key) for key in new.client().keys("site:summary:*")]
    assert [b"After the failover." in summary for summary in summaries] == [True]  # cached on the new primary


def test_a_dead_replica_sends_reads_to_the_primary(table, redis_factory, settings):
    primary, replica = redis_factory("primary"), redis_factory("replica")
    replica.client().replicaof("127.0.0.1", primary.port)
    wait_until(lambda: in_sync(replica, primary), what="the replica to sync")
    point_caches_at(settings, primary.url, replicas=(replica.url,))
    visitor = Client()
    visitor.get(PAGE)
    wait_until(lambda: in_sync(replica, primary), what="the cached page to reach the replica")
    assert visitor.get(PAGE)["X-Cache"] == "HIT"

    os.kill(replica.process.pid, signal.SIGKILL)
    replica.process.wait()
    with dynamo_client.count_requests() as requests:
        answers = [visitor.get(PAGE) for _ in range(5)]
    assert [answer["X-Cache"] for answer in answers] == ["HIT"] * 5
    assert sum(requests.values()) == 0


def test_a_logged_in_page_reads_its_session_on_the_primary(table, author, redis_factory, settings, round_trips):
    primary, replica = redis_factory("primary"), redis_factory("replica")
    replica.client().replicaof("127.0.0.1", primary.port)
    wait_until(lambda: in_sync(replica, primary), what="the replica to sync")
    point_caches_at(settings, primary.url, replicas=(replica.url,))
    writer = logged_in(author.username)
    # The first view checks the primary and writes its marker; a replica connection
    # opened before the marker reached the replica is refused (not yet trusted). Once
    # the replica is in sync, a second view opens a trusted one; then both are warm.
    for _ in range(2):
        writer.get(PAGE)
        wait_until(lambda: in_sync(replica, primary), what="the page's keys to reach the replica")
    round_trips.clear()
    assert writer.get(PAGE).context["user"].username == author.username
    session_key = writer.cookies[django_settings.SESSION_COOKIE_NAME].value.encode()
    commands = dict(round_trips)
    assert len(round_trips) == 2 and commands.keys() == {primary.port, replica.port}  # one MGET each
    assert session_key in commands[primary.port] and session_key not in commands[replica.port]


def test_a_replica_cut_off_from_its_primary_is_not_trusted(table, redis_factory, settings):
    primary, replica = redis_factory("primary"), redis_factory("replica")
    gone = redis_factory("gone")
    replica.client().replicaof("127.0.0.1", gone.port)
    wait_until(lambda: replica.client().info("replication")["master_link_status"] == "up", what="a first sync")
    gone.stop()  # its link is down now: what it holds may be any age
    point_caches_at(settings, primary.url, replicas=(replica.url,))
    visitor = Client()
    assert visitor.get(PAGE)["X-Cache"] == "MISS"
    assert visitor.get(PAGE)["X-Cache"] == "HIT"  # served by the primary
    assert not replica.client().keys("site:*")


def test_a_new_process_reads_its_replica_without_a_false_alarm(table, redis_factory, settings, round_trips, caplog):
    """A replica is trusted once it holds the marker of a primary this process
    checked. So a process's first read goes to the primary, and a new marker
    reaches the replicas before the check ends: else the replica is refused,
    which logs "Redis is unavailable" and keeps reads off it for a while."""
    settings.CACHE_RETRY_AFTER_SECONDS = 5  # what production waits after a refusal
    primary, replica = redis_factory("primary"), redis_factory("replica")
    replica.client().replicaof("127.0.0.1", primary.port)
    wait_until(lambda: in_sync(replica, primary), what="the replica to sync")
    point_caches_at(settings, primary.url, replicas=(replica.url,))
    visitor = Client()
    assert visitor.get(PAGE)["X-Cache"] == "MISS"
    wait_until(lambda: in_sync(replica, primary), what="the cached page to reach the replica")
    round_trips.clear()
    assert visitor.get(PAGE)["X-Cache"] == "HIT"
    assert replica.port in {port for port, _ in round_trips}  # served by the replica
    assert "unavailable" not in caplog.text


def test_a_server_that_cannot_be_emptied_is_never_trusted_and_keeps_no_lock(table, redis_factory, settings):
    """When in doubt, serve from DynamoDB: a server whose old keys could not
    be deleted (here the site's ACL user may not UNLINK) is refused, its
    marker not written, and the emptying lock is released for the next try."""
    redis = redis_factory()
    admin = redis.client()
    admin.set("site:instance", "a-server-that-is-gone")
    stale = "site:page:{restaurant:old}"
    admin.hset(stale, PAGE, "an old page")
    create_site_user(admin, [rule for rule in documented_acl(cluster=False) if rule != "+unlink"])
    point_caches_at(settings, redis.url_for(SITE_USER, SITE_PASSWORD))

    for _ in range(2):
        page = Client().get(PAGE)
        assert page.status_code == 200 and "X-Cache" not in page  # from DynamoDB, not from this Redis
    assert admin.hget(stale, PAGE) == b"an old page"  # still there: so the server stays untrusted
    assert admin.get("site:instance") == b"a-server-that-is-gone"
    assert admin.keys("site:instance:emptying") == [] and not admin.exists("site:instance:emptying")
