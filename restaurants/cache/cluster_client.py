"""A django-redis client for Redis Cluster (ElastiCache cluster mode, MemoryDB).

django-redis has no cluster client; this one connects with redis-py's
``RedisCluster``, which discovers the nodes and routes each command by slot.
Our multi-key scripts and pipelines keep to one hash tag, so they run as they
do on a single node. ``REDIS_CA_CERTS`` reaches every node it connects to.
"""

import threading

from django_redis.client import DefaultClient
from redis.cluster import RedisCluster

from .tls import tls_kwargs

_clusters: dict[tuple, RedisCluster] = {}
_clusters_lock = threading.Lock()


class ClusterClient(DefaultClient):
    def connect(self, index: int = 0):
        """One RedisCluster per URL for the process: it is thread-safe, and
        discovering the cluster again for every thread costs tens of ms."""
        url = self._server[index]
        timeouts = (self._options.get("SOCKET_CONNECT_TIMEOUT"), self._options.get("SOCKET_TIMEOUT"))
        tls = tls_kwargs(url)  # REDIS_CA_CERTS, for every node the cluster client discovers
        key = (url, timeouts, tls.get("ssl_ca_certs"))
        with _clusters_lock:
            if key not in _clusters:
                _clusters[key] = RedisCluster.from_url(
                    url, socket_connect_timeout=timeouts[0], socket_timeout=timeouts[1], **tls
                )
            return _clusters[key]

    def disconnect(self, index: int = 0, client=None) -> None:
        """Shared with other threads: nothing to close per thread."""
