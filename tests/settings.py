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
# botocore now sends Streams calls that name a stream ARN to an account-based
# endpoint (<account>.streams-ddb.<region>...), which moto 5.2.5's mock does not
# know; the regional endpoint it knows answers the same API.
os.environ.setdefault("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")

from reviews_site.settings_dev import *  # noqa: E402,F403

DYNAMODB_TABLE = "Restaurants-test"
# Not the test client's host ("testserver"): a link built from the request would show.
SITE_URL = "https://tastebook.test"

# Django's advice for tests: a fast hasher (PBKDF2 costs 0.23 s a hash here, and
# many tests make and log in users). tests/accounts/test_users.py checks what the
# site itself stores, with the site's hashers.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
