"""gunicorn processes for the bench, and a small HTTP client to talk to them."""

import http.client
import json
import os
import re
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from devtools.embedded.processes import stop_process
from restaurants.waiting import wait_until

STARTUP_TIMEOUT_SECONDS = 30
SHUTDOWN_GRACE_SECONDS = 10
REQUEST_TIMEOUT_SECONDS = 30

_CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class BenchError(RuntimeError):
    """Something the bench needs did not behave (a server, a page, a counter)."""


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    cookies: dict[str, str] = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


class WebServer:
    """One gunicorn master and its workers, in their own session."""

    def __init__(self, name: str, process: subprocess.Popen, port: int, log_path: Path) -> None:
        self.name = name
        self.process = process
        self.port = port
        self.log_path = log_path
        self.base_url = f"http://127.0.0.1:{port}"

    def request(self, method: str, path: str, *, cookies=None, form=None, headers=None) -> Response:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT_SECONDS)
        all_headers = dict(headers or {})
        if cookies:
            all_headers["Cookie"] = cookie_header(cookies)
        body = None
        if form is not None:
            body = urlencode(form)
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=all_headers)
            raw = connection.getresponse()
            content = raw.read()
        finally:
            connection.close()
        set_cookies = SimpleCookie()
        for header in raw.headers.get_all("Set-Cookie") or []:
            set_cookies.load(header)
        return Response(raw.status, raw.headers, content, {name: morsel.value for name, morsel in set_cookies.items()})

    def get(self, path: str, *, cookies=None) -> Response:
        return self.request("GET", path, cookies=cookies)

    def counters(self, *, reset: bool = False) -> dict:
        response = self.get("/bench/counters/" + ("?reset=1" if reset else ""))
        if response.status != 200:
            raise BenchError(f"{self.name}: /bench/counters/ answered {response.status}")
        counters = json.loads(response.body)
        if not counters["counted_in_shared_memory"]:
            raise BenchError(f"{self.name}: Redis round trips are counted per worker (was --preload dropped?)")
        return counters

    def log_in(self, username: str, password: str) -> dict[str, str]:
        """Log in through the real form; the cookies of the logged-in session."""
        page = self.get("/accounts/login/")
        token = _CSRF_FIELD.search(page.body.decode())
        if page.status != 200 or token is None or "csrftoken" not in page.cookies:
            raise BenchError(f"{self.name}: the login page gave no CSRF token (status {page.status})")
        cookies = {"csrftoken": page.cookies["csrftoken"]}
        form = {"username": username, "password": password, "csrfmiddlewaretoken": token.group(1)}
        answer = self.request("POST", "/accounts/login/", cookies=cookies, form=form)
        if answer.status != 302 or "sessionid" not in answer.cookies:
            raise BenchError(f"{self.name}: logging in as {username} failed (status {answer.status})")
        return {**cookies, **answer.cookies}

    def stop(self) -> None:
        stop_process(self.process, SHUTDOWN_GRACE_SECONDS)


def start_gunicorn(
    name: str,
    *,
    env: dict[str, str],
    log_dir: Path,
    workers: int = 2,
    threads: int = 1,
    app: str = "reviews_site.wsgi",
) -> WebServer:
    """gunicorn on 127.0.0.1 (a free port) with the bench settings, ready to serve.

    ``--preload`` makes the workers share the Redis round-trip counter (see
    ``redis_counting``); ``threads`` > 1 selects gthread workers; ``app``: the
    WSGI application (the site, or the floor of case (f))."""
    port = free_port()
    log_path = log_dir / f"gunicorn-{name}.log"
    command = [sys.executable, "-m", "gunicorn", app, "-b", f"127.0.0.1:{port}"]
    command += ["-w", str(workers), "--threads", str(threads), "--preload", "--no-control-socket"]
    command += ["--log-level", "warning", "--error-logfile", str(log_path)]
    process = subprocess.Popen(
        command,
        env={**os.environ, **env, "DJANGO_SETTINGS_MODULE": "devtools.bench.settings"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a terminal Ctrl-C reaches the bench, which stops us in order
    )
    server = WebServer(name, process, port, log_path)

    def answering() -> bool:
        if process.poll() is not None:
            raise BenchError(f"gunicorn {name} exited with {process.returncode}; see {log_path}")
        return server.get("/bench/minimal/").status == 200

    try:
        wait_until(answering, timeout=STARTUP_TIMEOUT_SECONDS, every=0.1, what=f"gunicorn {name}", ignoring=(OSError,))
    except TimeoutError:
        server.stop()
        raise BenchError(f"gunicorn {name} did not answer within {STARTUP_TIMEOUT_SECONDS}s; see {log_path}") from None
    return server
