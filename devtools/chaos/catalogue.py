"""The faults a schedule composes, each a start and a heal acting on the World.

Registered by name with the resources it takes (two faults on one resource
never overlap, see ``schedule``), how long it may last and the Redis
topologies it applies to (``world.TOPOLOGIES``): a schedule draws only from
the faults of the run's topology. Each step returns
one line saying what it did, for the report's timeline. A fault whose start
failed is not healed; one whose heal failed is reported, and the run goes on.
"""

import os
import shutil
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

import redis

from devtools.embedded.redis_server import RDB_FILENAME
from devtools.faultload.services import in_sync, kill, start_redis_server, wait_until

from . import outside
from .schedule import Kind
from .world import SNAPSHOT, TOPOLOGIES, World

SYNC_SECONDS = 15
# A killed cluster primary: cluster-node-timeout (5 s) before its replica is
# elected, then the node restarted, rejoined and fully synced, on a loaded machine.
CLUSTER_HEAL_SECONDS = 45


@dataclass(frozen=True)
class Fault:
    kind: Kind
    start: Callable[[World, int], str]  # the fault's index names what it creates
    heal: Callable[[World, int], str]
    topologies: frozenset[str]


CATALOGUE: dict[str, Fault] = {}
REPLICA_ONLY = frozenset({"replica"})
CLUSTER_ONLY = frozenset({"cluster"})


def fault(
    name: str, resources: set[str], shortest: float, longest: float, topologies: frozenset[str] = frozenset(TOPOLOGIES)
):
    def register(start):
        def add_heal(heal):
            kind = Kind(name, frozenset(resources), shortest, longest)
            CATALOGUE[name] = Fault(kind, start, heal, frozenset(topologies))
            return heal

        start.heal = add_heal
        return start

    return register


def names_for(topology: str) -> list[str]:
    """The catalogue's faults that apply to ``topology``, in catalogue order
    (the order a seed draws from: adding a fault for one topology leaves the
    other's schedules as they were)."""
    return [name for name, entry in CATALOGUE.items() if topology in entry.topologies]


def kinds(names: list[str] | None = None, *, topology: str | None = None) -> list[Kind]:
    """``names``, else the faults of ``topology``, else the whole catalogue."""
    chosen = names or (names_for(topology) if topology else list(CATALOGUE))
    return [CATALOGUE[name].kind for name in chosen]


# --- Redis -------------------------------------------------------------------


@fault("redis-restart-older-snapshot", {"redis-primary"}, 1.0, 3.0, REPLICA_ONLY)
def redis_restart_start(world: World, index: int) -> str:
    kill(world.primary.process)
    return f"SIGKILL redis primary {world.primary.port} (pid {world.primary.process.pid})"


@redis_restart_start.heal
def redis_restart_heal(world: World, index: int) -> str:
    folder = world.primary.data_dir
    shutil.copyfile(folder / SNAPSHOT, folder / RDB_FILENAME)
    world.primary = start_redis_server(world.stack, folder, port=world.primary.port)
    keys = world.primary.client().dbsize()
    return f"redis primary back on {world.primary.port} from the older snapshot ({keys} keys)"


@fault("redis-pause", {"redis-primary"}, 0.5, 2.5, REPLICA_ONLY)
def redis_pause_start(world: World, index: int) -> str:
    os.kill(world.primary.process.pid, signal.SIGSTOP)
    return f"SIGSTOP redis primary {world.primary.port}"


@redis_pause_start.heal
def redis_pause_heal(world: World, index: int) -> str:
    os.kill(world.primary.process.pid, signal.SIGCONT)
    return f"SIGCONT redis primary {world.primary.port}"


@fault("replica-detach", {"redis-replica"}, 1.0, 4.0, REPLICA_ONLY)
def replica_detach_start(world: World, index: int) -> str:
    world.replica.client().replicaof("no", "one")
    return f"REPLICAOF NO ONE on replica {world.replica.port} (it still answers, with what it had)"


