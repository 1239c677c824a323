"""Settings: every value comes from the environment, with safe local defaults.

No SQL database: domain data and users live in DynamoDB, caches and sessions
in Redis.
"""

from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from .env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "local-development-only-not-secret")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
# The site's address as visitors reach it: a scheme and a host, a port if any, no path
# (https://reviews.example.com). Links in mail are built from it, never from the request's
# Host header, which the client chooses (any allowed host, any port). Required when DEBUG is
# false: the site refuses to serve without it (reviews_site/serving.py; management commands need none).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000" if DEBUG else "").rstrip("/")
_site = urlsplit(SITE_URL)
if SITE_URL and not (_site.scheme in ("http", "https") and _site.hostname and not (_site.path or _site.query)):
    raise ImproperlyConfigured(f"SITE_URL must be http(s)://host[:port], nothing after it; it is {SITE_URL!r}.")

INSTALLED_APPS = [
    # The simple config: no autodiscovery, so nothing registers ORM models on a site.
    "django.contrib.admin.apps.SimpleAdminConfig",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "restaurants",
]

MIDDLEWARE = [
    # /healthz and /readyz, before anything that does I/O or checks the Host.
    "restaurants.probes.ProbeMiddleware",
    # Request metrics (by URL name and status) and the protected /metrics endpoint.
    "restaurants.observability.ObservabilityMiddleware",
    # First: a page-cache hit is answered before anything below runs.
    "restaurants.cache.front.middleware.AnonymousPageCacheMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Django's, telling the truth when the session cannot be saved after a write.
    "restaurants.error_pages.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "restaurants.error_pages.DataErrorMiddleware",
]

ROOT_URLCONF = "reviews_site.urls"
WSGI_APPLICATION = "reviews_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES: dict = {}

# --- DynamoDB ---------------------------------------------------------------
# The endpoint follows boto3's own convention: AWS_ENDPOINT_URL_DYNAMODB, unset
# for real AWS. Credentials come from boto3's usual chain.
DYNAMODB_TABLE = env_str("DYNAMODB_TABLE", "Restaurants")
AWS_REGION = env_str("AWS_REGION", env_str("AWS_DEFAULT_REGION", "us-east-1"))
DYNAMODB_CONNECT_TIMEOUT = env_float("DYNAMODB_CONNECT_TIMEOUT", 2.0)
DYNAMODB_READ_TIMEOUT = env_float("DYNAMODB_READ_TIMEOUT", 5.0)
DYNAMODB_RETRY_MODE = env_str("DYNAMODB_RETRY_MODE", "standard")
DYNAMODB_MAX_ATTEMPTS = env_int("DYNAMODB_MAX_ATTEMPTS", 3)

# --- Redis ------------------------------------------------------------------
# redis:// or rediss:// (TLS), with password or ACL user in the URL.
# In cluster mode, REDIS_URL may name several startup nodes, comma-separated:
# the client discovers the cluster from whichever answers.
REDIS_URLS = env_list("REDIS_URL", "redis://127.0.0.1:6379/0")
REDIS_URL = REDIS_URLS[0]
REDIS_REPLICA_URLS = env_list("REDIS_REPLICA_URLS")
SESSION_REDIS_URLS = env_list("SESSION_REDIS_URL", ",".join(REDIS_URLS))
# PEM bundle of the CA that signed the servers' certificates, for rediss:// URLs
# (empty: the system's CAs). Applied by restaurants/cache/plumbing/tls.py.
REDIS_CA_CERTS = env_str("REDIS_CA_CERTS", "")

