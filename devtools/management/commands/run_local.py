"""``make run``: the whole site on one machine, with no Docker and no AWS.

Unless the environment already names them, this starts the embedded DynamoDB
(AWS's DynamoDB Local, data in ``var/dynamodb``) and a real Redis (its log in
``var/redis``; it starts empty every time and keeps no snapshot: everything
it holds is a copy, sessions included, whose truth is in the table), prepares
the table (demo data on the first start), then runs gunicorn and ``manage.py
follow_stream`` (so that a review written by another client, such as the AWS
lab's scripts, is on the site within a second or so). "Site running at" is
printed once the site answers.
Settings are read once at Django setup, so the web server and the stream
follower are separate processes, started with the environment that points at
both services.

Every child dies with this process, even on SIGKILL (``die_with_parent``),
and DynamoDB Local commits each write before answering it, so a killed
``make run`` loses nothing and leaves nothing holding its ports. A lock in
``var/`` keeps a second ``make run`` in the same folder from starting (and
names the children, so the next run waits for those of a killed one to
finish stopping), and a busy web port is reported before anything starts.

Where no Java runtime can be had, moto's server stands in: it keeps the
table in memory, so only then is the table exported to ``var/table.jsonl`` on
exit and imported on the next start.
"""

import contextlib
import fcntl
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

from django.conf import settings
from django.core.management import call_command, load_command_class
from django.core.management.base import BaseCommand, CommandError

from devtools.embedded.dynamodb import start_embedded_dynamodb
from devtools.embedded.processes import die_with_parent, stop_process
from devtools.embedded.redis_server import RDB_FILENAME, start_redis
from devtools.preflight import LOCK_NAME, port_taken, running_elsewhere
from restaurants.dynamo.client import reset_client
from restaurants.dynamo.schema import ALL_INDEXES, create_table, describe_table, enable_stream
from restaurants.waiting import wait_until
from reviews_site import env

SHUTDOWN_GRACE_SECONDS = 15
# A stream follower that exits after running this long is started again;
# one that fails sooner (a bug, not a blip) is left stopped, with a warning.
FOLLOWER_RESTART_AFTER_SECONDS = 10
# A previous run killed with SIGKILL leaves its services stopping for a moment.
PREVIOUS_RUN_WAIT_SECONDS = 20
# How long the web server may take to answer its first request (workers import Django).
WEB_START_SECONDS = 60


class _Stop(Exception):
    """SIGTERM arrived: unwind exactly as for Ctrl-C."""


def _raise_stop(signum, frame):
    raise _Stop()