@replica_detach_start.heal
def replica_detach_heal(world: World, index: int) -> str:
    world.replica.client().replicaof("127.0.0.1", world.primary.port)
    wait_until(lambda: in_sync(world.replica, world.primary), SYNC_SECONDS, "the replica to sync again")
    return f"replica {world.replica.port} REPLICAOF {world.primary.port} again, in sync"


@fault("promotion-endpoint-move", {"redis-primary", "redis-replica"}, 0.5, 2.0, REPLICA_ONLY)
def promotion_start(world: World, index: int) -> str:
    """ElastiCache's failover: promote the replica and demote the old primary
    first; the endpoint moves only at the heal (open connections stay put)."""
    old, new = world.primary, world.replica
    wait_until(lambda: in_sync(new, old), SYNC_SECONDS, "the replica to catch up before the promotion")
    new.client().replicaof("no", "one")
    old.client().replicaof("127.0.0.1", new.port)
    world.primary, world.replica = new, old
    return f"promoted {new.port}; old primary {old.port} now its replica (endpoint still on {old.port})"


@promotion_start.heal
def promotion_heal(world: World, index: int) -> str:
    wait_until(lambda: in_sync(world.replica, world.primary), SYNC_SECONDS, "the old primary to follow")
    world.endpoint.switch(world.primary.port)
    world.replica_endpoint.switch(world.replica.port)
    return f"endpoint moved to {world.primary.port}, replica endpoint to {world.replica.port}"


# --- Redis Cluster -----------------------------------------------------------
# Both on one resource: a failover is never asked of a cluster still electing
# or syncing, and each start first waits for a healthy cluster, as an operator
# would (a heal that ran late must not be overlapped by the next fault).


def _role(node) -> list:
    return node.client(1).execute_command("ROLE")


def _cluster_healthy(world: World) -> bool:
    """Every node running and saying cluster_state:ok, every replica's link up."""
    try:
        for node in world.cluster.nodes:
            if node.process.poll() is not None or node.client(1).cluster("info").get("cluster_state") != "ok":
                return False
            role = _role(node)
            if role[0] == b"slave" and role[3] != b"connected":
                return False
    except redis.RedisError:
        return False
    return True


def _busiest_primary(world: World):
    """The primary holding the most keys (pages, summaries, sessions), and its replica."""
    primaries = [node for node in world.cluster.nodes if _role(node)[0] == b"master"]
    primary = max(primaries, key=lambda node: node.client(1).dbsize())
    replica = next(
        node for node in world.cluster.nodes if _role(node)[0] == b"slave" and _role(node)[2] == primary.port
    )
    return primary, replica


@fault("cluster-failover", {"redis-cluster"}, 1.0, 4.0, CLUSTER_ONLY)
def cluster_failover_start(world: World, index: int) -> str:
    """A planned failover (ElastiCache's test-failover, a patch): the replica
    takes over its primary's slots with every key it replicated."""
    wait_until(lambda: _cluster_healthy(world), CLUSTER_HEAL_SECONDS, "a healthy cluster before the failover")
    primary, replica = _busiest_primary(world)
    keys = primary.client(1).dbsize()
    world.cluster.promote(replica)
    return (
        f"CLUSTER FAILOVER: replica {replica.port} now primary of {primary.port}'s slots ({keys} keys); "
        f"{primary.port} follows it"
    )


@cluster_failover_start.heal
def cluster_failover_heal(world: World, index: int) -> str:
    wait_until(lambda: _cluster_healthy(world), CLUSTER_HEAL_SECONDS, "the cluster to settle after the failover")
    return "nothing to heal: the promoted replica stays primary; cluster_state:ok, every replica in sync"


@fault("cluster-primary-kill", {"redis-cluster"}, 6.0, 10.0, CLUSTER_ONLY)
def cluster_primary_kill_start(world: World, index: int) -> str:
    """A lost host: its slots (and the sessions kept there) answer nothing
    until the cluster elects the replica, cluster-node-timeout (5 s) later."""
    wait_until(lambda: _cluster_healthy(world), CLUSTER_HEAL_SECONDS, "a healthy cluster before the kill")
    primary, replica = _busiest_primary(world)
    keys = primary.client(1).dbsize()
    kill(primary.process)
    world.cluster_victims[index] = (primary, replica, time.monotonic())
    return f"SIGKILL cluster primary {primary.port} ({keys} keys); its replica is {replica.port}"


