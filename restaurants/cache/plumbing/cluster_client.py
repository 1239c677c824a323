"""A django-redis client for Redis Cluster (ElastiCache cluster mode, MemoryDB).

django-redis has no cluster client; this one connects with redis-py's
``RedisCluster``, which discovers the nodes and routes each command by slot.
Our multi-key scripts and pipelines keep to one hash tag, so they run as they
do on a single node.

Every URL of the alias's LOCATION is a startup node (host and port; user,
password and TLS come from the first): a worker started while one of them is
down discovers the cluster from another. With ElastiCache's configuration
endpoint, one URL is enough. ``REDIS_CA_CERTS`` reaches every node it connects to.
"""

import threading
from urllib.parse import urlsplit

from django_redis.client import DefaultClient
from redis.cluster import ClusterNode, RedisCluster

from .client import check_cluster_connection
from .tls import tls_kwargs

_clusters: dict[tuple, RedisCluster] = {}
_clusters_lock = threading.Lock()


class ClusterClient(DefaultClient):
    def get_next_client_index(self, write: bool = True, tried: list[int] | None = None) -> int:
        """One client serves reads and writes: the cluster routes them itself."""
        return 0

    def connect(self, index: int = 0):
        """One RedisCluster per LOCATION for the process: it is thread-safe, and
        discovering the cluster again for every thread costs tens of ms."""
        urls = tuple(self._server)
        timeouts = (self._options.get("SOCKET_CONNECT_TIMEOUT"), self._options.get("SOCKET_TIMEOUT"))
        tls = tls_kwargs(urls[0])  # REDIS_CA_CERTS, for every node the cluster client discovers
        # Every new connection is checked for a restart or failover (restarts.py);
        # sessions on the cache's nodes share its client.
        key = (urls, timeouts, tls.get("ssl_ca_certs"))
        with _clusters_lock:
            if key not in _clusters:
                _clusters[key] = RedisCluster.from_url(
                    urls[0],
                    startup_nodes=[_node(url) for url in urls[1:]],
                    socket_connect_timeout=timeouts[0],
                    socket_timeout=timeouts[1],
                    redis_connect_func=check_cluster_connection,
                    **tls,
                )
            return _clusters[key]

    def disconnect(self, index: int = 0, client=None) -> None:
        """Shared with other threads: nothing to close per thread."""


def _node(url: str) -> ClusterNode:
    parts = urlsplit(url)
    return ClusterNode(parts.hostname, parts.port or 6379)
