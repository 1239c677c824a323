import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from restaurants.cache.plumbing.connection import circuit
from restaurants.dynamo.bulk import write_items
from tests.conftest import lab_items

PASSWORD = "pass-word-9"


@pytest.fixture
def site(live, redis_server):
    """The lab data on moto's HTTP server, with a real, empty Redis."""
    write_items(lab_items())
    circuit.reset()
    redis_server.client().config_resetstat()
    yield redis_server
    circuit.reset()


@pytest.fixture
def redis(site):
    return site.client()


@pytest.fixture
def member(site):
    """A logged-in visitor."""
    get_user_model().objects.create_user("kim", None, PASSWORD)
    browser = Client()
    browser.login(username="kim", password=PASSWORD)
    return browser


def fail_dynamodb_reads(monkeypatch, read: str) -> list[dict]:
    """Make the model layer's ``read`` (e.g. "restaurant_list") fail as a DynamoDB
    outage does; the list returned records every attempt."""
    from restaurants.dynamo import reads
    from restaurants.dynamo.errors import Unavailable

    attempts = []

    def outage(**kwargs):
        attempts.append(kwargs)
        raise Unavailable("throttled")

    monkeypatch.setattr(reads, read, outage)
    return attempts


def command_count(redis, command: str) -> int:
    stats = redis.info("commandstats")
    return stats.get(f"cmdstat_{command}", {}).get("calls", 0)


def total_commands(redis) -> int:
    """Commands the server ran, not counting the INFO calls that ask."""
    stats = redis.info("commandstats")
    return sum(value["calls"] for name, value in stats.items() if name != "cmdstat_info")
