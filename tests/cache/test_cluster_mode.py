"""The caches, sessions and login throttling on a real Redis Cluster (3 primaries).

A single redis-server accepts a script or pipeline whose keys live in different
slots; a cluster refuses it (CROSSSLOT) or routes each key to another node. The
app turns any Redis error into its DynamoDB fallback, so a cluster bug would go
unseen: every test here fails if the circuit breaker tripped at all.
"""

import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_redis import get_redis_connection
from redis.cluster import RedisCluster, key_slot

from devtools.embedded.redis_cluster import start_redis_cluster
from restaurants import services
from restaurants.cache.accounts import sessions
from restaurants.cache.accounts.sessions import SessionStore
from restaurants.cache.data import leaderboard, summaries
from restaurants.cache.plumbing import connection
from restaurants.cache.rules import keys, policy
from restaurants.dynamo.client import count_requests
from tests.cache.conftest import PASSWORD
from tests.conftest import LAB_RESTAURANTS, forget_redis_connections, real_redis_caches

# One cluster per module; under ``--dist loadgroup`` (make test) one xdist worker runs them all.
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("redis_cluster")]
FINE_DINING = "AnyCompany Fine Dining"
THAI = "Example Corp. Thai"
RESTAURANTS = LAB_RESTAURANTS
DETAIL = reverse("restaurants:detail", args=[FINE_DINING])
LIST = reverse("restaurants:list")


@pytest.fixture(scope="module")
def redis_cluster():
    cluster = start_redis_cluster(masters=3)
    yield cluster
    cluster.stop()


def cluster_caches(url: str) -> dict:
    caches = real_redis_caches(url)
    for alias in caches.values():
        alias["OPTIONS"]["CLIENT_CLASS"] = "restaurants.cache.plumbing.cluster_client.ClusterClient"
    return caches


@pytest.fixture
def cluster_site(site, redis_cluster, settings, monkeypatch):
    """The lab data (``site``), with both cache aliases on the cluster. Fails the
    test if any Redis error made the app fall back to DynamoDB."""
    settings.REDIS_CLUSTER = True
    settings.CACHES = cluster_caches(redis_cluster.url)
    redis_cluster.flushall()
    forget_redis_connections()
    connection.circuit.reset()
    errors = []
    trip = connection.circuit.trip

    def record_and_trip(error):
        errors.append(error)
        trip(error)

    monkeypatch.setattr(connection.circuit, "trip", record_and_trip)
    yield redis_cluster
    assert not errors, f"Redis errors on the cluster (served from the fallback): {errors!r}"


@pytest.fixture
def cluster(cluster_site):
    return cluster_site.client()


@pytest.fixture
def member(cluster_site):
    """A logged-in visitor whose session lives on the cluster."""
    get_user_model().objects.create_user("kim", None, PASSWORD)
    browser = Client()
    assert browser.login(username="kim", password=PASSWORD)
    return browser


def _keys_per_node(redis_cluster, pattern: str) -> list[list[bytes]]:
    return [list(node.scan_iter(match=pattern, count=1000)) for node in redis_cluster.node_clients()]


def test_both_aliases_really_use_the_cluster(cluster_site):
    assert isinstance(get_redis_connection("default"), RedisCluster)
    assert isinstance(get_redis_connection("sessions"), RedisCluster)
    assert isinstance(connection.primary(), RedisCluster) and isinstance(
        connection.on_replica(lambda client: client), RedisCluster
    )


def test_a_restaurants_keys_share_a_slot_and_restaurants_spread_over_nodes(cluster_site, cluster):
    for name in RESTAURANTS:
        tag = keys.restaurant_tag(name)
        together = [
            keys.summary_key(name),
            keys.summary_lock_key(name),
            keys.generation_key(tag),
            keys.page_group_key(tag),
            keys.fragment_key(tag, "rating", "v1"),
        ]
        assert len({key_slot(key.encode()) for key in together}) == 1, name
    lists = [keys.page_group_key(keys.LISTS_TAG), keys.generation_key(keys.LISTS_TAG), keys.leaderboard_key()]
    lists += [keys.leaderboard_details_key(), keys.leaderboard_staging_key("x"), keys.leaderboard_lock_key()]
    assert len({cluster.keyslot(key) for key in lists}) == 1

    slots = {cluster.keyslot(keys.summary_key(name)) for name in RESTAURANTS}
    nodes = {cluster.get_node_from_key(keys.summary_key(name)).name for name in RESTAURANTS}
    assert key_slot(keys.summary_key(FINE_DINING).encode()) != key_slot(keys.summary_key(THAI).encode())
    assert len(slots) == len(RESTAURANTS) and len(nodes) > 1


