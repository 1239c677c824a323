"""Gunicorn in production: ``gunicorn -c deploy/gunicorn.conf.py reviews_site.wsgi``.

Every value can be overridden by gunicorn's own environment variable
(``GUNICORN_CMD_ARGS``) or ours below; defaults suit one container or
instance behind a load balancer.
"""

import multiprocessing
import os

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
accesslog = "-"
errorlog = "-"
control_socket_disable = True
