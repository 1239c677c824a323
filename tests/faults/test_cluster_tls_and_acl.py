"""Cluster mode over TLS with a private CA, as the cluster ACL user of deploy/redis-acl.txt:
``REDIS_CA_CERTS`` must reach every node redis-py's ``RedisCluster`` discovers
(and the dashboard's own connection to each), and the ACL must allow what the
cluster client asks beyond the single-server list."""

import pytest
from django.test import Client

from devtools.embedded.redis_cluster import start_redis_cluster
from restaurants import selectors
from tests.faults import flows
from tests.faults.conftest import (
    ADMIN_PASSWORD,
    SITE_PASSWORD,
    SITE_USER,
    create_site_user,
    dashboard_rows,
    documented_acl,
    point_the_site_at,
    refused_commands,
    staff_client,
)

# Under ``--dist loadgroup`` (make test) one xdist worker runs every cluster module.
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("redis_cluster")]


@pytest.fixture(scope="module")
def tls_cluster(tls_files):
    cluster = start_redis_cluster(masters=3, tls=tls_files, password=ADMIN_PASSWORD)
    yield cluster
    cluster.stop()


@pytest.mark.stream  # the flows include follow_stream
def test_every_flow_works_on_a_tls_cluster_as_the_documented_least_acl_user(
    site, settings, tls_files, tls_cluster, redis_errors
):
    tls_cluster.flushall()
    admins = [node.client() for node in tls_cluster.nodes]
    for admin in admins:
        create_site_user(admin, documented_acl(cluster=True))
    point_the_site_at(settings, tls_cluster.url_for(SITE_USER, SITE_PASSWORD), ca_certs=tls_files.ca, cluster=True)

    flows.anonymous_visitor(lambda: None)
    flows.member(lambda: None)
    dashboard = flows.staff(staff_client())
    flows.operator_commands()

    assert redis_errors == []
    assert [refused_commands(admin) for admin in admins] == [[]] * len(admins)
    rows = dashboard_rows(dashboard)
    assert {address: role for address, (role, _) in rows.items()} == {
        f"127.0.0.1:{port}": "primary" for port in tls_cluster.ports
    }
    assert "no permission" not in dashboard and "unreachable" not in dashboard


def test_readiness_sees_the_cluster_ok_as_the_documented_least_acl_user(
    site, settings, tls_files, tls_cluster, redis_errors, fake_clock, monkeypatch
):
    admins = [node.client() for node in tls_cluster.nodes]
    for admin in admins:
        create_site_user(admin, documented_acl(cluster=True))
    point_the_site_at(settings, tls_cluster.url_for(SITE_USER, SITE_PASSWORD), ca_certs=tls_files.ca, cluster=True)
    monkeypatch.setattr(selectors, "_readiness", None)

    answer = Client().get("/readyz")

    assert answer.status_code == 200 and answer.json()["status"] == "ok", answer.json()
    assert [refused_commands(admin) for admin in admins] == [[]] * len(admins) and redis_errors == []
