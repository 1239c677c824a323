"""Request metrics and the protected /metrics endpoint, on the in-process registry."""

import io
from wsgiref.util import setup_testing_defaults

import pytest
from django.urls import reverse
from prometheus_client import REGISTRY, generate_latest

from reviews_site import wsgi

FINE_DINING = "AnyCompany Fine Dining"
TOKEN = "scrape-token-for-tests"


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def requests_of(view: str, status: str) -> tuple[float, float]:
    """(requests counted, latency observations) for one view and status."""
    return (
        sample("tastebook_http_requests_total", view=view, status=status),
        sample("tastebook_http_request_duration_seconds_count", view=view, status=status),
    )


def test_a_page_request_moves_the_counter_and_the_histogram_of_its_view(client, lab_table):
    before = requests_of("restaurants:detail", "200")
    assert client.get(reverse("restaurants:detail", args=[FINE_DINING])).status_code == 200
    assert requests_of("restaurants:detail", "200") == (before[0] + 1, before[1] + 1)


def test_a_path_that_resolves_to_no_view_is_counted_as_unresolved_not_by_its_path(client, lab_table):
    before = requests_of("unresolved", "404")
    assert client.get("/no-such-page-a8f3/").status_code == 404
    assert requests_of("unresolved", "404") == (before[0] + 1, before[1] + 1)
    assert "a8f3" not in generate_latest(REGISTRY).decode()


def test_probes_are_not_counted(client):
    before = sample("tastebook_http_requests_total", view="unresolved", status="200")
    client.get("/healthz")
    assert sample("tastebook_http_requests_total", view="unresolved", status="200") == before


def wsgi_get(path: str) -> str:
    environ = {"PATH_INFO": path, "QUERY_STRING": "", "REQUEST_METHOD": "GET", "wsgi.input": io.BytesIO()}
    setup_testing_defaults(environ)
    environ["HTTP_HOST"] = "testserver"
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"], captured["headers"] = status, dict(headers)

    b"".join(wsgi.application(environ, start_response))
    return captured["headers"].get("X-Cache", "")


def test_a_page_cache_hit_at_the_wsgi_front_is_counted_as_page_cache(lab_table):
    path = reverse("restaurants:detail", args=[FINE_DINING])
    assert wsgi_get(path) == "MISS"
    before = requests_of("page_cache", "200")
    hits = sample("tastebook_cache_lookups_total", kind="page", outcome="hit")
    assert wsgi_get(path) == "HIT"
    assert requests_of("page_cache", "200") == (before[0] + 1, before[1])  # counted, not timed
    assert sample("tastebook_cache_lookups_total", kind="page", outcome="hit") == hits + 1


def test_without_a_token_configured_the_endpoint_does_not_exist(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
def test_a_missing_or_wrong_token_is_refused(client, settings, authorization):
    settings.METRICS_TOKEN = TOKEN
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    answer = client.get("/metrics", **headers)
    assert answer.status_code == 403 and b"tastebook_" not in answer.content


def test_the_token_gets_the_metrics_uncached_from_any_host(client, settings, lab_table):
    settings.METRICS_TOKEN = TOKEN
    client.get("/")
    answer = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", HTTP_HOST="10.0.3.17:8000")
    body = answer.content.decode()
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/plain")
    assert answer["Cache-Control"] == "no-store" and "X-Cache" not in answer
    assert 'tastebook_http_requests_total{status="200",view="restaurants:list"}' in body
    assert "tastebook_dynamodb_requests_total" in body and "tastebook_cache_lookups_total" in body


def test_with_a_multiprocess_directory_the_endpoint_reads_the_workers_files(client, settings, monkeypatch, tmp_path):
    """In multiprocess mode the answer comes from the files in the directory (here empty:
    this process was not started in multiprocess mode), not from this process's registry."""
    settings.METRICS_TOKEN = TOKEN
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    answer = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert answer.status_code == 200 and b"tastebook_http_requests_total" not in answer.content
