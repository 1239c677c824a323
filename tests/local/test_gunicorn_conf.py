"""The production gunicorn configuration serves the site, probes included, and stops gracefully."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from devtools.embedded.processes import free_port

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def test_deploy_gunicorn_conf_serves_the_probes_and_stops_on_sigterm(dynamodb_server, redis_server, tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "reviews_site.settings",
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_server.url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "DYNAMODB_TABLE": f"gunicorn-{uuid.uuid4().hex[:8]}",
        "REDIS_URL": redis_server.url,
        "SESSION_REDIS_URL": redis_server.url,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
    }
    subprocess.run([sys.executable, "manage.py", "create_table"], cwd=ROOT, env=env, check=True, timeout=60)
    log = (tmp_path / "gunicorn.log").open("w")
    command = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "reviews_site.wsgi"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as answer:
                    assert answer.status == 200 and b'"status": "ok"' in answer.read()
                    break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "gunicorn.log").read_text()
                time.sleep(0.1)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
            assert answer.status == 200
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0, (tmp_path / "gunicorn.log").read_text()
