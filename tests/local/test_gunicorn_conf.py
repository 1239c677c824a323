"""The production gunicorn configuration serves the site, probes included, and stops gracefully."""

import os
import signal
import subprocess
import sys
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from devtools.embedded.processes import free_port
from tests.serving import first_answer

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def site_env(dynamodb_server, redis_server, port: int, **extra: str) -> dict[str, str]:
    """The production settings against the test's DynamoDB Local and Redis, with a table of its own."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "reviews_site.settings",
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_server.url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "DYNAMODB_TABLE": f"gunicorn-{uuid.uuid4().hex[:8]}",
        "REDIS_URL": redis_server.url,
        "SESSION_REDIS_URL": redis_server.url,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "SITE_URL": f"http://127.0.0.1:{port}",
        **extra,
    }


def test_deploy_gunicorn_conf_serves_the_probes_and_stops_on_sigterm(dynamodb_server, redis_server, tmp_path):
    port = free_port()
    env = site_env(dynamodb_server, redis_server, port, GUNICORN_WORKERS="1")
    subprocess.run([sys.executable, "manage.py", "create_table"], cwd=ROOT, env=env, check=True, timeout=60)
    log = (tmp_path / "gunicorn.log").open("w")
    command = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "reviews_site.wsgi"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        readyz = f"http://127.0.0.1:{port}/readyz"
        ready = first_answer(server, readyz, log=tmp_path / "gunicorn.log", timeout=60, every=0.1)
        assert b'"status": "ok"' in ready
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
            assert answer.status == 200
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0, (tmp_path / "gunicorn.log").read_text()


def _scrape_total(text: str, name: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + "{"))


def _per_worker_requests(metrics_dir: Path, tmp_path: Path) -> dict[str, float]:
    """tastebook_http_requests_total of each worker, read from its own file."""
    from prometheus_client import CollectorRegistry, generate_latest, multiprocess

    totals = {}
    for path in metrics_dir.glob("counter_*.db"):
        alone = tmp_path / f"alone-{path.stem}"
        alone.mkdir()
        (alone / path.name).write_bytes(path.read_bytes())
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(alone))
        totals[path.stem] = _scrape_total(generate_latest(registry).decode(), "tastebook_http_requests_total")
    return totals


def test_metrics_add_up_every_worker(dynamodb_server, redis_server, tmp_path):
    """Two gunicorn workers in multiprocess mode: /metrics (served by either) counts
    every request, whichever worker answered it, page-cache hits at the WSGI front included."""
    port, token, requests = free_port(), "scrape-token", 40
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"left by an earlier run")  # emptied at start
    env = site_env(
        dynamodb_server,
        redis_server,
        port,
        CACHE_KEY_PREFIX=f"metrics-{uuid.uuid4().hex[:8]}",
        GUNICORN_WORKERS="2",
        METRICS_TOKEN=token,
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    )
    subprocess.run([sys.executable, "manage.py", "create_table"], cwd=ROOT, env=env, check=True, timeout=60)
    log = (tmp_path / "gunicorn.log").open("w")
    command = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "reviews_site.wsgi"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        first_answer(server, f"{base}/healthz", log=tmp_path / "gunicorn.log", timeout=60, every=0.1)  # not counted

        def get(_):
            with urllib.request.urlopen(f"{base}/", timeout=10) as answer:
                return answer.status

        with ThreadPoolExecutor(max_workers=8) as pool:
            assert set(pool.map(get, range(requests))) == {200}

        scrape = urllib.request.Request(f"{base}/metrics", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(scrape, timeout=5) as answer:
            text = answer.read().decode()
        assert _scrape_total(text, "tastebook_http_requests_total") == requests, text
        hit_series = 'tastebook_http_requests_total{status="200",view="page_cache"} '
        hits = sum(float(line.split(" ")[1]) for line in text.splitlines() if line.startswith(hit_series))
        assert hits >= 1  # answered by the WSGI front, counted but not timed
        assert _scrape_total(text, "tastebook_http_request_duration_seconds_count") == requests - hits
        assert _scrape_total(text, "tastebook_dynamodb_requests_total") >= 1
        per_worker = _per_worker_requests(metrics_dir, tmp_path)
        assert "counter_1" not in per_worker and len(per_worker) == 2, per_worker
        assert sum(per_worker.values()) == requests, per_worker
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0, (tmp_path / "gunicorn.log").read_text()
