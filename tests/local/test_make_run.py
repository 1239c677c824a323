"""`make run` end to end, as a newcomer runs it: `manage.py run_local` starts its
services, seeds the demo data and serves the site; killed with SIGKILL, it
leaves no process behind and loses no write; a second run in the same folder
and a busy port are refused with a clear message before anything starts."""

import contextlib
import http.cookiejar
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from devtools.embedded.processes import free_port
from restaurants.waiting import wait_until
from tests import lab_scripts
from tests.serving import first_answer

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("run_local")]
ROOT = Path(__file__).resolve().parents[2]
RESTAURANT = "Mama's Burgers"
OUTSIDE_WRITE_TARGET_SECONDS = 2.0


def _start(var_dir: Path, port: int, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_ENDPOINT_URL_DYNAMODB", "REDIS_URL")}
    env["DJANGO_SETTINGS_MODULE"] = "reviews_site.settings_dev"
    command = [sys.executable, "manage.py", "run_local", "--port", str(port), "--workers", "1"]
    # A smaller demo than make run's (the same code path): the test is about processes and data, not size.
    command += ["--var-dir", str(var_dir), "--verbosity", "0", "--demo-restaurants", "40"]
    with log.open("a") as output:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)


def _wait_for_site(process: subprocess.Popen, url: str, log: Path, timeout: float = 180) -> None:
    first_answer(process, url, log=log, timeout=timeout, every=0.3)


class Visitor:
    """A browser-like client: cookies, and the CSRF token from each form."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> tuple[int, dict, str]:
        with self.opener.open(self.base + path, timeout=15) as response:
            return response.status, dict(response.headers), response.read().decode()

    def post_form(self, path: str, fields: dict, *, form_page: str | None = None) -> str:
        _, _, form = self.get(form_page or path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **fields}).encode()
        with self.opener.open(self.base + path, data=body, timeout=15) as response:
            return response.read().decode()


def _local_env(var_dir: Path) -> dict[str, str]:
    """What ``var/local.env`` tells a second shell."""
    lines = (var_dir / "local.env").read_text().splitlines()
    return dict(shlex.split(line.removeprefix("export "))[0].split("=", 1) for line in lines)


def _outside_review_latency(var_dir: Path, base: str, page: str) -> float:
    """Seconds from a review written by the lab's create_review.py (not through
    the site) to its text on the cached anonymous page."""
    import boto3

    env = _local_env(var_dir)
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=env["AWS_ENDPOINT_URL_DYNAMODB"],
        region_name="us-east-1",
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    table = env["DYNAMODB_TABLE"]
    label = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamLabel"]

    def checkpoints() -> list:  # the follower has started: it saves a checkpoint per shard
        return dynamodb.query(
            TableName=table,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": f"STREAM#{label}"}},
        )["Items"]

    with contextlib.suppress(TimeoutError):  # as before: no checkpoint yet, and the latency check below fails
        wait_until(checkpoints, timeout=120, every=0.2, what="the stream follower's first checkpoint")
    visitor = Visitor(base)
    visitor.get(page)
    assert visitor.get(page)[1]["X-Cache"] == "HIT"
    text = f"Written by the lab script create_review.py at {time.time():.3f}."  # no HTML escaping
    written = time.monotonic()
    lab_scripts.create_review(
        restaurant=RESTAURANT, username="lab_script", rating=4, review=text, client=dynamodb, table=table
    )
    shown = lambda: text in visitor.get(page)[2]  # noqa: E731
    wait_until(shown, timeout=10 - (time.monotonic() - written), every=0.02, what="the outside review on the page")
    return time.monotonic() - written


def _processes_of(var_dir: Path, port: int) -> list[str]:
    """Command lines of live processes that name this run's folder (DynamoDB, Redis) or port (gunicorn)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (proc / "stat").read_text().split()[2]
        except OSError:
            continue
        if (str(var_dir) in command or f"127.0.0.1:{port} " in command) and state != "Z":
            found.append(command)
    return found


def test_make_run_survives_sigkill_with_every_write_and_no_leftover_process(tmp_path):
    var, port, log = tmp_path / "var", free_port(), tmp_path / "run.log"
    base = f"http://127.0.0.1:{port}"
    page = "/restaurants/" + urllib.parse.quote(RESTAURANT) + "/"
    first = _start(var, port, log)
    try:
        _wait_for_site(first, f"{base}/", log)
        visitor = Visitor(base)
        assert "Restaurants" in visitor.get("/")[2]
        assert Visitor(base).get(page)[1]["X-Cache"] == "MISS"
        assert Visitor(base).get(page)[1]["X-Cache"] == "HIT"
        latency = _outside_review_latency(var, base, page)
        print(f"outside-client review visible after {latency:.2f} s")
        assert latency < OUTSIDE_WRITE_TARGET_SECONDS
        children = _listed_children(var)
        visitor.post_form(
            "/accounts/signup/", {"username": "kept_user", "password1": "a-Long-pass-9", "password2": "a-Long-pass-9"}
        )
        after_post = visitor.post_form(
            page + "review/", {"rating": "5", "review": "Survives a kill -9."}, form_page=page
        )
        assert "Survives a kill -9." in after_post

        second_run = _start(var, free_port(), tmp_path / "second.log")
        assert second_run.wait(timeout=60) != 0
        assert "already running in this folder" in (tmp_path / "second.log").read_text()
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()

    gone = lambda: not (_processes_of(var, port) or _alive(children))  # noqa: E731
    with contextlib.suppress(TimeoutError):  # the assertions below name what is left
        wait_until(gone, timeout=30, every=0.1, what="every process of the run to end")
    assert _processes_of(var, port) == []
    assert _alive(children) == []  # the stream follower too

    restart_log = tmp_path / "restart.log"
    again = _start(var, port, restart_log)
    try:
        _wait_for_site(again, f"{base}/", restart_log)
        assert "Survives a kill -9." in Visitor(base).get(page)[2]
        assert "kept_user" in visitor.get("/")[2]  # still logged in: Redis starts empty, the session is in DynamoDB
    finally:
        again.send_signal(signal.SIGINT)
        assert again.wait(timeout=60) == 0, restart_log.read_text()
    restarted = restart_log.read_text()
    assert log.read_text().count("First start: writing the demo data") == 1 and "First start" not in restarted
    assert "WARNING" not in restarted, restarted  # a normal restart is not worth a warning
    assert (var / "dynamodb").is_dir() and not (var / "table.jsonl").exists()


def _listed_children(var_dir: Path) -> list[int]:
    """The children ``make run`` lists in its lock file (after its own pid)."""
    return [int(pid) for pid in (var_dir / "run.lock").read_text().split()[1:]]


def _alive(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            alive.append(pid)
    return alive


def test_a_busy_port_is_refused_before_anything_starts(tmp_path):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        log = tmp_path / "run.log"
        process = _start(tmp_path / "var", port, log)
        assert process.wait(timeout=60) != 0
    assert f"Port {port} is in use" in log.read_text()
    assert not (tmp_path / "var" / "dynamodb").exists()