def test_second_anonymous_view_is_a_hit_that_costs_no_dynamodb_request(cluster_site, client):
    for url in (DETAIL, LIST, "/top/"):
        first = client.get(url)
        with count_requests() as requests:
            second = client.get(url)
        assert (first["X-Cache"], second["X-Cache"]) == ("MISS", "HIT"), url
        assert second.content == first.content
        assert sum(requests.values()) == 0, url


def test_a_posted_review_retires_the_pages_and_is_written_through(cluster_site, client, cluster):
    for url in (DETAIL, LIST):
        client.get(url)
        assert client.get(url)["X-Cache"] == "HIT"
    summaries.restaurant_summary(FINE_DINING)
    assert cluster.exists(keys.summary_key(FINE_DINING))

    services.review_post(username="kim", restaurant=FINE_DINING, rating=5, text="Clustered.")

    with count_requests() as requests:
        summary = summaries.restaurant_summary(FINE_DINING)
    assert sum(requests.values()) == 0
    assert summary.latest_reviews[0].username == "kim" and summary.restaurant.review_count == 28
    detail = client.get(DETAIL)
    assert detail["X-Cache"] == "MISS" and "Clustered." in detail.content.decode()
    assert client.get(LIST)["X-Cache"] == "MISS"


def test_concurrent_misses_cause_one_dynamodb_read(cluster_site, fake_clock, monkeypatch):
    # As in test_summary_cache: waiters wait for the holder however slow DynamoDB is.
    fake_clock.freeze()
    monkeypatch.setattr(policy, "LOCK_MILLISECONDS", 120_000)
    start = threading.Barrier(30)

    def read(_):
        start.wait()
        return summaries.restaurant_summary(FINE_DINING).restaurant.review_count

    with count_requests() as requests, ThreadPoolExecutor(max_workers=30) as pool:
        counts = list(pool.map(read, range(30)))
    assert counts == [27] * 30
    assert requests == {"Query": 1}


def test_sessions_live_on_the_cluster(cluster_site, cluster, member):
    session = SessionStore(member.cookies[django_settings.SESSION_COOKIE_NAME].value)
    assert sessions.read_ahead_key(session)  # so the page reads it in its pipeline, on its node
    assert member.get(DETAIL).context["user"].username == "kim"
    assert list(cluster.scan_iter(match="session:*"))
    member.post(reverse("restaurants:review_create", args=[FINE_DINING]), {"rating": 4, "review": "Logged in."})
    assert "Logged in." in Client().get(DETAIL).content.decode()
    assert member.get(DETAIL).context["user"].username == "kim"


def test_flush_all_empties_every_node_and_keeps_sessions(cluster_site, redis_cluster, member, client):
    call_command("warm_cache", verbosity=0)
    for namespace in ("page", "summary"):
        per_node = _keys_per_node(redis_cluster, f"site:{namespace}:*")
        assert all(per_node), f"some node holds no {namespace} keys: {[len(k) for k in per_node]}"

    call_command("flush_cache", "--all", verbosity=0)

    for node_keys in _keys_per_node(redis_cluster, "site:*"):
        assert not [
            key for key in node_keys if not key.startswith((b"site:stats", b"site:instance"))
        ]  # bookkeeping, not cache
    assert any(_keys_per_node(redis_cluster, "session:*"))
    assert member.get(DETAIL).context["user"].username == "kim"
    assert client.get(DETAIL)["X-Cache"] == "MISS"


