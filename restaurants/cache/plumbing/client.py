"""django-redis's connection factory (with TLS settings), every new cache connection checked.

Beyond ``TlsConnectionFactory``: each connection pool of the cache alias gets redis-py's
``redis_connect_func``, which runs the normal handshake and then
``restarts.check_connection`` (see there why), before any command of ours
is sent over the new connection.
"""

from functools import partial

from django.conf import settings

from ..rules import keys
from . import restarts
from .tls import TlsConnectionFactory


def _handshake_then_check(connection, *, url: str) -> None:
    connection.on_connect()
    replicas = settings.REDIS_REPLICA_URLS
    restarts.check_connection(
        connection, prefixes=keys.checked_prefixes(), replica=url in replicas, replicas=len(replicas)
    )


class CheckedConnectionFactory(TlsConnectionFactory):
    # django-redis keeps one pool per URL for the process, in a class attribute:
    # ours are checked, so never shared with an unchecked factory's (the dashboard's).
    _pools: dict = {}

    def get_connection_pool(self, params: dict):
        check = partial(_handshake_then_check, url=params["url"])
        return super().get_connection_pool({**params, "redis_connect_func": check})


def check_cluster_connection(connection) -> None:
    """RedisCluster runs its own handshake, then this (its ``redis_connect_func``)."""
    restarts.check_connection(connection, prefixes=keys.checked_prefixes(), cluster=True)
