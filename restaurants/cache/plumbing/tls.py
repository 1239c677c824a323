"""TLS to Redis signed by a private CA: ``REDIS_CA_CERTS``.

A ``rediss://`` URL makes redis-py verify the server's certificate against
the system's CAs, which do not know a private CA (a self-hosted Redis behind
an internal CA, a proxy terminating TLS with its own). redis-py takes the
bundle as ``ssl_ca_certs``; the only way to give it one used to be the
undocumented ``?ssl_ca_certs=`` URL parameter. ``REDIS_CA_CERTS`` names the
PEM bundle once, for every connection the site makes: both cache aliases and
their replicas (through ``TlsConnectionFactory``), the cluster client
(``cluster_client.py``) and the dashboard's own connections.

Only ``rediss://`` URLs get it: redis-py's plain connection refuses the
argument (a ``TypeError`` at the first command), so one setting can serve
an alias on TLS beside another that is not.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django_redis.pool import ConnectionFactory


def tls_kwargs(url: str) -> dict:
    """redis-py keyword arguments that make ``url`` trust ``REDIS_CA_CERTS``."""
    ca_certs = settings.REDIS_CA_CERTS
    if ca_certs and urlsplit(url).scheme == "rediss":
        return {"ssl_ca_certs": ca_certs}
    return {}


class TlsConnectionFactory(ConnectionFactory):
    """django-redis's connection factory, with ``tls_kwargs`` for each URL."""

    def make_connection_params(self, url: str) -> dict:
        return {**super().make_connection_params(url), **tls_kwargs(url)}

    def get_or_create_connection_pool(self, params: dict):
        """One pool per URL and CA bundle (django-redis keys them by URL
        alone), so a pool made before ``REDIS_CA_CERTS`` changed, as tests
        change it, is never reused."""
        key = (params["url"], params.get("ssl_ca_certs"))
        if key not in self._pools:
            self._pools[key] = self.get_connection_pool(params)
        return self._pools[key]