def test_leaderboard_rebuild_top_and_write_through(cluster_site, cluster, client):
    assert leaderboard.rebuild() == 10
    top = leaderboard.top(limit=20)
    assert sorted(entry.name for entry in top) == sorted(RESTAURANTS)
    assert [entry.score for entry in top] == sorted((entry.score for entry in top), reverse=True)
    assert not list(cluster.scan_iter(match=keys.leaderboard_staging_key("*")))

    before = {entry.name: entry.score for entry in top}
    services.review_post(username="kim", restaurant=FINE_DINING, rating=5, text="Top.")
    after = {entry.name: entry for entry in leaderboard.top(limit=20)}
    assert after[FINE_DINING].score > before[FINE_DINING] and after[FINE_DINING].review_count == 28

    cluster.delete(keys.leaderboard_key())
    page = client.get(reverse("restaurants:top"))
    assert page.status_code == 200 and FINE_DINING in page.content.decode()
    assert cluster.zcard(keys.leaderboard_key()) == 10


def test_login_failures_are_throttled_on_the_cluster(cluster_site, cluster, settings):
    get_user_model().objects.create_user("kim", None, PASSWORD)
    browser = Client()
    for _ in range(settings.LOGIN_ATTEMPTS_PER_ACCOUNT_AND_CLIENT):
        assert browser.post("/accounts/login/", {"username": "kim", "password": "wrong"}).status_code == 400
    refused = browser.post("/accounts/login/", {"username": "kim", "password": PASSWORD})
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0

    [key] = cluster.scan_iter(match="session:*ratelimit:*:account:*")
    assert 0 < cluster.ttl(key) <= settings.LOGIN_FAILURE_WINDOW
    cluster.delete(key)  # what expiry does at the end of the window
    assert browser.post("/accounts/login/", {"username": "kim", "password": PASSWORD}).status_code == 302


def test_password_resets_are_throttled_on_the_cluster(cluster_site, cluster, settings):
    """Both counters of a client are checked and counted in one script: they must share its slot."""
    reset = reverse("accounts:password_reset")
    for _ in range(settings.PASSWORD_RESETS_PER_EMAIL_AND_CLIENT):
        assert Client().post(reset, {"email": "kim@example.com"}, REMOTE_ADDR="203.0.113.1").status_code == 302
    refused = Client().post(reset, {"email": "kim@example.com"}, REMOTE_ADDR="203.0.113.1")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert Client().post(reset, {"email": "kim@example.com"}, REMOTE_ADDR="198.51.100.7").status_code == 302
    assert len(list(cluster.scan_iter(match="session:*ratelimit:{reset-mail:*}:email"))) == 1


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_cluster_falls_back_to_dynamodb(site, settings):
    settings.REDIS_CLUSTER = True
    settings.CACHES = cluster_caches(f"redis://127.0.0.1:{_closed_port()}/0")
    connection.circuit.reset()
    try:
        with count_requests() as requests:
            summary = summaries.restaurant_summary(FINE_DINING)
        connection.circuit.reset()
        page = Client().get(DETAIL)
    finally:
        connection.circuit.reset()
    assert summary.restaurant.name == FINE_DINING and requests == {"Query": 1}
    assert page.status_code == 200 and "X-Cache" not in page


def test_the_dashboard_lists_every_cluster_node(cluster_site):
    from restaurants.cache.operations import health

    rows = [row for row in health.servers() if row.name.startswith("default")]
    assert len(rows) == 3 and not any(row.error for row in rows)
    assert all(row.info["redis_version"] for row in rows)


def test_a_worker_started_while_its_first_startup_node_is_down_finds_the_cluster(
    cluster_site, settings, client, member
):
    from devtools.embedded.processes import free_port
    from restaurants.cache.plumbing import cluster_client

    dead = f"redis://127.0.0.1:{free_port()}/0"
    caches = cluster_caches(dead)
    for alias in caches.values():
        alias["LOCATION"] = [dead, cluster_site.url]
    settings.CACHES = caches
    cluster_client._clusters.clear()  # a new worker process: nothing discovered yet
    assert client.get(DETAIL)["X-Cache"] == "MISS"
    assert client.get(DETAIL)["X-Cache"] == "HIT"
    fresh = Client()
    assert fresh.login(username="kim", password=PASSWORD)
    assert fresh.get(DETAIL).context["user"].username == "kim"
    for node in cluster_site.node_clients():  # every node was checked and marked
        assert list(node.scan_iter(match="site:instance*"))
