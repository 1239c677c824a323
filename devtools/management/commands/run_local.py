"""``make run``: the whole site on one machine, with no Docker and no AWS.

Unless the environment already names them, this starts an embedded DynamoDB
(moto, in this process) and a real Redis (child process, persisted under
``var/redis``), prepares the table, then runs gunicorn as a child process
whose environment points at both. Settings are read once at Django setup, so
the web server must be a separate process to see the new ``REDIS_URL``.

The embedded DynamoDB lives in memory only, so on Ctrl-C or SIGTERM the table
is exported to ``var/table.jsonl`` (atomically, by ``export_table``) and
imported again on the next start; the demo data are seeded on the first start
only. A DynamoDB named by ``AWS_ENDPOINT_URL_DYNAMODB`` keeps its own data and
is neither imported into nor exported from.
"""

import os
import signal
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

from django.conf import settings
from django.core.management import call_command, load_command_class
from django.core.management.base import BaseCommand

from devtools.embedded.moto_server import start_dynamodb
from devtools.embedded.processes import stop_process
from devtools.embedded.redis_server import start_redis
from restaurants.dynamo.client import reset_client
from restaurants.dynamo.schema import describe_table

SHUTDOWN_GRACE_SECONDS = 15


class _Stop(Exception):
    """SIGTERM arrived: unwind exactly as for Ctrl-C."""


def _raise_stop(signum, frame):
    raise _Stop()


class Command(BaseCommand):
    help = "Run the site locally with embedded DynamoDB and Redis; saves the table on exit."
    # The system checks would build the cache objects with the Redis URL of the
    # settings, before this command points them at the Redis it starts.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000, help="port of the web server (default 8000)")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
        parser.add_argument("--var-dir", default=None, help="where the table backup and Redis data live (var/)")

    def handle(self, *args, port, workers, var_dir=None, **options):
        var = Path(var_dir) if var_dir else Path(settings.BASE_DIR) / "var"
        backup = var / "table.jsonl"
        verbosity = options["verbosity"]
        previous_sigterm = signal.signal(signal.SIGTERM, _raise_stop)
        # Loaded now so that a broken export_table fails the start, not the
        # shutdown, when the in-memory table would be lost.
        exporter = load_command_class("restaurants", "export_table")
        embedded_dynamodb = table_ready = False
        web = None
        with ExitStack() as services:  # stopped last, Redis before DynamoDB
            try:
                embedded_dynamodb = self._dynamodb(services)
                self._redis(services, var / "redis")
                table_ready = self._prepare_table(embedded_dynamodb, backup, verbosity)
                # Redis kept its data (and sessions) across the restart; the table was
                # just restored, so drop cached copies rather than trust them.
                call_command("flush_cache", "--all", verbosity=verbosity)
                call_command("collectstatic", interactive=False, verbosity=0)
                web = self._start_web(port, workers)
                self.stdout.write(self.style.SUCCESS(f"Site running at http://127.0.0.1:{port}/ (Ctrl-C to stop)"))
                code = web.wait()
                self.stderr.write(f"The web server exited with status {code}; shutting down.")
            except (KeyboardInterrupt, _Stop):
                self.stdout.write("\nStopping...")
            finally:
                # A second Ctrl-C must not cut the export short.
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                if web is not None:
                    self._stop_web(web)
                if embedded_dynamodb and table_ready:
                    self._save_table(exporter, backup, verbosity)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, previous_sigterm)

    def _dynamodb(self, cleanup: ExitStack) -> bool:
        """Start the embedded DynamoDB unless one is configured; True if started."""
        if os.environ.get("AWS_ENDPOINT_URL_DYNAMODB"):
            self.stdout.write(f"DynamoDB: {os.environ['AWS_ENDPOINT_URL_DYNAMODB']} (from the environment)")
            return False
        server = start_dynamodb(port=int(os.environ.get("LOCAL_DYNAMODB_PORT") or 0))
        cleanup.callback(server.stop)
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = server.url
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
        reset_client()
        self.stdout.write(f"DynamoDB: embedded at {server.url}")
        return True

    def _redis(self, cleanup: ExitStack, data_dir: Path) -> None:
        if os.environ.get("REDIS_URL"):
            self.stdout.write("Redis: REDIS_URL from the environment")
            return
        server = start_redis(port=int(os.environ.get("LOCAL_REDIS_PORT") or 0), data_dir=data_dir)
        cleanup.callback(server.stop)
        os.environ["REDIS_URL"] = server.url
        # This process read CACHES before Redis existed; point it there too in
        # case a command below touches the cache. Caches connect lazily.
        for cache in settings.CACHES.values():
            if cache.get("BACKEND", "").startswith("django_redis"):
                cache["LOCATION"] = [server.url]
        self.stdout.write(f"Redis: embedded at {server.url}, data in {data_dir}")

    def _prepare_table(self, embedded_dynamodb: bool, backup: Path, verbosity: int) -> bool:
        """Create, fill (first start: demo data; later: the last export) and upgrade the table."""
        existed = describe_table() is not None
        call_command("create_table", verbosity=verbosity)
        if embedded_dynamodb and backup.exists():
            self.stdout.write(f"Restoring the table from {backup}")
            call_command("import_table", str(backup), verbosity=verbosity)
        elif not existed:
            self.stdout.write("First start: writing the demo data")
            call_command("seed_demo", verbosity=verbosity)
        if existed and not embedded_dynamodb:
            # Someone else's table (perhaps made by the AWS lab): add what we need.
            # Our own loads above write every attribute already.
            call_command("upgrade_table", verbosity=verbosity)
        return True

    def _start_web(self, port: int, workers: int) -> subprocess.Popen:
        env = {**os.environ, "DJANGO_SECURE_COOKIES": "false"}
        env.setdefault("DJANGO_SETTINGS_MODULE", "reviews_site.settings")
        command = [sys.executable, "-m", "gunicorn", "reviews_site.wsgi", "-b", f"127.0.0.1:{port}"]
        command += ["-w", str(workers), "--threads", "4", "--access-logfile", "-", "--no-control-socket"]
        # Own session: a terminal Ctrl-C reaches only us, and we stop the web
        # server first, before the services it depends on.
        return subprocess.Popen(command, env=env, cwd=settings.BASE_DIR, start_new_session=True)

    def _stop_web(self, web: subprocess.Popen) -> None:
        stop_process(web, SHUTDOWN_GRACE_SECONDS)

    def _save_table(self, exporter: BaseCommand, backup: Path, verbosity: int) -> None:
        """Export the in-memory table. Only called once it finished loading,
        so a failed start cannot replace a good backup with a partial one."""
        self.stdout.write(f"Saving the table to {backup}")
        call_command(exporter, str(backup), verbosity=verbosity)
