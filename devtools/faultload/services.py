"""What a fault run starts: DynamoDB Local with a small data set, writers who
can log in, Redis servers to break, and the site under gunicorn.

Every process is registered on the caller's ExitStack as soon as it exists,
so a failure or a Ctrl-C half-way through a start leaves nothing running.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis

from devtools.bench.web import WebServer
from devtools.embedded.dynamodb_local import (
    DynamoDBLocal,
    DynamoDBLocalError,
    DynamoDBLocalUnavailable,
    start_dynamodb_local,
)
from devtools.embedded.processes import die_with_parent, free_port, stop_process
from devtools.embedded.redis_server import EmbeddedRedis, start_redis
from restaurants import waiting

SETTINGS = "reviews_site.settings_dev"
TABLE = "Restaurants"
WRITER_PASSWORD = "fault-Load-pass-7"
STARTUP_TIMEOUT_SECONDS = 40
# Nothing listens on port 1: a stray cache call in the runner itself fails at
# once instead of reaching a Redis that belongs to someone else.
NOWHERE = "redis://127.0.0.1:1/0"


class FaultLoadError(RuntimeError):
    """A service the run needs did not start or behave."""


def site_environment(dynamodb_url: str, redis: dict[str, str]) -> dict[str, str]:
    """Every setting the site reads that could point elsewhere, pinned to ours;
    ``redis`` overrides the Redis endpoints (see ``faults.Stage.redis``)."""
    return {
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "DYNAMODB_TABLE": TABLE,
        "REDIS_URL": NOWHERE,
        "SESSION_REDIS_URL": NOWHERE,
        "REDIS_REPLICA_URLS": "",
        "REDIS_CLUSTER": "false",
        "CACHE_KEY_PREFIX": "site",
        "CACHE_ENABLED": "true",
        "DJANGO_DEBUG": "false",
        "SITE_URL": "http://127.0.0.1",  # no mail is followed: any address the check accepts
        "DJANGO_SECURE_COOKIES": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
        **redis,
    }


def start_dynamodb(stack: contextlib.ExitStack) -> DynamoDBLocal:
    """DynamoDB Local in memory: the run's truth, gone when the run ends."""
    try:
        server = start_dynamodb_local()
    except (DynamoDBLocalUnavailable, DynamoDBLocalError) as error:
        raise FaultLoadError(f"DynamoDB Local did not start: {error}") from error
    stack.callback(server.stop)
    return server


def seed(*, restaurants: int, users: int, reviews_per_user: int) -> None:
    """The table and the demo data set, through the project's own commands."""
    from django.core.management import call_command

    call_command("create_table", verbosity=0)
    call_command("seed_demo", restaurants=restaurants, users=users, reviews_per_user=reviews_per_user, verbosity=0)


def create_writers(count: int) -> list[str]:
    """``count`` users who can log in. The password is hashed once and shared:
    each hash costs most of a second of a CPU the load needs."""
    from django.contrib.auth.hashers import make_password

    from restaurants.models import User

    password = make_password(WRITER_PASSWORD)
    names = [f"faultload-writer-{number}" for number in range(1, count + 1)]
    for name in names:
        user = User(username=name, email="")
        user.password = password
        user.save(force_insert=True)
    return names


def start_redis_server(stack: contextlib.ExitStack, folder: Path, *, port: int = 0) -> EmbeddedRedis:
    """A redis-server keeping its RDB snapshot in ``folder`` (so a restart loads it)."""
    server = start_redis(port=port, data_dir=folder)
    stack.callback(server.stop)
    return server


def kill(process: subprocess.Popen) -> None:
    """SIGKILL, as a crashed node or a lost host: no save, no goodbye."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, signal.SIGKILL)
    process.wait()


def in_sync(replica: EmbeddedRedis, primary: EmbeddedRedis) -> bool:
    try:
        info = replica.client().info("replication")
        offset = primary.client().info("replication").get("master_repl_offset")
    except redis.RedisError:  # a server still starting counts as "not yet"
        return False
    return info.get("master_link_status") == "up" and info.get("master_repl_offset") == offset


def replicate(replica: EmbeddedRedis, primary: EmbeddedRedis, timeout: float = 15) -> float:
    """REPLICAOF, then wait until the replica has everything; the seconds it took."""
    started = time.monotonic()
    replica.client().replicaof("127.0.0.1", primary.port)
    wait_until(lambda: in_sync(replica, primary), timeout, f"redis {replica.port} to sync from {primary.port}")
    return time.monotonic() - started


def wait_until(condition, timeout: float, what: str) -> None:
    """restaurants.waiting's, every 50 ms, failing with the fault load's own error."""
    try:
        waiting.wait_until(condition, timeout=timeout, every=0.05, what=what)
    except TimeoutError as error:
        raise FaultLoadError(str(error)) from None


def start_site(stack: contextlib.ExitStack, *, env: dict[str, str], log_path: Path) -> WebServer:
    """gunicorn with 2 workers of 4 threads on a free loopback port, ready to serve.

    Its stdout and stderr (gunicorn's own log and Django's warnings and
    tracebacks) go to ``log_path``: the evidence for whatever the load sees."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "reviews_site.wsgi", "-b", f"127.0.0.1:{port}"]
    command += ["-w", "2", "--threads", "4", "--preload", "--no-control-socket", "--graceful-timeout", "3"]
    command += ["--log-level", "warning", "--error-logfile", "-"]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a terminal Ctrl-C reaches the runner, which stops us in order
            preexec_fn=die_with_parent,  # and a runner killed with -9 takes us along
        )
    stack.callback(stop_process, process, 10)
    site = WebServer("site", process, port, log_path)

    def answering() -> bool:
        if process.poll() is not None:
            raise FaultLoadError(f"gunicorn exited with {process.returncode}; see {log_path}")
        return site.get("/accounts/login/").status == 200

    try:
        waiting.wait_until(answering, timeout=STARTUP_TIMEOUT_SECONDS, every=0.1, what="gunicorn", ignoring=(OSError,))
    except TimeoutError:
        raise FaultLoadError(f"gunicorn did not answer within {STARTUP_TIMEOUT_SECONDS}s; see {log_path}") from None
    return site
