"""``REDIS_CA_CERTS``: Redis servers that speak TLS only (``--port 0``), with a
certificate from a CA made for the test session, which no system trusts."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.faults.conftest import point_the_site_at, staff_client, wait_until_replicated

pytestmark = pytest.mark.integration
FINE_DINING = "AnyCompany Fine Dining"
DETAIL = reverse("restaurants:detail", args=[FINE_DINING])


def hget_calls(admin) -> int:
    return admin.info("commandstats").get("cmdstat_hget", {}).get("calls", 0)


def test_without_the_ca_bundle_the_site_serves_from_dynamodb_and_logs_why(site, settings, tls_primary, redis_errors):
    point_the_site_at(settings, tls_primary.url, ca_certs="")
    pages = [Client().get(DETAIL) for _ in range(2)]
    assert [page.status_code for page in pages] == [200, 200]
    assert not any(page.has_header("X-Cache") for page in pages)  # not cached, and not failing
    assert FINE_DINING in pages[1].content.decode()
    assert redis_errors and "certificate verify failed" in str(redis_errors[0])


def test_with_the_ca_bundle_pages_are_stored_on_the_primary_and_hit_on_the_replica(
    site, settings, tls_files, tls_primary, tls_replica, redis_errors
):
    point_the_site_at(settings, tls_primary.url, [tls_replica.url], ca_certs=tls_files.ca)
    first = Client().get(DETAIL)
    assert first["X-Cache"] == "MISS"
    wait_until_replicated(tls_primary.client(), tls_replica.client())
    reads_before = hget_calls(tls_replica.client())

    second = Client().get(DETAIL)

    assert second["X-Cache"] == "HIT" and second.content == first.content
    assert hget_calls(tls_replica.client()) == reads_before + 1
    assert redis_errors == []


def test_the_bundle_leaves_a_plain_redis_url_alone(site, settings, tls_files, tls_primary, redis_server, redis_errors):
    """One setting for a TLS cache beside plain-TCP sessions: redis-py's plain
    connection would refuse ``ssl_ca_certs`` at its first command."""
    point_the_site_at(settings, tls_primary.url, ca_certs=tls_files.ca)
    settings.CACHES = {**settings.CACHES, "sessions": {**settings.CACHES["sessions"], "LOCATION": [redis_server.url]}}

    staff = staff_client()  # its session is on the plain server
    Client().get(DETAIL)

    assert Client().get(DETAIL)["X-Cache"] == "HIT"
    assert staff.get("/admin/").status_code == 200
    assert list(redis_server.client().scan_iter(match="session:*"))
    assert redis_errors == []
