"""One structured line per request, with the request id, and never a secret."""

import io
import json
import logging
import logging.config
import re

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from reviews_site.settings import logging_config
from tests.web.test_metrics import wsgi_get  # imports reviews_site.wsgi, which runs django.setup() (and LOGGING) once

PASSWORD = "pass-word-9-never-logged"
FINE_DINING = "AnyCompany Fine Dining"


STREAM = io.StringIO()  # where the fixture's LOGGING writes (ext://tests.web.test_request_log.STREAM)


@pytest.fixture
def json_log():
    """Django's LOGGING as LOG_FORMAT=json configures it, writing to a string;
    returns a function that parses every line written so far."""
    STREAM.seek(0)
    STREAM.truncate()
    config = logging_config("json", requests=True)
    config["handlers"]["console"]["stream"] = f"ext://{__name__}.STREAM"
    logging.config.dictConfig(config)

    def lines() -> list[dict]:
        return [json.loads(line) for line in STREAM.getvalue().splitlines() if line.strip()]

    yield lines
    logging.config.dictConfig(django_settings.LOGGING)


def request_lines(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["logger"] == "restaurants.requests"]


def test_a_request_is_one_json_line_with_its_fields(client, lab_table, json_log):
    answer = client.get(reverse("restaurants:detail", args=[FINE_DINING]) + "?token=s3cr3t-in-query")
    [line] = request_lines(json_log())
    assert line["level"] == "INFO" and re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", line["time"])
    assert line["view"] == "restaurants:detail" and line["status"] == 200 and line["method"] == "GET"
    assert line["path"] == f"/restaurants/{FINE_DINING}/"  # no query string
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] > 0
    assert re.fullmatch(r"[0-9a-f]{32}", line["request_id"]) and answer["X-Request-ID"] == line["request_id"]
    assert "user_id" not in line and "s3cr3t" not in json.dumps(line)


def test_the_load_balancers_request_id_is_kept(client, lab_table, json_log):
    trace = "Root=1-67891233-abcdef012345678912345678"
    answer = client.get("/", HTTP_X_AMZN_TRACE_ID=trace)
    assert request_lines(json_log())[0]["request_id"] == trace == answer["X-Request-ID"]
    client.get("/", HTTP_X_REQUEST_ID='bad id\n{"forged": 1}')
    assert re.fullmatch(r"[0-9a-f]{32}", request_lines(json_log())[-1]["request_id"])


def test_other_lines_written_during_a_request_carry_its_id(client, lab_table, json_log, monkeypatch):
    from tests.cache.conftest import fail_dynamodb_reads

    fail_dynamodb_reads(monkeypatch, "restaurant_list")  # the 503 page logs a warning
    assert client.get("/", HTTP_X_REQUEST_ID="req-42").status_code == 503
    lines = json_log()
    warnings = [line for line in lines if line["logger"] == "restaurants.error_pages"]
    assert warnings and {line["request_id"] for line in warnings} == {"req-42"}
    assert request_lines(lines)[-1]["request_id"] == "req-42"


def test_a_login_logs_the_user_id_but_never_the_password_or_the_session(client, table, json_log):
    get_user_model().objects.create_user("kim", "kim@example.com", PASSWORD)
    client.post("/accounts/login/", {"username": "kim", "password": "wrong-" + PASSWORD})
    answer = client.post("/accounts/login/", {"username": "kim", "password": PASSWORD})
    assert answer.status_code == 302
    session_id = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    client.get("/")
    lines = json_log()
    everything = json.dumps(lines)
    assert PASSWORD not in everything and session_id not in everything
    assert "csrf" not in everything.lower() and "cookie" not in everything.lower()
    logged = request_lines(lines)
    assert [(line["view"], line["status"]) for line in logged][-2:] == [
        ("accounts:login", 302),
        ("restaurants:list", 200),
    ]
    assert logged[-1]["user_id"] == "kim"


def test_plain_text_is_the_default_and_the_request_log_is_off_with_it():
    config = logging_config("plain")
    assert config["handlers"]["console"]["formatter"] == "plain"
    assert config["loggers"]["restaurants.requests"]["level"] == "WARNING"
    assert logging_config("json", requests=True)["handlers"]["console"]["formatter"] == "json"


def test_a_page_cache_hit_at_the_wsgi_front_is_logged_too(lab_table, json_log):
    path = reverse("restaurants:detail", args=[FINE_DINING])
    assert wsgi_get(path) == "MISS" and wsgi_get(path) == "HIT"
    views = [(line["view"], line["status"]) for line in request_lines(json_log())]
    assert views == [("restaurants:detail", 200), ("page_cache", 200)]
