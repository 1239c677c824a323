"""Fault tests against real redis-servers of each test's own: killed, restarted
from their snapshot, promoted, reached through a TCP proxy that can move or cut
connections, and set up as production may have them (TLS only, with a
certificate from a private CA made for this test session, an administrator as
the ``default`` user, and the site logged in as an ACL user of its own).
DynamoDB Local is the truth. Each test asserts what a visitor sees and what is
stored.

``redis_errors`` records every Redis error the site swallowed: a test that
asserts it is empty proves the site really used Redis, not its DynamoDB
fallback, which would otherwise hide any refused command.
"""

import re
import uuid
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from devtools.embedded.redis_server import start_redis, start_replica
from devtools.embedded.tcp_proxy import TcpProxy
from devtools.embedded.tls import make_certificates
from restaurants.cache import invalidation
from restaurants.cache.plumbing import connection, restarts
from restaurants.cache.plumbing.connection import circuit
from restaurants.dynamo import client, writes
from restaurants.dynamo.bulk import write_items
from restaurants.dynamo.schema import create_table
from restaurants.waiting import wait_until
from reviews_site.settings import _redis_cache
from tests.conftest import lab_items, wants_stream

pytestmark = pytest.mark.integration

RESTAURANT = "Fault Line Diner"
PASSWORD = "a-Long-pass-9"
REDIS_ACL = Path(__file__).resolve().parents[2] / "deploy" / "redis-acl.txt"
ADMIN_PASSWORD = "admin-secret-9"
SITE_USER = "tastebook"
SITE_PASSWORD = "site-secret-9"
STAFF_PASSWORD = "pass-word-9"


def point_caches_at(settings, url: str, replicas: tuple[str, ...] = ()) -> None:
    settings.CACHES = {
        "default": _redis_cache([url, *replicas], "site"),
        "sessions": _redis_cache([url], "session"),
    }
    settings.REDIS_REPLICA_URLS = list(replicas)


@pytest.fixture(autouse=True)
def fresh_process_state(settings):
    """What a new web process starts with: no checked server, closed circuits, nothing pending.
    The circuit breaker is off (retry at once), so it cannot hide a fault by skipping Redis."""
    settings.CACHE_RETRY_AFTER_SECONDS = 0
    restarts.forget_checked_primaries()
    connection.circuit.reset()
    connection.replica_circuit.reset()
    invalidation.forget_pending()
    yield
    invalidation.forget_pending()


@pytest.fixture
def table(dynamodb_server, settings, monkeypatch, request):
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_server.url)
    settings.DYNAMODB_TABLE = f"faults-{uuid.uuid4().hex[:12]}"
    client.reset_client()
    create_table(stream=wants_stream(request))
    writes.restaurant_create(name=RESTAURANT, cuisine="Diner", address="1 Shaky Road")
    yield RESTAURANT
    client.call("DeleteTable")
    client.reset_client()


@pytest.fixture
def redis_factory(tmp_path):
    """Start redis-servers (persistent in their own folder) and stop them all at the end."""
    started = []

    def start(name: str = "primary", port: int = 0):
        server = start_redis(port=port, data_dir=tmp_path / name)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def proxy():
    proxies = []

    def make(target_port: int) -> TcpProxy:
        proxies.append(TcpProxy(target_port))
        return proxies[-1]

    yield make
    for each in proxies:
        each.stop()


@pytest.fixture
def author(table):
    return get_user_model().objects.create_user("fault_author", None, PASSWORD)


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory):
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tls_primary(tls_files):
    """A redis-server speaking TLS only; its default user is the tests' administrator."""
    with start_redis(tls=tls_files, password=ADMIN_PASSWORD) as server:
        yield server


@pytest.fixture
def tls_replica(tls_primary):
    with start_replica(tls_primary) as server:
        yield server


@pytest.fixture
def primary():
    """A plain redis-server, for tests about something other than TLS."""
    with start_redis() as server:
        yield server


@pytest.fixture
def replica(primary):
    with start_replica(primary) as server:
        yield server


@pytest.fixture
def site(live):
    """The lab data in DynamoDB Local; the Redis is each test's own."""
    write_items(lab_items())
    circuit.reset()
    yield
    circuit.reset()


@pytest.fixture
def redis_errors(monkeypatch) -> list[BaseException]:
    """Every Redis error the site turned into its fallback during the test."""
    errors: list[BaseException] = []
    trip = circuit.trip

    def record_and_trip(error):
        errors.append(error)
        trip(error)

    monkeypatch.setattr(circuit, "trip", record_and_trip)
    return errors


def point_the_site_at(settings, primary_url: str, replica_urls=(), *, ca_certs="", cluster: bool = False) -> None:
    """Both cache aliases on ``primary_url`` (the default alias reading from
    ``replica_urls``), as REDIS_URL, REDIS_REPLICA_URLS, REDIS_CA_CERTS and
    REDIS_CLUSTER would set them."""
    settings.REDIS_CA_CERTS = str(ca_certs)
    settings.REDIS_REPLICA_URLS = list(replica_urls)
    settings.REDIS_CLUSTER = cluster
    caches = {
        "default": _redis_cache([primary_url, *replica_urls], "site"),
        "sessions": _redis_cache([primary_url], "session"),
    }
    if cluster:
        for alias in caches.values():
            alias["OPTIONS"]["CLIENT_CLASS"] = "restaurants.cache.plumbing.cluster_client.ClusterClient"
    settings.CACHES = caches
    circuit.reset()


def documented_acl(*, cluster: bool) -> list[str]:
    """The rules of deploy/redis-acl.txt for a single server (or a primary with
    replicas) or for cluster mode, read as its header says a shell reads them:
    what the site is tested with is what operators and the template grant."""
    mode = "cluster" if cluster else "single"
    rules = []
    for line in REDIS_ACL.read_text().splitlines():
        line = line.partition("#")[0]
        tag, colon, tagged = line.partition(": ")
        if colon and tag.isalpha():
            if tag != mode:
                continue
            line = tagged
        rules += line.split()
    return rules


def create_site_user(admin, rules: list[str]) -> None:
    """The site's ACL user, with exactly ``rules`` (ACLs are per server: run on every node)."""
    admin.execute_command("ACL", "SETUSER", SITE_USER, "reset", f">{SITE_PASSWORD}", *rules)
    admin.execute_command("ACL", "LOG", "RESET")


def refused_commands(admin) -> list[str]:
    """What the server's ACL refused since the last reset (command, key or channel)."""
    return [f"{entry['reason']} {entry['object']} ({entry['username']})" for entry in admin.acl_log()]


def wait_until_replicated(primary_admin, replica_admin, timeout: float = 30) -> None:
    """Until the replica has applied everything the primary had written so far."""
    target = primary_admin.info("replication")["master_repl_offset"]
    caught_up = lambda: replica_admin.info("replication")["slave_repl_offset"] >= target  # noqa: E731
    wait_until(caught_up, timeout=timeout, every=0.01, what="the replica to catch up")


def staff_client() -> Client:
    get_user_model().objects.create_superuser("boss", "boss@example.com", STAFF_PASSWORD)
    browser = Client()
    assert browser.login(username="boss", password=STAFF_PASSWORD)
    return browser


def dashboard_rows(html: str) -> dict[str, tuple[str, str]]:
    """{address: (role, the row's HTML)} of the dashboard's Redis servers table."""
    rows = re.findall(r'<tr data-server="([^"]+)" data-role="([^"]*)">(.*?)</tr>', html, re.S)
    return {address: (role, row) for address, role, row in rows}
