"""A Redis Cluster (3 primaries, 3 replicas) failing over while every node
holds keys: the promoted replica comes with its old primary's pages and
summaries, of many slots. The site must empty it (one slot at a time: a
cluster refuses one UNLINK over several slots), trust it again, and serve
hits within seconds, each showing every review DynamoDB confirmed.

A node restarted empty never shows this; a promoted replica full of keys does.
"""

import os
import signal
import time

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from redis.cluster import key_slot

from devtools.embedded.redis_cluster import start_redis_cluster
from restaurants.cache.plumbing import connection
from restaurants.cache.rules import keys
from restaurants.waiting import wait_until
from tests.browser.conftest import gunicorn_serving, site_environment
from tests.conftest import LAB_RESTAURANTS
from tests.faults.conftest import PASSWORD, point_the_site_at
from tests.faults.test_replica_detach import fetch

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("redis_cluster")]

RESTAURANTS = LAB_RESTAURANTS
# The target: hits again this soon after the failover ended (the
# circuit's production interval, 5 s, included).
HITS_AGAIN_WITHIN_SECONDS = 10.0


@pytest.fixture
def cluster_with_replicas(site, settings):
    """3 primaries, each with a replica; the site on it as in production (the
    circuit skips Redis for 5 s after an error)."""
    with start_redis_cluster(masters=3) as cluster:
        for primary in range(3):
            cluster.add_replica(of=primary)
        point_the_site_at(settings, cluster.url, cluster=True)
        settings.CACHE_RETRY_AFTER_SECONDS = 5.0
        yield cluster


def detail(name: str) -> str:
    return reverse("restaurants:detail", args=[name])


def warm_every_page(visitor: Client) -> None:
    for name in RESTAURANTS:
        visitor.get(detail(name))
        assert visitor.get(detail(name))["X-Cache"] == "HIT", name


def node_holding(cluster, name: str):
    """The primary holding ``name``'s cached pages, and its replica."""
    group = keys.page_group_key(keys.restaurant_tag(name))
    for node in cluster.nodes[:3]:
        if owns(node, group) and node.client().exists(group):
            replica = next(n for n in cluster.nodes[3:] if n.client().info("replication")["master_port"] == node.port)
            return node, replica
    raise AssertionError(f"no node holds {name}'s pages")


def owns(node, key: str) -> bool:
    slot = key_slot(key.encode())
    my_id = node.client().execute_command("CLUSTER", "MYID")
    return any(
        int(start) <= slot <= int(end) and found[2] == my_id
        for start, end, found, *_ in node.client().execute_command("CLUSTER", "SLOTS")
    )


def wait_for_replicas(cluster) -> None:
    targets = []
    for replica in cluster.nodes[3:]:
        info = replica.client().info("replication")
        primary = next(n for n in cluster.nodes if n.port == info["master_port"]).client()
        targets.append((replica, primary.info("replication")["master_repl_offset"]))

    def caught_up() -> bool:
        return all(replica.client().info("replication")["slave_repl_offset"] >= target for replica, target in targets)

    wait_until(caught_up, timeout=30, every=0.01, what="every replica to catch up")


def every_node_holds_our_keys(cluster) -> bool:
    return all(next(node.client().scan_iter(match="site:*", count=1000), None) for node in cluster.nodes)


def hit_showing(visitor: Client, name: str, text: str, *, since: float) -> float:
    """Seconds from ``since`` until ``name``'s page is a hit; every answer
    before it must show ``text`` too (a miss from DynamoDB, or the hit)."""

    def hit() -> tuple[float] | None:  # a tuple: true even for a hit after 0.0 s
        page = visitor.get(detail(name))
        assert page.status_code == 200 and text in page.content.decode(), (page.status_code, page.get("X-Cache"))
        if page.get("X-Cache") == "HIT":  # none while the circuit serves without the cache
            return (time.monotonic() - since,)
        return None

    (took,) = wait_until(hit, timeout=60 - (time.monotonic() - since), every=0.05, what="the cache to come back")
    return took


def review_after_failover(name: str, text: str) -> None:
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user("after_failover", None, PASSWORD)
    writer = Client()
    assert writer.login(username="after_failover", password=PASSWORD)
    posted = writer.post(reverse("restaurants:review_create", args=[name]), {"rating": 5, "review": text})
    assert (posted.status_code, posted["Location"]) == (302, detail(name))


def no_emptying_lock_left(cluster) -> bool:
    alive = [node for node in cluster.nodes if node.process.poll() is None]
    return not any(node.client().keys("site:instance:*:emptying") for node in alive)


