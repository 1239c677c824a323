"""Everything a chaos run starts, and the handles the faults act on.

DynamoDB Local (in memory, the table with its stream), two redis-servers (a
primary and its read replica, each reached through a TCP proxy: the
endpoints ElastiCache would move on a failover), gunicorn behind a TCP proxy
(so a release can roll: a second gunicorn beside the first), and
``manage.py follow_stream``. Every process is registered on the run's
ExitStack as soon as it exists, so nothing outlives the run, Ctrl-C included.
With ``topology="cluster"`` Redis is instead a Redis Cluster of 3 primaries
and 3 replicas (ElastiCache cluster mode, Multi-AZ): the site is given every
node's URL and follows MOVED redirections itself, so no proxy stands in front.
All on 127.0.0.1.
"""

import contextlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from devtools.bench.web import WebServer
from devtools.embedded.dynamodb_local import DynamoDBLocal
from devtools.embedded.processes import die_with_parent, stop_process
from devtools.embedded.redis_cluster import EmbeddedRedisCluster, start_redis_cluster
from devtools.embedded.redis_server import RDB_FILENAME, EmbeddedRedis
from devtools.embedded.tcp_proxy import TcpProxy
from devtools.faultload import services

BASE_DIR = Path(__file__).resolve().parents[2]
SNAPSHOT = "older.rdb"  # the RDB a restarted node comes back from
TOPOLOGIES = ("replica", "cluster")
CLUSTER_PRIMARIES = 3


@dataclass
class World:
    folder: Path
    stack: contextlib.ExitStack
    dynamodb: DynamoDBLocal
    env: dict[str, str]  # the site's environment (Redis endpoints are the proxies, or the cluster's nodes)
    front: TcpProxy  # what visitors connect to
    topology: str = "replica"
    # "replica": a primary and its read replica, each behind the proxy ElastiCache would move
    primary: EmbeddedRedis | None = None
    replica: EmbeddedRedis | None = None
    endpoint: TcpProxy | None = None  # REDIS_URL and SESSION_REDIS_URL
    replica_endpoint: TcpProxy | None = None  # REDIS_REPLICA_URLS
    # "cluster": 3 primaries, each with a replica; roles change as faults fail nodes over
    cluster: EmbeddedRedisCluster | None = None
    sites: list[WebServer] = field(default_factory=list)  # gunicorns, oldest first
    followers: list[subprocess.Popen] = field(default_factory=list)
    reader_paths: list[str] = field(default_factory=list)  # grows when a fault adds pages
    release: int = 1
    extra: dict[int, subprocess.Popen] = field(default_factory=dict)  # what a fault started, by its index
    started: int = 0  # processes started, for unique log names
    cluster_victims: dict[int, tuple] = field(default_factory=dict)  # a killed node, its replica, when: by index

    @property
    def visitor(self) -> WebServer:
        """The site as visitors reach it: through the front proxy."""
        return WebServer("front", self.sites[0].process, self.front.port, self.sites[0].log_path)

    def site_start(self) -> WebServer:
        """Another gunicorn of this release (``self.release``), ready to serve."""
        self.started += 1
        env = {**self.env, "RELEASE": f"chaos-{self.release}"}
        log = self.folder / f"gunicorn-{self.started}-release-{self.release}.log"
        site = services.start_site(self.stack, env=env, log_path=log)
        self.sites.append(site)
        return site

    def follower_start(self) -> subprocess.Popen:
        self.started += 1
        log_path = self.folder / f"follow_stream-{self.started}.log"
        command = [sys.executable, "manage.py", "follow_stream", "--interval", "0.25"]
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                command,
                cwd=BASE_DIR,
                env={**os.environ, **self.env},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        self.stack.callback(stop_process, process, 10)
        self.followers.append(process)
        return process

    def snapshot(self) -> str:
        """SAVE on the primary, kept aside: what a node restarted later comes back with."""
        if self.primary is None or self.replica is None:
            return "no older snapshot: the cluster's nodes keep nothing on disk"
        self.primary.client().save()
        for node in (self.primary, self.replica):  # either may be the primary when one is restarted
            shutil.copyfile(self.primary.data_dir / RDB_FILENAME, node.data_dir / SNAPSHOT)
        return f"SAVE on primary {self.primary.port}: {self.primary.client().dbsize()} keys kept as the older snapshot"


def build(
    stack: contextlib.ExitStack, folder: Path, dynamodb: DynamoDBLocal, base_env: dict[str, str], topology: str
) -> World:
    """Redis (``topology``), then the site and one follower; DynamoDB is the caller's."""
    front = TcpProxy(0)
    stack.callback(front.stop)
    if topology == "cluster":
        world = _cluster_world(stack, folder, dynamodb, base_env, front)
    else:
        world = _replica_world(stack, folder, dynamodb, base_env, front)
    site = world.site_start()
    front.switch(site.port)
    world.follower_start()
    return world


def _replica_world(stack, folder: Path, dynamodb: DynamoDBLocal, base_env: dict[str, str], front: TcpProxy) -> World:
    primary = services.start_redis_server(stack, folder / "redis-a")
    replica = services.start_redis_server(stack, folder / "redis-b")
    for node in (primary, replica):  # a full resync at once, not after 5 s
        node.client().config_set("repl-diskless-sync-delay", 0)
    services.replicate(replica, primary)
    endpoint, replica_endpoint = TcpProxy(primary.port), TcpProxy(replica.port)
    for proxy in (endpoint, replica_endpoint):
        stack.callback(proxy.stop)
    env = {
        **base_env,
        "REDIS_URL": endpoint.url,
        "SESSION_REDIS_URL": endpoint.url,
        "REDIS_REPLICA_URLS": replica_endpoint.url,
    }
    return World(folder, stack, dynamodb, env, front, "replica", primary, replica, endpoint, replica_endpoint)


def _cluster_world(stack, folder: Path, dynamodb: DynamoDBLocal, base_env: dict[str, str], front: TcpProxy) -> World:
    cluster = start_redis_cluster(masters=CLUSTER_PRIMARIES)
    stack.callback(cluster.stop)
    stack.callback(_keep_logs, cluster, folder)  # runs first: the logs outlive the cluster's directory
    for primary in range(CLUSTER_PRIMARIES):
        cluster.add_replica(of=primary)
    urls = ",".join(f"redis://127.0.0.1:{port}/0" for port in cluster.ports)
    env = {**base_env, "REDIS_CLUSTER": "true", "REDIS_URL": urls, "SESSION_REDIS_URL": urls, "REDIS_REPLICA_URLS": ""}
    return World(folder, stack, dynamodb, env, front, "cluster", cluster=cluster)


def _keep_logs(cluster: EmbeddedRedisCluster, folder: Path) -> None:
    for node in cluster.nodes:
        if node.log_path.exists():
            shutil.copyfile(node.log_path, folder / f"redis-cluster-{node.port}.log")