REDIS_CLUSTER = env_bool("REDIS_CLUSTER", False)
CACHE_KEY_PREFIX = env_str("CACHE_KEY_PREFIX", "site")
# The release every rendered artefact (cached page, ETag, shell, fragment) is keyed by
# (restaurants/cache/rules/release.py). Empty, the default: a digest of the deployed templates,
# static files and code, so a deploy that forgets it is still keyed apart from the last.
# Set it (letters, digits, ".", "_", "-"; at most 64) only to a name that changes with
# every deploy, e.g. the commit.
RELEASE = env_str("RELEASE", "")
CACHE_ENABLED = env_bool("CACHE_ENABLED", True)
CACHE_TTL_SUMMARY = env_int("CACHE_TTL_SUMMARY", 900)
CACHE_STALE_SECONDS = env_int("CACHE_STALE_SECONDS", 24 * 3600)
CACHE_TTL_PAGE = env_int("CACHE_TTL_PAGE", 900)
CACHE_TTL_FRAGMENT = env_int("CACHE_TTL_FRAGMENT", 900)
CACHE_TTL_LEADERBOARD = env_int("CACHE_TTL_LEADERBOARD", 3600)
LEADERBOARD_PRIOR_WEIGHT = env_int("LEADERBOARD_PRIOR_WEIGHT", 10)
# A review retires just the list pages it changes (restaurants/cache/data/catalogue.py);
# false: every list page, as before (the bench compares the two).
CACHE_PRECISE_LIST_RETIREMENT = env_bool("CACHE_PRECISE_LIST_RETIREMENT", True)
# After a Redis failure, skip Redis for this long before trying again.
CACHE_RETRY_AFTER_SECONDS = env_float("CACHE_RETRY_AFTER_SECONDS", 5.0)
# A CDN in front (restaurants/cache/pages/cdn.py, docs/caching.md "A CDN in front"). CDN_PURGE:
# empty (no purge: the CDN must revalidate every anonymous page, s-maxage=0), a URL
# with {key} (e.g. https://api.fastly.com/service/<id>/purge/{key}) requested with
# CDN_PURGE_METHOD and the one header CDN_PURGE_HEADER ("Fastly-Key: <token>"), or the
# dotted path of a callable taking the surrogate key. Only with a purge do the
# CDN_* lifetimes apply.
CDN_PURGE = env_str("CDN_PURGE", "")
CDN_PURGE_METHOD = env_str("CDN_PURGE_METHOD", "POST")
CDN_PURGE_HEADER = env_str("CDN_PURGE_HEADER", "")
CDN_PURGE_TIMEOUT = env_float("CDN_PURGE_TIMEOUT", 2.0)
CDN_S_MAXAGE = env_int("CDN_S_MAXAGE", 300)
CDN_STALE_WHILE_REVALIDATE = env_int("CDN_STALE_WHILE_REVALIDATE", 0)
CDN_STALE_IF_ERROR = env_int("CDN_STALE_IF_ERROR", 3600)
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 14 * 24 * 3600)


def _redis_cache(urls: list[str], key_prefix: str) -> dict:
    """A django-redis alias; every new connection is checked for a Redis that
    restarted or failed over (restaurants/cache/plumbing/restarts.py)."""
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": urls,
        "KEY_PREFIX": key_prefix,
        "OPTIONS": {
            "CLIENT_CLASS": (
                "restaurants.cache.plumbing.cluster_client.ClusterClient"
                if REDIS_CLUSTER
                else "django_redis.client.DefaultClient"
            ),
            "CONNECTION_FACTORY": "restaurants.cache.plumbing.client.CheckedConnectionFactory",
            "SERIALIZER": "django_redis.serializers.json.JSONSerializer",
            "SOCKET_CONNECT_TIMEOUT": env_float("REDIS_CONNECT_TIMEOUT", 0.5),
            "SOCKET_TIMEOUT": env_float("REDIS_SOCKET_TIMEOUT", 0.5),
        },
    }


# Sessions use their own alias and key prefix, never a numbered database, so
# flushing the caches (even on a cluster) never logs anyone out.
CACHES = {
    "default": _redis_cache(REDIS_URLS if REDIS_CLUSTER else [REDIS_URL, *REDIS_REPLICA_URLS], "site"),
    "sessions": _redis_cache(SESSION_REDIS_URLS if REDIS_CLUSTER else SESSION_REDIS_URLS[:1], "session"),
}