def test_a_planned_failover_onto_a_replica_full_of_keys_serves_hits_again_within_seconds(cluster_with_replicas):
    cluster, visitor = cluster_with_replicas, Client()
    warm_every_page(visitor)
    wait_for_replicas(cluster)
    assert every_node_holds_our_keys(cluster)  # the promoted replica will come with keys of many slots
    name = "AnyCompany Fine Dining"
    old_primary, replica = node_holding(cluster, name)

    cluster.promote(replica)
    promoted_at = time.monotonic()
    review_after_failover(name, "Confirmed after the failover.")

    took = hit_showing(visitor, name, "Confirmed after the failover.", since=promoted_at)
    assert took < HITS_AGAIN_WITHIN_SECONDS, took
    for other in RESTAURANTS:  # every page, on every node, a hit again once rendered
        visitor.get(detail(other))
        assert visitor.get(detail(other))["X-Cache"] == "HIT", other
    assert no_emptying_lock_left(cluster)
    assert connection.circuit.state.value == "closed"


def test_a_killed_primary_whose_replica_takes_over_serves_hits_again_within_seconds(cluster_with_replicas):
    cluster, visitor = cluster_with_replicas, Client()
    warm_every_page(visitor)
    wait_for_replicas(cluster)
    name = "Example Corp. Thai"
    old_primary, replica = node_holding(cluster, name)

    os.kill(old_primary.process.pid, signal.SIGKILL)
    elected = lambda: replica.client().execute_command("ROLE")[0] == b"master"  # noqa: E731
    healed = lambda: replica.client().cluster("info").get("cluster_state") == "ok"  # noqa: E731
    wait_until(  # cluster-node-timeout (5 s), then an election; then the cluster heals
        lambda: elected() and healed(),
        timeout=60,
        every=0.05,
        what=lambda: "the cluster to heal" if elected() else "the replica to be elected",
    )
    promoted_at = time.monotonic()
    review_after_failover(name, "Confirmed after the primary died.")

    took = hit_showing(visitor, name, "Confirmed after the primary died.", since=promoted_at)
    assert took < HITS_AGAIN_WITHIN_SECONDS, took
    assert no_emptying_lock_left(cluster)


def test_a_demoted_primary_that_closed_our_connections_sends_visitors_to_its_successor_without_an_error(
    cluster_with_replicas,
):
    """A primary killed and restarted, or demoted and restarted, comes back as a
    replica while this process's slot map still names it (chaos seed 1,
    TOPOLOGY=cluster: 17 plain 500s). Closing its connections here, after a
    planned failover, makes the next command open a new one to it, whose
    check must send redis-py to the new primary, not fail the page."""
    cluster, visitor = cluster_with_replicas, Client()
    warm_every_page(visitor)
    wait_for_replicas(cluster)
    name = "AnyCompany Fine Dining"
    old_primary, replica = node_holding(cluster, name)

    cluster.promote(replica)
    old_primary.client().client_kill_filter(_type="normal", skipme=True)
    promoted_at = time.monotonic()
    review_after_failover(name, "Confirmed after the demotion.")

    took = hit_showing(visitor, name, "Confirmed after the demotion.", since=promoted_at)
    assert took < HITS_AGAIN_WITHIN_SECONDS, took


def test_a_write_while_one_shard_is_down_retires_its_pages_on_the_shards_that_answer(
    cluster_with_replicas, settings, dynamodb_server, tmp_path
):
    """A primary dies: this process's circuit opens on its keys. A review of a
    restaurant on another shard must still be retired there before the writer
    is told it is published, since another process, whose circuit is closed,
    serves that shard's pages as hits meanwhile."""
    cluster = cluster_with_replicas
    warm_every_page(Client())  # every shard holds pages (and shows where each restaurant's are)
    name = "AnyCompany Fine Dining"
    get_user_model().objects.create_user("one_shard_down", None, PASSWORD)
    writer = Client()
    assert writer.login(username="one_shard_down", password=PASSWORD)
    session = writer.cookies[django_settings.SESSION_COOKIE_NAME].value
    keeping = {node_holding(cluster, name)[0].port, node_with_key_containing(cluster, session).port}
    victim = next(node for node in cluster.nodes[:3] if node.port not in keeping)
    on_victim = next(other for other in LAB_RESTAURANTS if node_holding(cluster, other)[0] is victim)
    env = {
        **site_environment(dynamodb_server.url, cluster.url, settings.DYNAMODB_TABLE),
        "REDIS_CLUSTER": "true",
    }
    with gunicorn_serving(env, tmp_path) as reader:  # another process, reading the shards that answer
        fetch(reader + detail(name))
        assert fetch(reader + detail(name))[0] == "HIT"

        os.kill(victim.process.pid, signal.SIGKILL)
        victim.process.wait()
        assert Client().get(detail(on_victim)).status_code == 200  # from DynamoDB: this process's circuit opens
        assert connection.circuit.state.value == "open"
        posted = writer.post(
            reverse("restaurants:review_create", args=[name]),
            {"rating": 5, "review": "Written while a shard was down."},
        )
        assert (posted.status_code, posted["Location"]) == (302, detail(name))

        cache, body = fetch(reader + detail(name))
        assert "Written while a shard was down." in body, cache


def node_with_key_containing(cluster, text: str):
    return next(node for node in cluster.nodes[:3] if next(node.client().scan_iter(match=f"*{text}*"), None))
