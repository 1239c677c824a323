"""The Redis servers behind the site, each as it describes itself now.

The dashboard used to show the client's idea of the topology: rows named
after the configuration ("default (primary)"), and in cluster mode the nodes
redis-py cached when it connected, all named "(primary)". After a failover a
replica still read "primary", and a node that joined (or rejoined) later was
missing until the process restarted. Here every load asks again: INFO from
each configured server (role, the primary it follows, the replicas following
it), and in cluster mode CLUSTER NODES from the first node that answers, then
INFO from every node listed there, each on a connection of its own.

A server that answers but refuses a command (an ACL without ``+info``) is
"no permission", never "unreachable": the operator has a grant to fix, not
an outage.
"""

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.core.cache import caches
from redis.cluster import RedisCluster
from redis.connection import parse_url
from redis.exceptions import NoPermissionError

from .connection import REDIS_ERRORS
from .tls import tls_kwargs

ALIASES = ("default", "sessions")
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
ROLES = {"master": "primary", "slave": "replica"}
NODE_TIMEOUT = 0.5  # seconds, per cluster node the dashboard connects to


@dataclass
class ServerHealth:
    """One server: what the site uses it for (``name``), where it is, and what it says of itself."""

    name: str
    address: str = ""
    info: dict = field(default_factory=dict)
    role: str = ""  # "primary" or "replica", as the server reports it now
    follows: str = ""  # a replica's primary, and whether the link is up
    replicas: list[str] = field(default_factory=list)  # a primary's replicas and their state
    error: str = ""  # unreachable, or failing
    refused: str = ""  # the command an ACL refused (the server is up)

    @property
    def hit_ratio(self) -> float | None:
        hits, misses = self.info.get("keyspace_hits", 0), self.info.get("keyspace_misses", 0)
        return hits / (hits + misses) if hits + misses else None


def servers() -> list[ServerHealth]:
    """One row per server behind the cache aliases (replicas and cluster nodes
    included); a server both aliases use is one row."""
    rows: dict[str, ServerHealth] = {}
    for alias in ALIASES:
        if settings.REDIS_CLUSTER:
            found = _cluster_rows(alias)
        else:
            found = [_server_row(alias, index, url) for index, url in enumerate(_locations(alias))]
        for row in found:
            if row.address in rows:
                rows[row.address].name += f", {row.name}"
            else:
                rows[row.address] = row
    return list(rows.values())


def _locations(alias: str) -> list[str]:
    location = settings.CACHES[alias]["LOCATION"]
    return [location] if isinstance(location, str) else list(location)


def _server_row(alias: str, index: int, url: str) -> ServerHealth:
    """A configured server (index 0 the primary URL, then the replica URLs),
    on the alias's own pooled connection."""
    name = alias if index == 0 else f"{alias} replica {index}"
    row = ServerHealth(name=name, address=_address(url))
    try:
        client = caches[alias].client.connect(index)
    except REDIS_ERRORS as error:
        row.error = str(error)
        return row
    return _describe(row, client)


def _cluster_rows(alias: str) -> list[ServerHealth]:
    url = _locations(alias)[0]
    try:
        cluster = caches[alias].client.connect(0)
        topology = _cluster_nodes(cluster)
    except NoPermissionError as error:
        return [ServerHealth(name=alias, address=_address(url), refused="CLUSTER NODES", error=str(error))]
    except REDIS_ERRORS as error:
        return [ServerHealth(name=alias, address=_address(url), error=str(error))]
    rows = []
    for address, node in sorted(topology.items()):
        row = ServerHealth(name=alias, address=address)
        client = _node_client(url, address)
        try:
            _describe(row, client)
        finally:
            client.close()
        if row.error and "fail" in node.get("flags", ""):
            row.error = f"the cluster marks it failed ({node['flags']}); {row.error}"
        rows.append(row)
    return rows


def _cluster_nodes(cluster: RedisCluster) -> dict[str, dict]:
    """CLUSTER NODES from the first node that answers: every node the cluster
    knows now, including those the client has not seen yet."""
    failure: BaseException | None = None
    for node in cluster.get_nodes():
        try:
            return node.redis_connection.execute_command("CLUSTER NODES")
        except NoPermissionError:
            raise
        except REDIS_ERRORS as error:
            failure = error
    raise failure or redis.ConnectionError("no cluster node known")


def _node_client(url: str, address: str) -> redis.Redis:
    """A connection to one node, with the credentials and TLS of ``url``."""
    host, _, port = address.rpartition(":")
    options = parse_url(url)
    return redis.Redis(
        host=host,
        port=int(port),
        username=options.get("username"),
        password=options.get("password"),
        ssl=urlsplit(url).scheme == "rediss",
        socket_connect_timeout=NODE_TIMEOUT,
        socket_timeout=NODE_TIMEOUT,
        **tls_kwargs(url),
    )


def _describe(row: ServerHealth, client: redis.Redis) -> ServerHealth:
    """Fill ``row`` from the server's INFO, asked now."""
    try:
        info = client.info()
    except NoPermissionError as error:
        row.refused, row.error = "INFO", str(error)
        return row
    except REDIS_ERRORS as error:
        row.error = str(error)
        return row
    row.info = {key: info.get(key) for key in INFO_FIELDS}
    row.role = ROLES.get(info.get("role"), str(info.get("role")))
    if row.role == "replica":
        row.follows = f"{info.get('master_host')}:{info.get('master_port')} (link {info.get('master_link_status')})"
    row.replicas = [
        f"{value.get('ip')}:{value.get('port')} ({value.get('state')})"
        for key, value in sorted(info.items())
        if key.startswith("slave") and isinstance(value, dict)
    ]
    return row


def _address(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 6379}"