# --- Accounts and sessions -------------------------------------------------
AUTH_USER_MODEL = "restaurants.User"
AUTHENTICATION_BACKENDS = ["restaurants.auth_backend.DynamoUserBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "accounts:logged_out"  # a page that says so
# Sessions in Redis, written through to DynamoDB (the truth): a Redis outage logs nobody out.
SESSION_ENGINE = "restaurants.cache.accounts.sessions"
SESSION_CACHE_ALIAS = "sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# Login throttling, per window: attempts at one account from one client, and
# failures from one client at any account (restaurants/cache/accounts/ratelimit.py).
LOGIN_ATTEMPTS_PER_ACCOUNT_AND_CLIENT = env_int("LOGIN_ATTEMPTS_PER_ACCOUNT_AND_CLIENT", 5)
LOGIN_FAILURES_PER_CLIENT = env_int("LOGIN_FAILURES_PER_CLIENT", 50)
LOGIN_FAILURE_WINDOW = env_int("LOGIN_FAILURE_WINDOW", 15 * 60)
# Password-reset requests, per window: per address from one client, and per client (any
# address); like logins, nothing one client does refuses another's request. Mails to one
# address, from all clients: over this cap a request gets the same answer and no mail is
# sent (a flood of requests from many clients cannot flood the inbox, nor refuse its owner).
PASSWORD_RESETS_PER_EMAIL_AND_CLIENT = env_int("PASSWORD_RESETS_PER_EMAIL_AND_CLIENT", 3)
PASSWORD_RESETS_PER_CLIENT = env_int("PASSWORD_RESETS_PER_CLIENT", 10)
PASSWORD_RESET_MAILS_PER_EMAIL = env_int("PASSWORD_RESET_MAILS_PER_EMAIL", 20)
PASSWORD_RESET_WINDOW = env_int("PASSWORD_RESET_WINDOW", 3600)
# How long a password-reset link works (Django's setting; its default is 3 days).
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3 * 3600)
# How many proxies in front of the site append to X-Forwarded-For (an ALB: 1;
# CloudFront + ALB: 2). 0: the peer address (REMOTE_ADDR) is the client.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# --- Email (password resets) --------------------------------------------------
# Django's backends: SMTP in production (host, port, credentials and TLS below);
# make run sets the console backend (mails printed by the web server); the
# browser tests the file backend (EMAIL_FILE_PATH).
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_float("EMAIL_TIMEOUT", 10.0)  # a stuck mail server must not hold a worker
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Tastebook <noreply@localhost>")

# --- HTTP, static files -----------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Behind a TLS-terminating load balancer (ALB, CloudFront): trust its X-Forwarded-Proto,
# redirect plain HTTP to HTTPS and send HSTS (start short; raise once HTTPS is sure).
BEHIND_TLS_PROXY = env_bool("DJANGO_BEHIND_TLS_PROXY")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
SECURE_SSL_REDIRECT = BEHIND_TLS_PROXY
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 3600) if BEHIND_TLS_PROXY else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)  # consent only: listing is a separate step
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)

# --- Observability ------------------------------------------------------------
# Bearer token for GET /metrics (Prometheus); unset, the endpoint does not exist (404).
# Under gunicorn, PROMETHEUS_MULTIPROC_DIR (set by deploy/gunicorn.conf.py) merges the workers.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")

# Plain text by default (make run); LOG_FORMAT=json for one JSON object per line
# (python-json-logger). LOG_REQUESTS: one line per request (restaurants/logs.py),
# on by default with JSON only: in plain text gunicorn's access log already has one.
LOG_FORMAT = env_str("LOG_FORMAT", "plain")
LOG_REQUESTS = env_bool("LOG_REQUESTS", LOG_FORMAT == "json")


def logging_config(log_format: str, *, level: str = "INFO", requests: bool = False) -> dict:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "restaurants.logs.RequestIdFilter"}},
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(levelname)s %(name)s %(message)s",
                "rename_fields": {"levelname": "level", "name": "logger"},
                "timestamp": "time",
            },
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json" if log_format == "json" else "plain",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "botocore": {"level": "WARNING"},
            "boto3": {"level": "WARNING"},
            "restaurants.requests": {"level": "INFO" if requests else "WARNING"},
        },
    }


LOGGING = logging_config(LOG_FORMAT, level=env_str("LOG_LEVEL", "INFO"), requests=LOG_REQUESTS)
