"""What the admin dashboard shows about Redis: INFO figures per alias, our own
hit/miss counters, keys per namespace and the TTLs in force."""

from dataclasses import dataclass, field
from functools import partial

import redis
from django.conf import settings
from django_redis import get_redis_connection
from redis.cluster import RedisCluster

from . import flush, policy, stats
from .connection import REDIS_ERRORS
from .tls import tls_kwargs

INFO_FIELDS = (
    "redis_version",
    "used_memory_human",
    "used_memory_peak_human",
    "maxmemory_policy",
    "evicted_keys",
    "expired_keys",
    "connected_clients",
    "keyspace_hits",
    "keyspace_misses",
)


@dataclass
class ServerHealth:
    name: str
    info: dict = field(default_factory=dict)
    error: str = ""

    @property
    def hit_ratio(self) -> float | None:
        hits, misses = self.info.get("keyspace_hits", 0), self.info.get("keyspace_misses", 0)
        return hits / (hits + misses) if hits + misses else None


def _server_info(name: str, connect) -> list[ServerHealth]:
    try:
        client = connect()
        raw = client.info(target_nodes=RedisCluster.ALL_NODES) if isinstance(client, RedisCluster) else client.info()
    except REDIS_ERRORS as error:
        return [ServerHealth(name=name, error=str(error))]
    if raw and all(isinstance(value, dict) for value in raw.values()):  # a cluster: one INFO per node
        return [ServerHealth(name=f"{name} {node}", info=_pick(info)) for node, info in sorted(raw.items())]
    return [ServerHealth(name=name, info=_pick(raw))]


def _pick(info: dict) -> dict:
    picked = {key: info.get(key) for key in INFO_FIELDS}
    picked["role"] = info.get("role")
    picked["replicas"] = [value for key, value in info.items() if key.startswith("slave") and isinstance(value, dict)]
    return picked


def servers() -> list[ServerHealth]:
    """One row per Redis server behind each alias (replicas included)."""
    rows = []
    for alias in ("default", "sessions"):
        rows += _server_info(f"{alias} (primary)", partial(get_redis_connection, alias, write=True))
    for index, url in enumerate(settings.REDIS_REPLICA_URLS, start=1):
        connect = partial(redis.Redis.from_url, url, socket_connect_timeout=0.5, **tls_kwargs(url))
        rows += _server_info(f"default replica {index}", connect)
    return rows


def namespace_key_counts() -> dict[str, int]:
    return {namespace: flush.count_keys(namespace) for namespace in flush.ALL + ("stats",)}


def ttl_policy() -> list[tuple[str, str]]:
    return [
        ("Restaurant summary: fresh for", f"{policy.summary_fresh_seconds()} s"),
        ("Restaurant summary: kept (stale-while-revalidate / stale-if-error)", f"{policy.summary_keep_seconds()} s"),
        ("Anonymous pages", f"{policy.page_seconds()} s"),
        ("Fragments", f"{policy.fragment_seconds()} s"),
        ("Leaderboard (then rebuilt from DynamoDB)", f"{policy.leaderboard_seconds()} s"),
        ("Sessions", f"{settings.SESSION_COOKIE_AGE} s"),
    ]


def counters() -> dict:
    return stats.read_counts()
