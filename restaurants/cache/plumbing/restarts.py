"""A Redis that restarted from a snapshot, or failed over, starts with an empty cache.

Redis restored from an RDB snapshot (a restart, an ElastiCache restore from a
backup) holds what it held when the snapshot was taken, and a promoted replica
holds what it had received: either may hold summaries and pages older than
writes DynamoDB has confirmed since. Generation counters kept in Redis cannot
tell, since they went back in time with everything else. What cannot go back
is Redis's run id: a server draws a new one at every start, and another
server has another.

So each primary carries a marker, ``<prefix>:instance`` (in cluster mode, one
per node, under a hash tag of that node's own slots), naming the run id of
the server that wrote it. redis-py calls ``check_connection`` on every new
connection before the first command goes over it, so no command reaches a
server that was not checked. The check reads the marker and the server's
run id in one round trip. If they differ, the data may be old: one process
takes a lock, deletes every key under our prefixes (SCAN + UNLINK, one slot at
a time in a cluster, whose promoted replica holds keys of many slots): the
caches', and the sessions' and login counters' too, since every session is
in DynamoDB (a restored session may be one that was logged out since). It
then writes the marker; meanwhile every connection to that server is refused,
so requests are served from DynamoDB, which is the truth. The cache simply
starts cold, and each logged-in visitor's next view reads their session from
the table once.
A server whose keys could not all be deleted keeps its old marker, and so
stays refused: when in doubt, DynamoDB.

A replica is trusted only while its link to its primary is up and it carries
the marker of the primary this process checked (it has then synced since the
primary was checked and, if need be, emptied). So a new marker is waited for
(briefly) on the connected read replicas, and a process reads replicas only
once it has checked a primary: else a healthy replica is refused, which looks
like an outage.

A connection stays on the server it reached, whatever happens to that server
later: so outside cluster mode every connection checks its server again at
least every ``policy.REPLICA_CHECK_SECONDS`` (``_watch``), and one whose
primary was demoted connects again, one whose replica was detached or cut off
is refused.

Without permission for ``INFO`` (a too-narrow ACL) the check cannot run: it
says so once in the log and lets connections through.
"""

import functools
import logging
import secrets
import threading

from redis.cluster import key_slot
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from restaurants import waiting

from ..rules import clock, policy
from . import scripts

log = logging.getLogger(__name__)

LOCK_SECONDS = 30
SCAN_COUNT = 1000
# A connection that finds another one emptying the server waits this long for
# it (a small cache empties in milliseconds) before giving up on Redis.
EMPTYING_WAIT_SECONDS = 2.0

_lock = threading.Lock()
_primary_run_ids: set[str] = set()  # run ids of the primaries this process checked
_info_refused = False


class CacheNotVerified(RedisConnectionError):
    """This server's data cannot be trusted yet (being emptied, or a stale replica)."""


def check_connection(
    connection, *, prefixes: tuple[str, ...], cluster: bool = False, replica: bool = False, replicas: int = 0
) -> None:
    """``redis_connect_func`` of the caches' and sessions' connections (after
    the handshake); ``prefixes``: every key of ours is under one of them (the
    first names the marker); ``replica``: the connection was configured as a read replica's;
    ``replicas``: how many read replicas the site reads (``REDIS_REPLICA_URLS``)."""
    info = _info(connection)
    if info is None:
        return
    prefix = prefixes[0]
    if not cluster:  # in a cluster, a node that changed role answers MOVED, and redis-py follows it
        _watch(connection, prefix=prefix, replica=replica)
    if cluster and info.get("role") != "master":
        # The site reads no cluster replica: this connection follows a slot map
        # from before a failover (a primary restarted or demoted as a replica).
        # Refused as a connection error, redis-py fetches the map again and
        # retries on the new primary; the MOVED a GET would get here is raised
        # inside its connect, where redis-py 8.1 fails on it with an
        # AttributeError (a plain 500).
        raise CacheNotVerified(f"cluster node {connection.host}:{connection.port} is a replica now")
    if replica or info.get("role") != "master":
        _check_replica(connection, info, prefix)
        return
    run_id = info["run_id"]
    marker = _marker_key(connection, prefix, cluster)
    if _command(connection, "GET", marker) != run_id.encode():
        _empty(connection, prefixes, marker, run_id, cluster=cluster)
        # Those connected (a dead replica must not hold up the primary).
        _wait_for_replicas(connection, min(replicas, int(info.get("connected_slaves", 0))))
    with _lock:
        _primary_run_ids.add(run_id)


