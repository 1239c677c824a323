import collections
import json
from pathlib import Path

import pytest
from moto import mock_aws
from redis.connection import AbstractConnection

from restaurants.cache.data import stats
from restaurants.cache.rules import policy
from restaurants.dynamo import client
from restaurants.dynamo.schema import create_table, describe_table

LAB_ITEMS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "aws-lab-items.jsonl"
FIXTURE_LAB_ITEMS = Path(__file__).resolve().parent / "data" / "aws-lab-items.jsonl"


# The lab's ten restaurants, by name (its items.json).
LAB_RESTAURANTS = (
    "AnyCompany BBQ",
    "AnyCompany Fine Dining",
    "AnyCompany Indian",
    "AnyCompany Italian",
    "AnyCompany Mexican",
    "Example Corp. Burgers",
    "Example Corp. Italian",
    "Example Corp. Mexican",
    "Example Corp. Steaks",
    "Example Corp. Thai",
)


def lab_items() -> list[dict]:
    path = LAB_ITEMS if LAB_ITEMS.exists() else FIXTURE_LAB_ITEMS
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(autouse=True)
def fake_redis(settings):
    """A fresh, empty fakeredis server for every test (integration tests
    replace it with a real Redis)."""
    import fakeredis

    server = fakeredis.FakeServer()
    # django-redis keeps one pool per URL for the whole process: a new host name
    # per test gives each test its own pool, and so its own server.
    caches = real_redis_caches(f"redis://fake-{id(server)}:6379/0")
    for alias in caches.values():
        alias["OPTIONS"]["CONNECTION_POOL_KWARGS"] = {
            "connection_class": fakeredis.FakeRedisConnection,
            "server": server,
        }
    settings.CACHES = caches
    return server


@pytest.fixture(autouse=True)
def cache_process_state():
    """What the cache layer keeps in process memory starts empty for every test:
    the circuit breaker closed, no invalidations waiting to be replayed. (One
    test's outage must not skip Redis, or replay a write, in the next.)"""
    from restaurants.cache import invalidation
    from restaurants.cache.plumbing.connection import circuit

    def clear():
        circuit.reset()
        invalidation.forget_pending()

    clear()
    yield
    clear()


@pytest.fixture
def fake_clock(monkeypatch):
    """The cache layer's clock, moved only by the test (and by ``sleep``)."""
    from restaurants.cache.rules import clock
    from tests.fake_clock import FakeClock

    fake = FakeClock()
    monkeypatch.setattr(clock, "source", fake)
    return fake


@pytest.fixture
def site_password_hashers(settings):
    """The site's own password hashers (tests.settings has a fast one): for a
    test of what the site stores, or of a hash made by another process."""
    from django.conf import global_settings

    from reviews_site import settings as site_settings

    settings.PASSWORD_HASHERS = getattr(site_settings, "PASSWORD_HASHERS", global_settings.PASSWORD_HASHERS)


@pytest.fixture
def aws():
    """moto's in-process mock, with a fresh boto3 client."""
    with mock_aws():
        client.reset_client()
        yield
    client.reset_client()


@pytest.fixture(params=["moto", pytest.param("dynamodb-local", marks=pytest.mark.integration)])
def dynamodb_backend(request, settings, monkeypatch):
    """moto's in-process mock, then AWS's DynamoDB Local over HTTP: suites of the
    model layer that ask for it (``aws = dynamodb_backend`` in their conftest)
    run against both, so whatever moto accepts and DynamoDB rejects shows up."""
    if request.param == "moto":
        with mock_aws():
            client.reset_client()
            yield request.param
        client.reset_client()
        return
    import uuid

    server = request.getfixturevalue("dynamodb_server")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", server.url)
    settings.DYNAMODB_TABLE = f"conformance-{uuid.uuid4().hex[:12]}"
    client.reset_client()
    yield request.param
    if describe_table() is not None:
        client.call("DeleteTable")
    client.reset_client()


def wants_stream(request) -> bool:
    """Whether a test's table needs its stream (``@pytest.mark.stream``).

    Off otherwise: DynamoDB Local keeps every stream it ever made, deleted
    tables' included, and each one slows every later write (measured: loading
    the lab's 261 items went from 0.1 s to 7 s after 120 tables with streams;
    without streams it stays at 0.1 s)."""
    return request.node.get_closest_marker("stream") is not None


@pytest.fixture
def table(aws, request):
    create_table(stream=wants_stream(request))
    return aws


@pytest.fixture
def lab_review_ids():
    return [item["id"] for item in lab_items() if "id" in item]


def staff_client():
    """A test client logged in as "boss", a superuser made now (the table must exist)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    get_user_model().objects.create_superuser("boss", "boss@example.com", "pass-word-9")
    browser = Client()
    browser.login(username="boss", password="pass-word-9")
    return browser


@pytest.fixture
def lab_table(table):
    """Our table holding the lab's items.json, loaded as load_items does."""
    from restaurants.dynamo.bulk import write_items

    write_items(lab_items())
    return table


