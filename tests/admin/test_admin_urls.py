"""Django's admin comes with views that read ORM tables; with no SQL database
they must not be served at all (moto's mock and fakeredis)."""

import pytest

from tests.conftest import staff_client


@pytest.fixture
def staff(table):
    return staff_client()


@pytest.mark.parametrize("url", ["/admin/r/1/1/", "/admin/r/0/x/"])
def test_view_on_site_is_not_served_since_it_queries_contenttypes(staff, url):
    """Found by the fuzz test: a numeric content type id reached the ORM, which
    has no database to ask (ImproperlyConfigured, a 500)."""
    assert staff.get(url).status_code == 404


def test_the_admin_views_we_keep_still_answer(staff):
    assert staff.get("/admin/password_change/").status_code == 200
    assert staff.get("/admin/jsi18n/").status_code == 200
    assert staff.get("/admin/autocomplete/").status_code == 403  # it needs registered models, and we have none
