"""The faults, each staged as it happens to a managed Redis.

A fault is a ``setup`` that starts its Redis servers and returns a ``Stage``:
the Redis endpoints the site is given, plus what to do a few seconds into the
load (``prepare``), at the fault (``inject``) and after the outage
(``recover``). Each step returns one line saying what it did, for the report.
Where the fault needs an endpoint that moves (a failover, a network cut) the
site talks to a ``TcpProxy``, as clients talk to ElastiCache's DNS name.
"""

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from devtools.embedded.redis_cluster import _cluster_state, start_redis_cluster
from devtools.embedded.tcp_proxy import TcpProxy

from .services import in_sync, kill, replicate, start_redis_server, wait_until

Step = Callable[[], str]


def _nothing() -> str:
    return ""


@dataclass
class Stage:
    redis: dict[str, str]  # REDIS_URL and friends, for the site's environment
    inject: Step
    recover: Step
    prepare: Step = _nothing


@dataclass(frozen=True)
class Fault:
    key: str
    title: str
    setup: Callable[[ExitStack, Path], Stage]
    outage_seconds: float  # from inject to recover


def _single(url: str) -> dict[str, str]:
    return {"REDIS_URL": url, "SESSION_REDIS_URL": url}


def _key_counts(client) -> str:
    """How many cache and session keys a server holds (what a restore brings back)."""
    cache = sum(1 for _ in client.scan_iter(match="site:*", count=1000))
    sessions = sum(1 for _ in client.scan_iter(match="session:*", count=1000))
    return f"{cache} cache keys, {sessions} session keys"


def restart_from_snapshot(stack: ExitStack, folder: Path) -> Stage:
    """SIGKILL, then the same server back from an RDB snapshot taken before
    most writes: it comes back holding pages and summaries older than them."""
    redis = start_redis_server(stack, folder / "redis")

    def prepare() -> str:
        redis.client().save()
        return f"SAVE on redis {redis.port} (the snapshot it will come back with): {_key_counts(redis.client())}"

    def inject() -> str:
        kill(redis.process)
        return f"SIGKILL redis-server pid {redis.process.pid}"

    def recover() -> str:
        restored = start_redis_server(stack, redis.data_dir, port=redis.port)
        return f"redis-server restarted on port {redis.port} from its snapshot: {_key_counts(restored.client())}"

    return Stage(redis=_single(redis.url), inject=inject, recover=recover, prepare=prepare)


def failover(stack: ExitStack, folder: Path) -> Stage:
    """ElastiCache's failover: the replica is promoted, the old primary follows
    it, and only then does the endpoint move; open connections stay put."""
    old, new = start_redis_server(stack, folder / "old"), start_redis_server(stack, folder / "new")
    replicate(new, old)
    endpoint = TcpProxy(old.port)
    stack.callback(endpoint.stop)

    def inject() -> str:
        new.client().replicaof("no", "one")
        old.client().replicaof("127.0.0.1", new.port)
        return f"promoted replica {new.port}; old primary {old.port} now REPLICAOF {new.port}"

    def recover() -> str:
        wait_until(lambda: in_sync(old, new), 15, "the old primary to follow the new one")
        endpoint.switch(new.port)
        return f"endpoint switched to {new.port} (open connections left on {old.port})"

    return Stage(redis=_single(endpoint.url), inject=inject, recover=recover)


def dead_replica(stack: ExitStack, folder: Path) -> Stage:
    """The read replica (REDIS_REPLICA_URLS) dies; it comes back from its own
    old snapshot, a primary with stale data until it syncs again."""
    primary = start_redis_server(stack, folder / "primary")
    replica = start_redis_server(stack, folder / "replica")
    replicate(replica, primary)

    def inject() -> str:
        kill(replica.process)
        return f"SIGKILL replica redis-server pid {replica.process.pid}"

    def recover() -> str:
        again = start_redis_server(stack, replica.data_dir, port=replica.port)
        seconds = replicate(again, primary)
        return f"replica restarted on {replica.port} and back in sync in {seconds:.1f}s"

    redis = {**_single(primary.url), "REDIS_REPLICA_URLS": replica.url}
    return Stage(redis=redis, inject=inject, recover=recover)


def unreachable(stack: ExitStack, folder: Path) -> Stage:
    """The network to Redis fails: open connections cut, new ones refused."""
    redis = start_redis_server(stack, folder / "redis")
    endpoint = TcpProxy(redis.port)
    stack.callback(endpoint.stop)

    def inject() -> str:
        endpoint.refuse()
        endpoint.cut()
        return "proxy refuses new connections and cut the open ones"

    def recover() -> str:
        endpoint.refuse(False)
        return "proxy accepts connections again (same server, its data intact)"

    return Stage(redis=_single(endpoint.url), inject=inject, recover=recover)


def cluster_node(stack: ExitStack, folder: Path) -> Stage:
    """One of three cluster primaries (no replicas) dies and is restarted,
    empty, with its old node config: its slots are down until it is back."""
    cluster = start_redis_cluster(masters=3)
    stack.callback(cluster.stop)
    node = cluster.nodes[1]

    def healthy() -> bool:
        return all(_cluster_state(each.client(1), len(cluster.nodes)) == "ok" for each in cluster.nodes)

    def inject() -> str:
        kill(node.process)
        return f"SIGKILL cluster primary {node.port} (a third of the slots)"

    def recover() -> str:
        cluster.restart(node)
        wait_until(healthy, 20, "every node to report cluster_state:ok")
        return f"node {node.port} restarted (empty) with its node config; cluster_state:ok"

    redis = {**_single(cluster.url), "REDIS_CLUSTER": "true"}
    return Stage(redis=redis, inject=inject, recover=recover)


FAULTS = [
    Fault("a", "Redis SIGKILLed, restarted from an older RDB snapshot", restart_from_snapshot, 1.0),
    Fault("b", "failover: replica promoted, old primary demoted, endpoint moved", failover, 1.0),
    Fault("c", "read replica SIGKILLed, restarted from its snapshot, re-synced", dead_replica, 3.0),
    Fault("d", "Redis unreachable (connections cut and refused), then back", unreachable, 4.0),
    Fault("e", "Redis Cluster primary SIGKILLed, restarted empty", cluster_node, 3.0),
]
