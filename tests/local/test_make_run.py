"""`make run` end to end: `manage.py run_local` starts its services, seeds the
demo data, serves the site, saves the table on Ctrl-C and restores it."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("run_local")]
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(var_dir: Path, port: int, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_ENDPOINT_URL_DYNAMODB", "REDIS_URL")}
    env["DJANGO_SETTINGS_MODULE"] = "reviews_site.settings_dev"
    command = [sys.executable, "manage.py", "run_local", "--port", str(port), "--workers", "1"]
    command += ["--var-dir", str(var_dir), "--verbosity", "0"]
    with log.open("a") as output:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)


def _wait_for_site(process: subprocess.Popen, url: str, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"the site did not come up:\n{log.read_text()}")


def _get(url: str) -> tuple[int, dict, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, dict(response.headers), response.read().decode()


def _stop(process: subprocess.Popen, log: Path) -> None:
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=120) == 0, log.read_text()


def test_make_run_serves_saves_and_restores(tmp_path):
    port, log = _free_port(), tmp_path / "run.log"
    base = f"http://127.0.0.1:{port}"
    first = _start(tmp_path / "var", port, log)
    try:
        _wait_for_site(first, f"{base}/", log)
        status, _, home = _get(f"{base}/")
        assert status == 200 and "Restaurants" in home
        page = f"{base}/restaurants/Mama's%20Burgers/"
        assert _get(page)[1]["X-Cache"] == "MISS"
        assert _get(page)[1]["X-Cache"] == "HIT"
    finally:
        _stop(first, log)
    backup = tmp_path / "var" / "table.jsonl"
    assert len(backup.read_text().splitlines()) == 240 + 2000 + 20000

    second = _start(tmp_path / "var", port, log)
    try:
        _wait_for_site(second, f"{base}/", log)
        assert "Mama&#x27;s Burgers" in _get(f"{base}/restaurants/Mama's%20Burgers/")[2]
    finally:
        _stop(second, log)
    assert "Restoring the table" in log.read_text()