def _watch(connection, *, prefix: str, replica: bool) -> None:
    """Check this connection's server again before a command, once
    ``policy.REPLICA_CHECK_SECONDS`` passed since the last check (redis-py
    calls ``check_health`` before every command it sends; its own PING
    would need a grant the least ACL leaves out). A connection opened before
    a failover stays on its server: a primary demoted to a replica (the
    endpoint moved) would serve reads that no longer follow the writes, and a
    replica detached or cut from its primary still answers with what it had.
    So a primary's connection that finds another role or server connects
    again (reaching whatever the endpoint names now, checked as any new
    connection), and a replica's that is no longer in sync is refused
    (``CacheNotVerified``; its reads go to the primary). A write that a
    replica, or a moved endpoint, did not let through waits this interval
    out before it answers, so by then every process has looked again."""
    connection.checked_at = clock.monotonic()
    connection.check_health = functools.partial(_check_again_when_due, connection, prefix, replica)


def _check_again_when_due(connection, prefix: str, replica: bool) -> None:
    now = clock.monotonic()
    if now - connection.checked_at < policy.REPLICA_CHECK_SECONDS:
        return
    connection.checked_at = now
    info = _info(connection)
    if info is None:
        return
    if replica:
        _check_replica(connection, info, prefix)
    elif info.get("role") != "master" or info.get("run_id") not in _primary_run_ids:
        log.info("Redis %s:%s is no longer the primary we checked: connecting again.", connection.host, connection.port)
        connection.disconnect()
        connection.connect()


def replicas_can_be_trusted() -> bool:
    """Whether a replica's connection can pass its check yet: this process has
    checked a primary (or cannot check at all, without ``INFO``). Before that,
    a replica would be refused, which reads as an outage."""
    return bool(_primary_run_ids) or _info_refused


def _info(connection) -> dict | None:
    global _info_refused
    try:
        text = _command(connection, "INFO", "server", "replication").decode()
    except ResponseError as error:  # NOPERM, or a server (fake) without INFO
        if not _info_refused:
            _info_refused = True
            log.warning("Cannot check Redis for restarts (%s): grant +info to the cache's ACL user.", error)
        return None
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    return {name: value.strip() for name, value in fields.items()}


def _check_replica(connection, info: dict, prefix: str) -> None:
    reason = _replica_distrust(info, _command(connection, "GET", f"{prefix}:instance"))
    if reason:
        raise CacheNotVerified(reason)


def _replica_distrust(info: dict, marker: bytes | None) -> str | None:
    """Why a replica's data cannot be trusted now (None: it can)."""
    if str(info.get("role")) != "slave" or str(info.get("master_link_status")) != "up":
        return "replica not in sync with its primary"
    if marker is not None and marker.decode() == info.get("run_id"):
        # A demoted primary follows a promoted replica that nobody has
        # checked (and emptied) yet: the marker it wrote itself came back from
        # there, over data that missed what was written to it before its demotion.
        return "a demoted primary following a primary not checked yet"
    with _lock:
        trusted = marker is not None and marker.decode() in _primary_run_ids
    return None if trusted else "replica has not synced from a checked primary"


def _empty(connection, prefixes: tuple[str, ...], marker: str, run_id: str, *, cluster: bool) -> None:
    """Delete our keys on this server, once, then mark it as checked. The lock
    is released however this ends: one left behind would refuse every
    connection to this server until it expired, and the next try would leave
    it again."""
    lock, token = f"{marker}:emptying", secrets.token_hex(8)
    if not _command(connection, "SET", lock, token, "NX", "EX", LOCK_SECONDS):
        _wait_for_other_emptying(connection, marker, run_id)
        return
    try:
        if _command(connection, "GET", marker) == run_id.encode():  # emptied while we took the lock
            return
        kept = {lock.encode(), marker.encode()}
        removed = sum(_unlink_ours(connection, prefix, kept=kept, cluster=cluster) for prefix in prefixes)
        _command(connection, "SET", marker, run_id)
    finally:
        _command(connection, "EVAL", _RELEASE_OWN_LOCK, 1, lock, token)
    # A server that held keys of ours is news (a restore, a failover); an empty one (a
    # first start, a restart without persistence) is routine.
    log.log(
        logging.WARNING if removed else logging.INFO,
        "Redis %s:%s is new to us (restart, restore or failover): emptied %d cache and session keys.",
        connection.host,
        connection.port,
        removed,
    )


