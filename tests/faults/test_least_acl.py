"""The site over TLS with a private CA, logged in as the least ACL user of
deploy/redis-acl.txt, on a primary and a read replica.

The site's user is created from that file's rules: if the site needs a
command the file does not grant, the server refuses it, the refusal lands in
``ACL LOG`` and the site falls back to DynamoDB, and these tests fail on
either.
"""

from functools import partial

import pytest
import redis
from django.test import Client
from redis.exceptions import NoPermissionError

from restaurants import selectors
from tests.faults import flows
from tests.faults.conftest import (
    SITE_PASSWORD,
    SITE_USER,
    create_site_user,
    dashboard_rows,
    documented_acl,
    point_the_site_at,
    refused_commands,
    staff_client,
    wait_until_replicated,
)

pytestmark = pytest.mark.integration


def site_url(server) -> str:
    return server.url_for(SITE_USER, SITE_PASSWORD)


@pytest.mark.stream  # the flows include follow_stream
def test_every_flow_works_over_tls_as_the_documented_least_acl_user(
    site, settings, tls_files, tls_primary, tls_replica, redis_errors
):
    admins = [tls_primary.client(), tls_replica.client()]
    for admin in admins:
        create_site_user(admin, documented_acl(cluster=False))
    point_the_site_at(settings, site_url(tls_primary), [site_url(tls_replica)], ca_certs=tls_files.ca)
    settle = partial(wait_until_replicated, *admins)

    flows.anonymous_visitor(settle)
    flows.member(settle)
    dashboard = flows.staff(staff_client())
    flows.operator_commands()

    assert redis_errors == []
    assert [refused_commands(admin) for admin in admins] == [[], []]
    rows = dashboard_rows(dashboard)
    assert {address: role for address, (role, _) in rows.items()} == {
        f"127.0.0.1:{tls_primary.port}": "primary",
        f"127.0.0.1:{tls_replica.port}": "replica",
    }
    assert "no permission" not in dashboard and "unreachable" not in dashboard
    assert admins[1].info("commandstats")["cmdstat_hget"]["calls"] > 0  # pages were read from the replica


def test_readiness_sees_redis_ok_as_the_documented_least_acl_user(
    site, settings, tls_files, tls_primary, tls_replica, redis_errors, fake_clock, monkeypatch
):
    admins = [tls_primary.client(), tls_replica.client()]
    for admin in admins:
        create_site_user(admin, documented_acl(cluster=False))
    point_the_site_at(settings, site_url(tls_primary), [site_url(tls_replica)], ca_certs=tls_files.ca)
    monkeypatch.setattr(selectors, "_readiness", None)

    answer = Client().get("/readyz")

    assert answer.status_code == 200 and answer.json()["status"] == "ok"
    assert {name: check["state"] for name, check in answer.json()["checks"].items()} == {
        "dynamodb": "ok",
        "redis:default": "ok",
        "redis:sessions": "ok",
    }
    assert [refused_commands(admin) for admin in admins] == [[], []] and redis_errors == []


def test_the_site_user_can_do_nothing_else(tls_files, tls_primary):
    create_site_user(tls_primary.client(), documented_acl(cluster=False))
    as_site = redis.Redis.from_url(site_url(tls_primary), ssl_ca_certs=str(tls_files.ca))
    as_site.set("site:allowed", "1")
    for refused in (
        lambda: as_site.get("other:key"),
        lambda: as_site.keys("site:*"),
        lambda: as_site.flushall(),
        lambda: as_site.config_get("*"),
    ):
        with pytest.raises(NoPermissionError):
            refused()


def test_the_dashboard_says_no_permission_for_a_server_that_refuses_info(
    site, settings, tls_files, tls_primary, redis_errors
):
    admin = tls_primary.client()
    create_site_user(admin, [rule for rule in documented_acl(cluster=False) if rule != "+info"])
    point_the_site_at(settings, site_url(tls_primary), ca_certs=tls_files.ca)

    dashboard = staff_client().get("/admin/").content.decode()

    [(role, row)] = dashboard_rows(dashboard).values()
    assert "no permission (INFO)" in row and "unreachable" not in row
    assert 'data-kind="page"' in dashboard and "Redis is not answering" not in dashboard  # the rest works
    assert redis_errors == []
    assert refused_commands(admin) == [f"command info ({SITE_USER})"]
