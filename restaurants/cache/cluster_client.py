"""A django-redis client for Redis Cluster (ElastiCache cluster mode, MemoryDB).

django-redis has no cluster client; this one connects with redis-py's
``RedisCluster``, which discovers the nodes and routes each command by slot.
Our multi-key scripts and pipelines keep to one hash tag, so they run as they
do on a single node.
"""

from django_redis.client import DefaultClient
from redis.cluster import RedisCluster


class ClusterClient(DefaultClient):
    def connect(self, index: int = 0):
        options = self._options
        return RedisCluster.from_url(
            self._server[index],
            socket_connect_timeout=options.get("SOCKET_CONNECT_TIMEOUT"),
            socket_timeout=options.get("SOCKET_TIMEOUT"),
        )

    def disconnect(self, index: int = 0, client=None) -> None:
        client = client or self._clients[index]
        if client is not None:
            client.close()
