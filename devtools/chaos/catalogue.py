"""The faults a schedule composes, each a start and a heal acting on the World.

Registered by name with the resources it takes (two faults on one resource
never overlap, see ``schedule``) and how long it may last. Each step returns
one line saying what it did, for the report's timeline. A fault whose start
failed is not healed; one whose heal failed is reported, and the run goes on.
"""

import os
import shutil
import signal
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from devtools.embedded.redis_server import RDB_FILENAME
from devtools.faultload.services import in_sync, kill, start_redis_server, wait_until

from . import outside
from .schedule import Kind
from .world import SNAPSHOT, World

SYNC_SECONDS = 15


@dataclass(frozen=True)
class Fault:
    kind: Kind
    start: Callable[[World, int], str]  # the fault's index names what it creates
    heal: Callable[[World, int], str]


CATALOGUE: dict[str, Fault] = {}


def fault(name: str, resources: set[str], shortest: float, longest: float):
    def register(start):
        def add_heal(heal):
            CATALOGUE[name] = Fault(Kind(name, frozenset(resources), shortest, longest), start, heal)
            return heal

        start.heal = add_heal
        return start

    return register


def kinds(names: list[str] | None = None) -> list[Kind]:
    return [CATALOGUE[name].kind for name in (names or CATALOGUE)]


# --- Redis -------------------------------------------------------------------


@fault("redis-restart-older-snapshot", {"redis-primary"}, 1.0, 3.0)
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


@fault("redis-pause", {"redis-primary"}, 0.5, 2.5)
def redis_pause_start(world: World, index: int) -> str:
    os.kill(world.primary.process.pid, signal.SIGSTOP)
    return f"SIGSTOP redis primary {world.primary.port}"


@redis_pause_start.heal
def redis_pause_heal(world: World, index: int) -> str:
    os.kill(world.primary.process.pid, signal.SIGCONT)
    return f"SIGCONT redis primary {world.primary.port}"


@fault("replica-detach", {"redis-replica"}, 1.0, 4.0)
def replica_detach_start(world: World, index: int) -> str:
    world.replica.client().replicaof("no", "one")
    return f"REPLICAOF NO ONE on replica {world.replica.port} (it still answers, with what it had)"


@replica_detach_start.heal
def replica_detach_heal(world: World, index: int) -> str:
    world.replica.client().replicaof("127.0.0.1", world.primary.port)
    wait_until(lambda: in_sync(world.replica, world.primary), SYNC_SECONDS, "the replica to sync again")
    return f"replica {world.replica.port} REPLICAOF {world.primary.port} again, in sync"


@fault("promotion-endpoint-move", {"redis-primary", "redis-replica"}, 0.5, 2.0)
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
