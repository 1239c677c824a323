"""Test settings: the real settings, with fakeredis for unit tests.

Integration tests swap in a real redis-server and moto's HTTP server through
fixtures (see tests/conftest.py).
"""

import os

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("DJANGO_SECURE_COOKIES", "false")

from reviews_site.settings import *  # noqa: E402,F403
from reviews_site.settings import CACHES  # noqa: E402

for alias in CACHES.values():
    alias["OPTIONS"]["CONNECTION_POOL_KWARGS"] = {"connection_class": __import__("fakeredis").FakeRedisConnection}

DYNAMODB_TABLE = "Restaurants-test"