class Command(BaseCommand):
    help = "Run the site locally with embedded DynamoDB and Redis."
    # The system checks would build the cache objects with the Redis URL of the
    # settings, before this command points them at the Redis it starts.
    requires_system_checks = []
    _port = 8000  # the web server's, set by handle (--port); its default until then

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000, help="port of the web server (default 8000)")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
        parser.add_argument("--var-dir", default=None, help="where the data of DynamoDB and Redis live (var/)")
        parser.add_argument(
            "--demo-restaurants",
            type=int,
            default=240,
            help="restaurants in the demo data of a first start (users scale with them; default 240)",
        )

    def handle(self, *args, port, workers, var_dir=None, demo_restaurants=240, **options):
        self._demo_restaurants = demo_restaurants
        self._port = port
        var = Path(var_dir) if var_dir else Path(settings.BASE_DIR) / "var"
        var.mkdir(parents=True, exist_ok=True)
        self._lock_file = self._lock(var)  # held until this process exits, whatever ends it
        if taken := port_taken(port):
            raise CommandError(taken)
        verbosity = options["verbosity"]
        previous_sigterm = signal.signal(signal.SIGTERM, _raise_stop)
        # Started in the background by a shell, we would inherit SIGINT ignored.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        saved_in_memory = None
        web = None
        self._follower = None
        with ExitStack() as services:  # stopped last, Redis before DynamoDB
            try:
                dynamodb = self._dynamodb(services, var)
                self._redis(services, var / "redis")
                saved_in_memory = self._prepare_table(dynamodb, var / "table.jsonl", verbosity)
                call_command("collectstatic", interactive=False, verbosity=0)
                self._write_env_file(var)
                self._start_follower(verbosity)
                web = self._start_web(port, workers, var / "metrics")
                if not _answers(web, f"http://127.0.0.1:{port}/healthz"):
                    raise CommandError(f"The web server exited with status {web.returncode} before it answered.")
                self.stdout.write(self.style.SUCCESS(f"Site running at http://127.0.0.1:{port}/ (Ctrl-C to stop)"))
                self.stdout.write(
                    f"A second shell: `make superuser` makes a staff user for /admin/; "
                    f"`. {var / 'local.env'}` then any manage.py command reaches these services."
                )
                code = self._serve(web, verbosity)
                self.stderr.write(f"The web server exited with status {code}; shutting down.")
            except (KeyboardInterrupt, _Stop):
                self.stdout.write("\nStopping...")
            finally:
                # A second Ctrl-C must not cut the shutdown short.
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                if web is not None:
                    stop_process(web, SHUTDOWN_GRACE_SECONDS)
                if self._follower is not None:
                    stop_process(self._follower, SHUTDOWN_GRACE_SECONDS)
                if saved_in_memory is not None:
                    saved_in_memory()
                (var / "local.env").unlink(missing_ok=True)
        self._lock_file.close()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, previous_sigterm)

    def _lock(self, var: Path):
        """One ``make run`` per folder: an flock, released by the kernel however
        its holder ends. The file lists the holder and then its children; the
        children of a run killed with SIGKILL are still stopping (they were sent
        SIGTERM) when the next run starts, so it waits for them first."""
        handle = (var / LOCK_NAME).open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CommandError(running_elsewhere(var)) from None
        leftovers = [pid for pid in _listed_pids(handle)[1:] if _is_alive(pid)]
        if leftovers:
            self.stdout.write("Waiting for the services of the previous run to stop...")
            stopped = lambda: not any(_is_alive(pid) for pid in leftovers)  # noqa: E731
            with contextlib.suppress(TimeoutError):  # as before: after the wait, start anyway
                wait_until(stopped, timeout=PREVIOUS_RUN_WAIT_SECONDS, every=0.1, what="the previous run to stop")
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        return handle

    def _record_child(self, process: subprocess.Popen) -> None:
        self._lock_file.write(f"{process.pid}\n")
        self._lock_file.flush()

    def _dynamodb(self, cleanup: ExitStack, var: Path):
        """Start the embedded DynamoDB unless one is configured; returns it (or None)."""
        if os.environ.get("AWS_ENDPOINT_URL_DYNAMODB"):
            self.stdout.write(f"DynamoDB: {os.environ['AWS_ENDPOINT_URL_DYNAMODB']} (from the environment)")
            return None
        started = time.monotonic()
        self.stdout.write("Starting the embedded DynamoDB...")
        server = start_embedded_dynamodb(
            port=int(os.environ.get("LOCAL_DYNAMODB_PORT") or 0),
            db_path=var / "dynamodb",
            notice=lambda line: self.stdout.write(self.style.WARNING(line)),
            say=self.stdout.write,
        )
        cleanup.callback(server.stop)
        if getattr(server, "process", None) is not None:  # moto runs in a thread of ours
            self._record_child(server.process)
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = server.url
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
        reset_client()
        where = f"data in {var / 'dynamodb'}" if server.persistent else "in memory"
        self.stdout.write(f"DynamoDB: {server.kind} at {server.url}, {where} ({time.monotonic() - started:.1f} s)")
        return server

    def _redis(self, cleanup: ExitStack, data_dir: Path) -> None:
        if os.environ.get("REDIS_URL"):
            self.stdout.write("Redis: REDIS_URL from the environment")
            return
        # No snapshot: one from the last run would only be emptied by the restart check.
        (data_dir / RDB_FILENAME).unlink(missing_ok=True)
        port = int(os.environ.get("LOCAL_REDIS_PORT") or 0)
        server = start_redis(port=port, data_dir=data_dir, extra_args=("--save", ""))
        cleanup.callback(server.stop)
        self._record_child(server.process)
        os.environ["REDIS_URL"] = os.environ["SESSION_REDIS_URL"] = server.url
        # This process read CACHES before Redis existed; point it there too in
        # case a command below touches the cache. Caches connect lazily.
        for cache in settings.CACHES.values():
            if cache.get("BACKEND", "").startswith("django_redis"):
                cache["LOCATION"] = [server.url]
        self.stdout.write(f"Redis: embedded at {server.url}, empty (its log in {data_dir})")

    def _prepare_table(self, dynamodb, backup: Path, verbosity: int):
        """Create the table and fill it on its first start (the demo data, or the
        backup an in-memory run left). Returns the function that saves an
        in-memory table on exit, or None when the database keeps its own data."""
        table = describe_table()
        if table is not None:
            call_command("create_table", verbosity=verbosity)  # says it exists
            present = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
            if dynamodb is None or set(ALL_INDEXES) - present:
                # Someone else's table (perhaps made by the AWS lab), or one of an
                # older make run (before name search's GSI4): add what we need.
                call_command("upgrade_table", verbosity=verbosity)
            elif not (table.get("StreamSpecification") or {}).get("StreamEnabled"):
                enable_stream()  # data of a make run from before the table had a stream
                self.stdout.write("Enabled the table's stream")
        else:
            # Filled before its stream is enabled: DynamoDB Local would write each of
            # these items to the stream too (a third slower), for nobody: follow_stream's
            # first start skips what the stream already holds.
            create_table(stream=False)
            self.stdout.write(f"Created {settings.DYNAMODB_TABLE}")
            if backup.exists():
                self.stdout.write(f"Restoring the table from {backup}")
                call_command("import_table", str(backup), verbosity=verbosity)
            else:
                self.stdout.write("First start: writing the demo data")
                restaurants = self._demo_restaurants
                demo = {"restaurants": restaurants, "users": max(10, restaurants * 25 // 3)}
                call_command("seed_demo", verbosity=verbosity, **demo)
            enable_stream()
        if dynamodb is None or dynamodb.persistent:
            return None
        # Loaded now so that a broken export_table fails the start, not the shutdown.
        exporter = load_command_class("restaurants", "export_table")

        def save() -> None:
            self.stdout.write(f"Saving the in-memory table to {backup}")
            call_command(exporter, str(backup), verbosity=verbosity)

        return save

    def _web_environment(self) -> dict[str, str]:
        """What the web server and a second shell need to be configured as this
        process is: every variable the settings read (``reviews_site.env.names_read``:
        the one list, kept by the settings themselves) and every ``AWS_*`` one
        (boto3 reads its endpoints, credentials and profile from those, never
        from the settings), with the values this process has now (it has set the
        addresses of the services it started and DynamoDB Local's keys). The
        region and the table are written as the settings resolved them: boto3
        reads only ``AWS_DEFAULT_REGION``, so a plain boto3 script in a second
        shell would otherwise stop at NoRegionError."""
        aws = sorted(name for name in os.environ if name.startswith("AWS_") and name.isidentifier())
        names = [*env.names_read(), *aws]
        configured = {name: os.environ[name] for name in names if name in os.environ}
        # Password-reset mails are printed in this terminal (gunicorn's output) unless EMAIL_BACKEND says otherwise.
        configured.setdefault("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
        # Links in those mails point here (the site refuses to start without SITE_URL).
        configured.setdefault("SITE_URL", f"http://127.0.0.1:{self._port}")
        return {
            **configured,
            "AWS_REGION": settings.AWS_REGION,
            "AWS_DEFAULT_REGION": settings.AWS_REGION,
            "DYNAMODB_TABLE": settings.DYNAMODB_TABLE,
            "DJANGO_SECURE_COOKIES": "false",  # the local site is plain HTTP
        }

    def _child_environment(self) -> dict[str, str]:
        """The web server's and the stream follower's: ours, with ``_web_environment``
        and the settings that ship, not the development ones."""
        return {**os.environ, **self._web_environment(), "DJANGO_SETTINGS_MODULE": "reviews_site.settings"}

    def _write_env_file(self, var: Path) -> None:
        """``var/local.env``: ``. var/local.env`` in a second shell, then any
        ``python manage.py`` command (createsuperuser...) reaches the same services
        with the same settings. Readable by its owner only: it can hold secrets
        (a Redis password in a URL, AWS keys, DJANGO_SECRET_KEY)."""
        lines = [f"export {name}={shlex.quote(value)}" for name, value in self._web_environment().items()]
        lines.append("export DJANGO_SETTINGS_MODULE=reviews_site.settings_dev")
        path = var / "local.env"
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
            os.fchmod(handle.fileno(), 0o600)  # a file left by an older run kept its mode
            handle.write("\n".join(lines) + "\n")

    def _start_follower(self, verbosity: int) -> None:
        """``manage.py follow_stream``: the caches follow writes by any client."""
        env = self._child_environment()
        command = [sys.executable, "manage.py", "follow_stream", "--verbosity", str(verbosity)]
        self._follower = subprocess.Popen(
            command, env=env, cwd=settings.BASE_DIR, start_new_session=True, preexec_fn=die_with_parent
        )
        self._follower_started = time.monotonic()
        self._record_child(self._follower)

    def _serve(self, web: subprocess.Popen, verbosity: int) -> int:
        """Wait for the web server to exit, starting the follower again if it stops."""
        while True:
            try:
                return web.wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
            if self._follower is None or self._follower.poll() is None:
                continue
            code, ran = self._follower.returncode, time.monotonic() - self._follower_started
            if ran < FOLLOWER_RESTART_AFTER_SECONDS:
                self.stderr.write(
                    f"The stream follower exited with status {code} after {ran:.0f} s; not starting it again: "
                    "writes by other clients show on the site only when their cached copies expire."
                )
                self._follower = None
                continue
            self.stderr.write(f"The stream follower exited with status {code}; starting it again.")
            self._start_follower(verbosity)

    def _start_web(self, port: int, workers: int, metrics_dir: Path) -> subprocess.Popen:
        env = self._child_environment()
        # /metrics (with METRICS_TOKEN set) adds up the workers: prometheus_client's
        # multiprocess mode, its files emptied at each start (deploy/gunicorn.conf.py does the same).
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(metrics_dir))
        command = [sys.executable, "-m", "gunicorn", "reviews_site.wsgi", "-b", f"127.0.0.1:{port}"]
        command += ["-w", str(workers), "--threads", "4", "--access-logfile", "-", "--no-control-socket"]
        command += ["--graceful-timeout", "5"]
        # Own session: a terminal Ctrl-C reaches only us, and we stop the web
        # server first, before the services it depends on.
        web = subprocess.Popen(
            command, env=env, cwd=settings.BASE_DIR, start_new_session=True, preexec_fn=die_with_parent
        )
        self._record_child(web)
        return web


def _answers(web: subprocess.Popen, url: str, timeout: float = WEB_START_SECONDS) -> bool:
    """Whether the web server answers ``url`` before it exits or ``timeout`` passes."""

    def answer() -> list[int | None] | None:  # [its status], [None] once it exited, None while it refuses
        if web.poll() is not None:
            return [None]
        with urllib.request.urlopen(url, timeout=2) as response:
            return [response.status]

    try:
        return wait_until(answer, timeout=timeout, every=0.1, what=url, ignoring=(OSError,)) == [200]
    except TimeoutError:
        return False


def _listed_pids(handle) -> list[int]:
    handle.seek(0)
    return [int(line) for line in handle.read().split() if line.isdigit()]


def _is_alive(pid: int) -> bool:
    """Running, and not a zombie waiting to be reaped (it holds no port)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
