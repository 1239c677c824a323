"""The embedded cluster's planned failover asks again when Redis gave the
first one up, as an operator would (CI once saw a lone CLUSTER FAILOVER
never complete on a loaded machine)."""

import os
import signal
import threading

import pytest

from devtools.embedded.redis_cluster import start_redis_cluster
from restaurants.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("redis_cluster")]


def test_promote_asks_again_after_redis_gave_a_manual_failover_up():
    with start_redis_cluster(masters=3) as cluster:
        replica = cluster.add_replica(of=0)
        primary = cluster.nodes[0]
        for node in cluster.nodes:  # nobody declares the paused primary failed (no automatic failover)
            node.client().config_set("cluster-node-timeout", 60_000)

        os.kill(primary.process.pid, signal.SIGSTOP)  # it cannot answer the first request
        try:
            promoting = threading.Thread(target=cluster.promote, args=(replica,))
            promoting.start()
            gave_up = lambda: "Manual failover timed out" in replica.log_path.read_text()  # noqa: E731
            wait_until(gave_up, timeout=30, every=0.05, what="the replica to give up the first failover")
        finally:
            os.kill(primary.process.pid, signal.SIGCONT)
        promoting.join(timeout=60)

        assert not promoting.is_alive()
        assert replica.client().execute_command("ROLE")[0] == b"master"
        assert primary.client().execute_command("ROLE")[0] == b"slave"
        assert replica.log_path.read_text().count("Manual failover user request accepted") == 2
