"""How long a password-reset request takes to answer, for an address with an
account and for one without (issue #21: the difference told who has an
account). Not a test: a timing on a shared machine is a measurement, never
an assertion.

    DJANGO_SETTINGS_MODULE=reviews_site.settings_dev python -m devtools.reset_timing [requests]

Starts its own DynamoDB Local (or moto's server), Redis and the site under
gunicorn (one worker, the shipped settings, the console mail backend as under
``make run``), makes one account, then posts the reset form ``requests`` times
for each address, alternating, over one keep-alive connection, as a client
would: the time from sending the request to reading the whole answer, with
``GAP_SECONDS`` of quiet after each. The
throttles and the mail cap are lifted, so every request for the account mails.
Prints the median and the 90th percentile of each, in milliseconds.
"""

import http.client
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from restaurants.waiting import wait_until

ROOT = Path(__file__).resolve().parents[1]
WARM_UP = 20  # requests not counted
# Idle time after each answer, outside the timing: a mail sent after its answer is done
# before the next request, which it would otherwise slow (whichever address that is for).
GAP_SECONDS = 0.05
START_TIMEOUT = 60


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _site_environment(dynamodb_url: str, redis_url: str, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "reviews_site.settings",
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_url,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
        "DYNAMODB_TABLE": "reset-timing",
        "REDIS_URL": redis_url,
        "SESSION_REDIS_URL": redis_url,
        "SITE_URL": f"http://127.0.0.1:{port}",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECURE_COOKIES": "false",
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        "LOG_LEVEL": "WARNING",
        "PASSWORD_RESETS_PER_EMAIL_AND_CLIENT": str(10**9),
        "PASSWORD_RESETS_PER_CLIENT": str(10**9),
        "PASSWORD_RESET_MAILS_PER_EMAIL": str(10**9),
    }


def _wait_until_serving(port: int, process: subprocess.Popen) -> None:
    def answering() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200

    wait_until(answering, timeout=START_TIMEOUT, every=0.1, what="gunicorn to answer", ignoring=(OSError,))


def _time_resets(port: int, requests: int) -> dict[str, list[float]]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/accounts/password/reset/")
    page = connection.getresponse()
    body = page.read().decode()
    cookie = re.search(r"csrftoken=([^;]+)", page.getheader("Set-Cookie") or "").group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={cookie}"}
    timings: dict[str, list[float]] = {"kim@example.com": [], "nobody@example.com": []}
    for n in range(requests * len(timings) + WARM_UP):
        address = list(timings)[n % len(timings)]
        form = urlencode({"csrfmiddlewaretoken": token, "email": address})
        started = time.perf_counter()
        connection.request("POST", "/accounts/password/reset/", body=form, headers=headers)
        answer = connection.getresponse()
        answer.read()
        elapsed = (time.perf_counter() - started) * 1000
        if answer.status != 302:
            raise RuntimeError(f"the reset answered {answer.status}")
        if n >= WARM_UP:
            timings[address].append(elapsed)
        time.sleep(GAP_SECONDS)
    return timings


def main(requests: int = 200) -> None:
    from devtools.embedded.dynamodb import start_embedded_dynamodb
    from devtools.embedded.processes import free_port, stop_process
    from devtools.embedded.redis_server import start_redis

    dynamodb, redis = start_embedded_dynamodb(), start_redis()
    port = free_port()
    env = _site_environment(dynamodb.url, redis.url, port)
    setup = (
        "from restaurants.dynamo.schema import create_table; create_table(); "
        "from django.contrib.auth import get_user_model; "
        "get_user_model().objects.create_user('kim', 'kim@example.com', 'pass-word-9')"
    )
    try:
        subprocess.run([sys.executable, "manage.py", "shell", "-c", setup], cwd=ROOT, env=env, check=True)
        command = [sys.executable, "-m", "gunicorn", "reviews_site.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1"]
        command += ["-k", "gthread", "--threads", "4", "--no-control-socket"]
        with tempfile.TemporaryFile() as mails:  # the console backend's output
            web = subprocess.Popen(command, cwd=ROOT, env=env, stdout=mails)
            try:
                _wait_until_serving(port, web)
                timings = _time_resets(port, requests)
            finally:
                stop_process(web, timeout=20)
        for address, values in timings.items():
            print(
                f"{address:>20}: median {statistics.median(values):.1f} ms, "
                f"p90 {_percentile(values, 0.9):.1f} ms over {len(values)} requests"
            )
    finally:
        redis.stop()
        dynamodb.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
