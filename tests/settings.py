"""Test settings: the real settings and a table name of their own.

Unit tests get a fresh fakeredis per test and moto's in-process mock;
integration tests swap in a real redis-server and moto's HTTP server
(fixtures in tests/conftest.py).
"""

import os

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("DJANGO_SECURE_COOKIES", "false")

from reviews_site.settings_dev import *  # noqa: E402,F403

DYNAMODB_TABLE = "Restaurants-test"
