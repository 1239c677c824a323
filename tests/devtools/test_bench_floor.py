"""The bench's floors, cases (f) and (f-redis): bare WSGI applications that
answer the hit's bytes, from memory or from one Redis ``HGET``, under the
PEP 3333 validator (a strict server would refuse what gunicorn lets pass)."""

import io
import json
import warnings
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import WSGIWarning, validator

import fakeredis
import pytest

from devtools.bench import floor, redis_counting

HEADERS = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", "11"), ("X-Cache", "HIT")]
BODY = b"<p>page</p>"


@pytest.fixture
def floors(monkeypatch):
    client = fakeredis.FakeRedis()
    client.hset(floor.REDIS_KEY, floor.REDIS_FIELD, BODY)
    monkeypatch.setattr(floor, "_HEADERS", HEADERS)
    monkeypatch.setattr(floor, "_BODY", BODY)
    monkeypatch.setattr(floor, "_REDIS", client)
    return client


def call(application, path: str, query: str = "") -> tuple[str, list, bytes]:
    environ = {
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "REQUEST_METHOD": "GET",
        "wsgi.input": io.BytesIO(),
    }
    setup_testing_defaults(environ)
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"], captured["headers"] = status, headers
        return lambda data: None

    with warnings.catch_warnings():
        warnings.simplefilter("error", WSGIWarning)
        chunks = validator(application)(environ, start_response)
        try:
            body = b"".join(chunks)
        finally:
            chunks.close()
    return captured["status"], captured["headers"], body


def test_both_floors_answer_the_hits_bytes(floors):
    for application in (floor.application, floor.application_from_redis):
        assert call(application, "/restaurants/Anything/") == ("200 OK", HEADERS, BODY)


def test_the_redis_floor_reads_the_page_from_redis_each_time(floors):
    floors.hset(floor.REDIS_KEY, floor.REDIS_FIELD, b"<p>other</p>")
    assert call(floor.application_from_redis, "/restaurants/Anything/")[2] == b"<p>other</p>"


def test_the_redis_floor_answers_the_bench_counters(floors):
    status, headers, body = call(floor.application_from_redis, floor.COUNTERS_PATH)
    assert status == "200 OK" and ("Content-Type", "application/json") in headers
    assert json.loads(body)["redis_round_trips"] == redis_counting.round_trips()