# Only our own lock: one that expired and another process took since is theirs.
# Sent whole by EVAL (the shared file, not the EVALSHA loader): it runs on a raw
# connection in the middle of its setup, once per server new to us.
_RELEASE_OWN_LOCK = scripts.source("delete_if_unchanged")


def _unlink_ours(connection, prefix: str, *, kept: set[bytes], cluster: bool) -> int:
    """UNLINK every key under ``prefix`` but ``kept``, a SCAN batch at a time.
    A cluster node refuses one UNLINK over keys of several slots (CROSSSLOT),
    and a promoted replica holds keys of all its primary's slots: there, a
    batch goes as one UNLINK per slot, pipelined (one round trip a batch)."""
    removed, cursor = 0, b"0"
    while True:
        cursor, found = _command(connection, "SCAN", cursor, "MATCH", f"{prefix}:*", "COUNT", SCAN_COUNT)
        ours = [key for key in found if key not in kept]
        if ours:
            groups = _by_slot(ours) if cluster else [ours]
            commands = connection.pack_commands([("UNLINK", *group) for group in groups])
            connection.send_packed_command(commands, check_health=False)
            replies = [_read_reply(connection) for _ in groups]  # each read, so the connection stays in step
            refused = [reply for reply in replies if isinstance(reply, ResponseError)]
            if refused:  # what is left may be old: the marker is not written, the server not trusted
                raise CacheNotVerified(f"could not empty this Redis: {refused[0]}")
            removed += sum(replies)
        if cursor in (b"0", 0):
            return removed


def _by_slot(keys: list[bytes]) -> list[list[bytes]]:
    groups: dict[int, list[bytes]] = {}
    for key in keys:
        groups.setdefault(key_slot(key), []).append(key)
    return list(groups.values())


def _read_reply(connection) -> int | ResponseError:
    try:
        return connection.read_response()
    except ResponseError as error:
        return error


def _wait_for_replicas(connection, replicas: int) -> None:
    """Let the replicas have the new marker before this process reads them: a
    replica checked before it has it would be refused, as if it were down."""
    if replicas:
        _command(connection, "WAIT", replicas, policy.REPLICA_WAIT_MS)


def _wait_for_other_emptying(connection, marker: str, run_id: str) -> None:
    try:
        waiting.wait_until(
            lambda: _command(connection, "GET", marker) == run_id.encode(),
            timeout=EMPTYING_WAIT_SECONDS,
            every=0.01,
            what="another process to empty this Redis",
        )
    except TimeoutError as error:
        raise CacheNotVerified("another process is still emptying this Redis") from error


def _marker_key(connection, prefix: str, cluster: bool) -> str:
    """One marker per server: in a cluster, under a tag that hashes to one of its own slots."""
    if not cluster:
        return f"{prefix}:instance"
    return f"{prefix}:instance:{{{_tag_for_slot(_own_slot_ranges(connection)[0][0])}}}"


def _own_slot_ranges(connection) -> list[tuple[int, int]]:
    my_id = _command(connection, "CLUSTER", "MYID")
    ranges = []
    for start, end, *nodes in _command(connection, "CLUSTER", "SLOTS"):
        if nodes and len(nodes[0]) > 2 and nodes[0][2] == my_id:
            ranges.append((int(start), int(end)))
    if not ranges:
        raise CacheNotVerified("this cluster node serves no slots")
    return sorted(ranges)


_tags: dict[int, str] = {}


def _tag_for_slot(slot: int) -> str:
    """A short hash tag whose key slot is ``slot`` (found once by trying)."""
    if slot not in _tags:
        number = 0
        while key_slot(f"n{number}".encode()) != slot:
            number += 1
        _tags[slot] = f"n{number}"
    return _tags[slot]


def _command(connection, *args):
    connection.send_command(*args, check_health=False)  # never the check that is running
    return connection.read_response()


def forget_checked_primaries() -> None:
    """For tests: start as a new process would."""
    global _info_refused
    with _lock:
        _primary_run_ids.clear()
        _info_refused = False
