"""/healthz and /readyz, as a load balancer sees them."""

import json

import pytest

from devtools.embedded.processes import free_port
from restaurants import selectors
from restaurants.dynamo import client as dynamo_client
from restaurants.dynamo.client import count_requests
from tests.conftest import real_redis_caches


@pytest.fixture(autouse=True)
def no_remembered_readiness():
    selectors._readiness = None
    selectors._timeouts_in_a_row.clear()
    yield
    selectors._readiness = None
    selectors._timeouts_in_a_row.clear()


def test_liveness_does_no_io_and_accepts_any_host(client, settings):
    settings.CACHES = real_redis_caches(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    with count_requests() as requests:
        answer = client.get("/healthz", HTTP_HOST="10.0.3.17:8000")
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}
    assert sum(requests.values()) == 0 and answer["Cache-Control"] == "no-store"


def test_readiness_names_each_dependency(client, table, fake_clock):
    answer = client.get("/readyz", HTTP_HOST="10.0.3.17")
    body = answer.json()
    assert answer.status_code == 200 and body["status"] == "ok"
    assert set(body["checks"]) == {"dynamodb", "redis:default", "redis:sessions"}
    assert all(check["state"] == "ok" for check in body["checks"].values())


def test_redis_down_is_degraded_but_ready(client, table, settings):
    settings.CACHES = real_redis_caches(f"redis://127.0.0.1:{free_port()}/0")
    answer = client.get("/readyz")
    assert answer.status_code == 200 and answer.json()["status"] == "degraded"
    assert answer.json()["checks"]["redis:default"]["state"] == "down"


def test_dynamodb_unreachable_is_not_ready(client, table, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", f"http://127.0.0.1:{free_port()}")
    dynamo_client.reset_client()
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["status"] == "unavailable" and answer.json()["checks"]["dynamodb"]["state"] == "down"
    assert "Traceback" not in json.dumps(answer.json())


def test_a_probe_storm_costs_one_check(client, table, fake_clock):
    with count_requests() as requests:
        statuses = {client.get("/readyz").status_code for _ in range(50)}
    assert statuses == {200} and requests == {"DescribeTable": 1}


def test_a_dynamodb_that_answers_slowly_is_slow_and_still_ready(client, table, fake_clock, monkeypatch):
    real_probe = dynamo_client.probe_table

    def answers_after_2_2_seconds(*, timeout: float) -> None:
        real_probe(timeout=timeout)
        fake_clock.advance(2.2)  # a loaded machine: DynamoDB answered, late

    monkeypatch.setattr(dynamo_client, "probe_table", answers_after_2_2_seconds)
    answer = client.get("/readyz")
    assert answer.status_code == 200 and answer.json()["status"] == "degraded"
    assert answer.json()["checks"]["dynamodb"] == {"state": "slow", "ms": 2200.0}
    assert answer.json()["checks"]["redis:default"] == {"state": "ok", "ms": 0.0}
