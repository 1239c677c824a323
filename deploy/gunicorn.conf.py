"""Gunicorn in production: ``gunicorn -c deploy/gunicorn.conf.py reviews_site.wsgi``.

Every value can be overridden by gunicorn's own environment variable
(``GUNICORN_CMD_ARGS``) or ours below; defaults suit one container or
instance behind a load balancer.

Metrics: each worker is a process with its own counters, so prometheus_client
runs in multiprocess mode: every worker writes its metrics to files in
``PROMETHEUS_MULTIPROC_DIR`` and ``/metrics`` (any worker) adds them up. The
variable must be set before the library is imported, so it is set here, in
the master, before any worker loads the site: to ``PROMETHEUS_MULTIPROC_DIR``
if given (a directory of its own, emptied at start: counts of an earlier run
would be added to this one's), else to a fresh temporary directory removed at
exit. When a worker exits (recycled by ``max_requests``, killed by the
timeout), ``child_exit`` drops its live gauges; its counters stay in the sum.
"""

import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Page-cache hits are CPU-bound and a review write waits on DynamoDB: a few
# processes per core, each with a few threads for the waits.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
worker_class = "gthread"
# Longer than the slowest request can take: DynamoDB's read timeout (5 s) times
# its 3 attempts, plus rendering.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
# On SIGTERM (a deploy, a scale-in) requests in flight get this long to finish;
# keep it under the load balancer's deregistration delay.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", 20))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", 75))  # above the ALB's 60 s idle timeout
# Recycle workers now and then (with jitter, so not all at once).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 10000))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", 1000))
# Which peers may set X-Forwarded-*: the load balancer's addresses (a VPC range),
# never "*" on a host reachable directly. Django trusts X-Forwarded-Proto only
# with DJANGO_BEHIND_TLS_PROXY=true.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
# With LOG_FORMAT=json the site writes one JSON line per request itself
# (restaurants/logs.py); gunicorn's plain access line would be a second one.
accesslog = None if os.environ.get("LOG_FORMAT") == "json" else "-"
errorlog = "-"
control_socket_disable = True

_metrics_dir_given = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
if not _metrics_dir_given:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="tastebook-metrics-")
_metrics_dir = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])


def on_starting(server):
    _metrics_dir.mkdir(parents=True, exist_ok=True)
    for stale in _metrics_dir.glob("*.db"):
        stale.unlink()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if not _metrics_dir_given:
        shutil.rmtree(_metrics_dir, ignore_errors=True)
