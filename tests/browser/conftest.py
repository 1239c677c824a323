"""Real Chromium against the real site: gunicorn, moto's HTTP server, redis-server.

The site runs as a child process because settings are read once at Django
setup: only a fresh process sees our table name and Redis URL. Each pytest
process (each xdist worker) gets its own table, server and browser; every test
gets a fresh browser context, so no cookies leak between tests. The table is
shared by the tests of one process, so tests write to restaurants of their own
or compare counts before and after.
"""

import contextlib
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from restaurants.waiting import wait_until

from .axe import install_axe

ROOT = Path(__file__).resolve().parents[2]
AXE_CACHE = ROOT / ".axe-core"
STAFF_PASSWORD = "Staff-browser-9"
LAB_ITEMS = ROOT / "tests" / "data" / "aws-lab-items.jsonl"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
# The site's SITE_URL, where its mails link to. Gunicorn binds port 0, so this is not
# where it listens: a test follows a mailed link's path on the site it is given.
MAILED_SITE_URL = "http://tastebook.browser.test"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT = 30
ACTION_TIMEOUT_MS = 10_000

LOAD_LAB_DATA = "\n".join(
    [
        "import django, sys",
        "django.setup()",
        "from django.core.management import call_command",
        "call_command('create_table', verbosity=0)",
        "call_command('load_items', sys.argv[1], verbosity=0)",
    ]
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Keep each phase's report on the item, so ``page`` can tell a failed test."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def site_environment(dynamodb_url: str, redis_url: str, table: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "reviews_site.settings",
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_url,
        "DYNAMODB_TABLE": table,
        "REDIS_URL": redis_url,
        "SESSION_REDIS_URL": redis_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "DJANGO_SECURE_COOKIES": "false",
        "DJANGO_DEBUG": "false",
        "SITE_URL": MAILED_SITE_URL,
        "PYTHONUNBUFFERED": "1",
    }


def wait_for_gunicorn(process: subprocess.Popen, log_path: Path) -> str:
    """Gunicorn binds port 0 and logs the port it got: read it, then wait for a 200."""

    def answering() -> str | None:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{log_path.read_text(errors='replace')}")
        found = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", log_path.read_text(errors="replace"))
        if not found:
            return None
        with urllib.request.urlopen(f"{found.group(1)}/", timeout=5) as response:
            return found.group(1) if response.status == 200 else None

    return wait_until(
        answering,
        timeout=SERVER_START_TIMEOUT,
        every=0.1,
        what=lambda: f"gunicorn to answer:\n{log_path.read_text()}",
        ignoring=(urllib.error.URLError, ConnectionError, TimeoutError),
    )


@pytest.fixture(scope="session")
def site_redis():
    """A Redis of the site's own: other tests flush theirs between tests."""
    from devtools.embedded.redis_server import start_redis

    server = start_redis()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def site_mail_dir(tmp_path_factory) -> Path:
    """Where the site's mails go (Django's file backend): one file per sending."""
    return tmp_path_factory.mktemp("mail")


@pytest.fixture(scope="session")
def site_env(dynamodb_server, site_redis, site_mail_dir) -> dict[str, str]:
    """The environment the site runs with (and its management commands)."""
    env = site_environment(dynamodb_server.url, site_redis.url, f"browser-{uuid.uuid4().hex[:12]}")
    return {
        **env,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(site_mail_dir),
    }


@pytest.fixture(scope="session")
def site_url(site_env, tmp_path_factory) -> Iterator[str]:
    """Base URL (no trailing slash) of the site, serving a fresh table with the AWS lab data."""
    subprocess.run(
        [sys.executable, "-c", LOAD_LAB_DATA, str(LAB_ITEMS)], env=site_env, cwd=ROOT, check=True, timeout=60
    )
    with gunicorn_serving(site_env, tmp_path_factory.mktemp("gunicorn")) as base_url:
        yield base_url


@contextlib.contextmanager
def gunicorn_serving(env: dict[str, str], log_dir: Path) -> Iterator[str]:
    """The site under gunicorn (one worker, 4 threads) with ``env``; its base URL."""
    log_path = log_dir / "gunicorn.log"
    command = [sys.executable, "-m", "gunicorn", "reviews_site.wsgi", "-b", "127.0.0.1:0", "-w", "1"]
    command += ["--threads", "4", "--no-control-socket", "--error-logfile", str(log_path), "--capture-output"]
    with log_path.open("w") as log:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield wait_for_gunicorn(process, log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def staff_username(site_url, site_env) -> str:
    """A superuser made with ``createsuperuser --noinput``, as an operator would."""
    username = f"staff_{uuid.uuid4().hex[:8]}"
    env = {
        **site_env,
        "DJANGO_SUPERUSER_USERNAME": username,
        "DJANGO_SUPERUSER_EMAIL": f"{username}@example.com",
        "DJANGO_SUPERUSER_PASSWORD": STAFF_PASSWORD,
    }
    command = [sys.executable, "manage.py", "createsuperuser", "--noinput"]
    subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True, timeout=60)
    return username


@pytest.fixture(scope="session")
def axe_script(tmp_path_factory) -> Path:
    """axe-core's ``axe.min.js``, the pinned version (fetched from npm on first use)."""
    return install_axe(AXE_CACHE, tmp_path_factory.mktemp("axe"))


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make test does) to run the browser tests.")
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def page(browser: Browser, site_url: str, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in a fresh context (no cookies) whose relative URLs go to the site."""
    context = browser.new_context(base_url=site_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    context.close()
