"""SITE_URL, the one source of links in mail: the production site refuses to
start without it, or with something that is not a site's address."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _start_the_wsgi_application(module: str = "reviews_site.wsgi", **env: str) -> subprocess.CompletedProcess:
    """Import ``module`` (``reviews_site.wsgi``: what gunicorn loads) with the production settings."""
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "reviews_site.settings", "DJANGO_DEBUG": "false"}
    environment.pop("SITE_URL", None)
    return subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        cwd=ROOT,
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("module", ["reviews_site.wsgi", "reviews_site.asgi"])
def test_the_site_refuses_to_start_in_production_without_site_url(module):
    started = _start_the_wsgi_application(module)
    assert started.returncode != 0
    assert "ImproperlyConfigured: SITE_URL is not set" in started.stderr


@pytest.mark.parametrize("value", ["reviews.example.com", "ftp://reviews.example.com", "https://x.example/app?a=1"])
def test_a_site_url_that_is_no_sites_address_is_refused(value):
    started = _start_the_wsgi_application(SITE_URL=value)
    assert started.returncode != 0
    assert "ImproperlyConfigured: SITE_URL must be http(s)://host[:port]" in started.stderr


def test_the_site_starts_with_a_site_url_and_a_development_site_without_one():
    assert _start_the_wsgi_application(SITE_URL="https://reviews.example.com/").returncode == 0
    assert _start_the_wsgi_application(DJANGO_DEBUG="true").returncode == 0
