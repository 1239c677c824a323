"""Fault tests: real redis-server processes of each test's own, killed, restarted
from their snapshot, promoted, and reached through a TCP proxy that can move or
cut connections; DynamoDB Local as the truth. Each test asserts what a visitor
sees and what is stored."""

import uuid

import pytest
from django.contrib.auth import get_user_model

from devtools.embedded.redis_server import start_redis
from devtools.embedded.tcp_proxy import TcpProxy
from restaurants.cache import connection, invalidation, restarts
from restaurants.dynamo import client, services
from restaurants.dynamo.schema import create_table
from reviews_site.settings import _redis_cache

pytestmark = pytest.mark.integration

RESTAURANT = "Fault Line Diner"
PASSWORD = "a-Long-pass-9"


def point_caches_at(settings, url: str, replicas: tuple[str, ...] = ()) -> None:
    settings.CACHES = {
        "default": _redis_cache([url, *replicas], "site", checked=True),
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
    invalidation._pending.clear()
    yield
    invalidation._pending.clear()


@pytest.fixture
def table(dynamodb_server, settings, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_server.url)
    settings.DYNAMODB_TABLE = f"faults-{uuid.uuid4().hex[:12]}"
    client.reset_client()
    create_table()
    services.restaurant_create(name=RESTAURANT, cuisine="Diner", address="1 Shaky Road")
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