@cluster_primary_kill_start.heal
def cluster_primary_kill_heal(world: World, index: int) -> str:
    victim, replica, killed_at = world.cluster_victims.pop(index)
    wait_until(lambda: _role(replica)[0] == b"master", CLUSTER_HEAL_SECONDS, f"replica {replica.port} to be elected")
    elected = time.monotonic() - killed_at
    world.cluster.restart(victim)
    wait_until(lambda: _cluster_healthy(world), CLUSTER_HEAL_SECONDS, f"{victim.port} to rejoin and sync")
    return (
        f"replica {replica.port} primary within {elected:.1f} s of the kill; {victim.port} restarted with its "
        f"nodes.conf, now its replica, in sync; cluster_state:ok"
    )


# --- DynamoDB ----------------------------------------------------------------


@fault("dynamodb-pause", {"dynamodb"}, 0.5, 3.0)
def dynamodb_pause_start(world: World, index: int) -> str:
    os.kill(world.dynamodb.process.pid, signal.SIGSTOP)
    return "SIGSTOP DynamoDB Local"


@dynamodb_pause_start.heal
def dynamodb_pause_heal(world: World, index: int) -> str:
    os.kill(world.dynamodb.process.pid, signal.SIGCONT)
    return "SIGCONT DynamoDB Local"


# --- The stream follower -----------------------------------------------------


@fault("follower-killed", {"follower"}, 1.0, 4.0)
def follower_kill_start(world: World, index: int) -> str:
    victim = world.followers.pop(0)
    kill(victim)
    return f"SIGKILL follow_stream pid {victim.pid}"


@follower_kill_start.heal
def follower_kill_heal(world: World, index: int) -> str:
    return f"follow_stream restarted, pid {world.follower_start().pid}"


@fault("second-follower", {"second-follower"}, 2.0, 6.0)
def second_follower_start(world: World, index: int) -> str:
    world.extra[index] = world.follower_start()
    return f"a second follow_stream started, pid {world.extra[index].pid}"


@second_follower_start.heal
def second_follower_heal(world: World, index: int) -> str:
    second = world.extra.pop(index)
    world.followers.remove(second)
    second.terminate()
    second.wait(10)
    return f"the second follow_stream (pid {second.pid}) stopped with SIGTERM"


# --- Other clients -----------------------------------------------------------


@fault("hostile-items", {"hostile"}, 0.5, 2.0)
def hostile_items_start(world: World, index: int) -> str:
    prefix = f"Chaos hostile {index}"
    items = outside.hostile_items(prefix)
    dynamodb = outside.client(world.dynamodb.url)
    outside.put_items(dynamodb, table=world.env["DYNAMODB_TABLE"], items=items)
    pages = [f"/restaurants/{quote(item['name'])}/" for item in items if "name" in item]
    world.reader_paths.extend(pages)  # readers visit them from now on
    return f"another client put {len(items)} odd items ({prefix} ...); readers now visit their pages"


@hostile_items_start.heal
def hostile_items_heal(world: World, index: int) -> str:
    return "the odd items stay, as another client's would"


# --- Releases ----------------------------------------------------------------


@fault("rolling-release", {"site"}, 2.0, 6.0)
def rolling_release_start(world: World, index: int) -> str:
    world.release += 1
    new = world.site_start()
    world.front.switch(*(site.port for site in world.sites))
    return f"release chaos-{world.release} started beside the old one (port {new.port}); visitors alternate"


@rolling_release_start.heal
def rolling_release_heal(world: World, index: int) -> str:
    old, world.sites = world.sites[:-1], world.sites[-1:]
    world.front.switch(world.sites[0].port)
    for site in old:
        site.stop()
    return f"old release stopped; only chaos-{world.release} serves"