@pytest.fixture
def dynamodb_answers_error():
    """Make the boto3 client of this moment receive DynamoDB's own error answer
    (parsed by botocore's JSON protocol parser, as from the wire) instead of
    sending its requests: ``answer("ExpiredTokenException")``. Only that
    client: one built after it (the client dropped) talks to the table again."""
    import json

    from botocore.awsrequest import AWSResponse
    from botocore.parsers import create_parser

    installed = []

    def answer(code: str, *, operation: str = "", status: int = 400, request_id: str = "test-request-id"):
        body = json.dumps({"__type": f"com.amazon.coral.service#{code}", "message": f"The {code} of a test"})
        event = f"before-call.dynamodb.{operation}" if operation else "before-call.dynamodb"

        def before_call(model, **kwargs):
            raw = {"status_code": status, "headers": {"x-amzn-requestid": request_id}, "body": body.encode()}
            parsed = create_parser("json").parse(raw, model.output_shape)
            return AWSResponse("https://dynamodb.test", status, raw["headers"], None), parsed

        events = client.get_client().meta.events
        events.register_first(event, before_call, unique_id="error-answer")
        installed.append((events, event))

    yield answer
    for events, event in installed:
        events.unregister(event, unique_id="error-answer")


# --- Real services: DynamoDB Local (moto's server without Java) and redis-server ---


@pytest.fixture(scope="session")
def dynamodb_server():
    """One embedded DynamoDB per test process, in memory; tests use tables of their own."""
    import warnings

    from devtools.embedded.dynamodb import start_embedded_dynamodb

    server = start_embedded_dynamodb(notice=warnings.warn)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server():
    from devtools.embedded.redis_server import start_redis

    server = start_redis()
    yield server
    server.stop()


def forget_redis_connections() -> None:
    """After a FLUSHALL, as after a Redis restart: connect again now, so every
    server is checked and marked (restaurants/cache/plumbing/restarts.py) before the test
    writes anything, rather than emptied of what the test wrote in the middle of it."""
    from django.conf import settings
    from redis.cluster import RedisCluster

    from restaurants.cache.plumbing import cluster_client, connection, restarts

    restarts.forget_checked_primaries()
    cluster_client._clusters.clear()
    if settings.REDIS_CLUSTER:
        connection.primary().ping(target_nodes=RedisCluster.ALL_NODES)
    else:
        connection.reconnect()
        connection.primary().ping()


def real_redis_caches(url: str) -> dict:
    from reviews_site.settings import _redis_cache

    return {"default": _redis_cache([url], "site"), "sessions": _redis_cache([url], "session")}


@pytest.fixture
def live(dynamodb_server, redis_server, settings, monkeypatch, request):
    """Django talking to the embedded DynamoDB over HTTP and a real Redis, with a new table."""
    import uuid

    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_server.url)
    settings.DYNAMODB_TABLE = f"it-{uuid.uuid4().hex[:12]}"
    settings.CACHES = real_redis_caches(redis_server.url)
    redis_server.client().flushall()  # our own throwaway server: fine in tests
    forget_redis_connections()
    client.reset_client()
    create_table(stream=wants_stream(request))
    yield dynamodb_server
    client.call("DeleteTable")
    client.reset_client()


# --- Figures of the fuzz tests (tests/fuzz) ---------------------------------------
# Here, not in tests/fuzz/conftest.py: under xdist only this conftest is loaded where the
# reports arrive, and `make test` names no folder.

_fuzz_statuses: collections.Counter = collections.Counter()


def pytest_runtest_logreport(report):
    if report.when == "teardown":
        for name, statuses in report.user_properties:
            if name == "fuzz_statuses":
                _fuzz_statuses.update({int(status): count for status, count in statuses.items()})


def pytest_terminal_summary(terminalreporter):
    if _fuzz_statuses:
        total = sum(_fuzz_statuses.values())
        errors = sum(count for status, count in _fuzz_statuses.items() if status >= 500)
        by_status = ", ".join(f"{status}: {count}" for status, count in sorted(_fuzz_statuses.items()))
        terminalreporter.write_line(f"fuzz: {total} requests tried, {errors} answered 5xx ({by_status})")


@pytest.fixture
def round_trips(monkeypatch):
    """Every command or pipeline sent to any Redis, in order, as (the server's
    port, the packed bytes); the periodic flush of hit/miss counts and each
    connection's periodic check of its server (``restarts._watch``, every
    0.25 s) are put off so they are not counted."""
    monkeypatch.setattr(stats, "FLUSH_EVERY_SECONDS", 10**9)
    monkeypatch.setattr(policy, "REPLICA_CHECK_SECONDS", 10**9)
    sent = []
    send = AbstractConnection.send_packed_command

    def counting(connection, command, check_health=True):
        sent.append((connection.port, b"".join(command) if isinstance(command, list) else command))
        return send(connection, command, check_health=check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    return sent
