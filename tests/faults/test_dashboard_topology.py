"""The dashboard shows each Redis server's role as the server reports it on
that page load: a replica as a replica, a replica promoted by a failover as
a primary on the next load, and a cluster node that joined after the site
connected (which the cluster client's cached topology does not list)."""

import pytest

from devtools.embedded.redis_cluster import start_redis_cluster
from restaurants.waiting import wait_until
from tests.faults.conftest import dashboard_rows, point_the_site_at, staff_client

pytestmark = pytest.mark.integration


def wait_for_role(client, role: bytes, timeout: float = 30) -> None:
    """Until the server's ROLE says ``role`` (a failover takes a moment)."""
    has_role = lambda: client.execute_command("ROLE")[0] == role  # noqa: E731
    wait_until(has_role, timeout=timeout, every=0.05, what=f"the server to become {role!r}")


def roles(html: str) -> dict[str, str]:
    return {address: role for address, (role, _) in dashboard_rows(html).items()}


def test_a_replica_is_listed_as_one_and_as_primary_on_the_load_after_its_promotion(
    site, settings, primary, replica, redis_errors
):
    point_the_site_at(settings, primary.url, [replica.url])
    staff = staff_client()
    first, second = f"127.0.0.1:{primary.port}", f"127.0.0.1:{replica.port}"

    before = dashboard_rows(staff.get("/admin/").content.decode())
    assert {address: role for address, (role, _) in before.items()} == {first: "primary", second: "replica"}
    assert f"of {first} (link up)" in before[second][1]
    assert f"replica {second} (online)" in before[first][1]

    replica.client().replicaof("NO", "ONE")  # a failover: the replica is promoted...
    primary.client().replicaof("127.0.0.1", replica.port)  # ...and the old primary follows it
    wait_for_role(primary.client(), b"slave")

    after = dashboard_rows(staff.get("/admin/").content.decode())
    assert {address: role for address, (role, _) in after.items()} == {first: "replica", second: "primary"}
    assert f"of {second}" in after[first][1]
    assert "default replica 1" in after[second][1]  # still the URL the site reads from, now a primary
    assert redis_errors == []


@pytest.fixture
def growing_cluster():
    """A cluster of its own: the test adds a node and fails over to it."""
    with start_redis_cluster(masters=3) as cluster:
        yield cluster


@pytest.mark.xdist_group("redis_cluster")
def test_cluster_nodes_show_live_roles_including_a_node_that_joined_after_the_site_connected(
    site, settings, growing_cluster, redis_errors
):
    point_the_site_at(settings, growing_cluster.url, cluster=True)
    staff = staff_client()
    assert set(roles(staff.get("/admin/").content.decode()).values()) == {"primary"}

    joined = growing_cluster.add_replica(of=0)
    old_primary, newcomer = (f"127.0.0.1:{port}" for port in (growing_cluster.ports[0], joined.port))

    now = dashboard_rows(staff.get("/admin/").content.decode())
    assert len(now) == 4 and now[newcomer][0] == "replica" and now[old_primary][0] == "primary"
    assert f"of {old_primary} (link up)" in now[newcomer][1]

    growing_cluster.promote(joined)

    after = roles(staff.get("/admin/").content.decode())
    assert after[newcomer] == "primary" and after[old_primary] == "replica"
    assert list(after.values()).count("primary") == 3
    assert redis_errors == []
