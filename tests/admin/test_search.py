"""The admin's restaurant search, end to end through its view and form, on moto's
mock and on DynamoDB Local: DynamoDB refuses an empty ``begins_with`` prefix, so
no search, an empty one or one the form refuses must list every restaurant."""

import re

import pytest

from tests.conftest import staff_client

LAB_RESTAURANTS = 10


@pytest.fixture
def aws(dynamodb_backend):
    return dynamodb_backend


@pytest.fixture
def staff(lab_table):
    return staff_client()


def listed(response) -> list[str]:
    return re.findall(r'<tr><td><a href="/admin/restaurants/[^"]+/">([^<]+)</a>', response.content.decode())


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"q": ""},
        {"q": "   "},
        {"q": "\t\n"},
        {"q": "x" * 5000},
        {"q": "\x00"},
        {"cursor": ""},
        {"q": "", "cursor": ""},
    ],
    ids=["no-q", "empty", "spaces", "tab-newline", "too-long", "nul", "cursor-only", "empty-q-and-cursor"],
)
def test_no_search_lists_every_restaurant(staff, query):
    response = staff.get("/admin/restaurants/", query)
    assert response.status_code == 200
    assert len(listed(response)) == LAB_RESTAURANTS


@pytest.mark.parametrize("prefix", ["🍜 東京", "%", "REST#", "\u202e", "Zoë", "a/b", "x" * 200])
def test_odd_prefixes_find_nothing_rather_than_fail(staff, prefix):
    response = staff.get("/admin/restaurants/", {"q": prefix})
    assert response.status_code == 200 and listed(response) == []


def test_a_prefix_finds_the_restaurants_that_start_with_it(staff):
    response = staff.get("/admin/restaurants/", {"q": " AnyCompany "})
    assert response.status_code == 200
    assert sorted(listed(response)) == [
        "AnyCompany BBQ",
        "AnyCompany Fine Dining",
        "AnyCompany Indian",
        "AnyCompany Italian",
        "AnyCompany Mexican",
    ]


def test_the_next_page_of_an_empty_search_follows_on(staff, monkeypatch):
    from restaurants.dynamo import reads

    original = reads.restaurant_search
    monkeypatch.setattr(reads, "restaurant_search", lambda **kw: original(**kw, page_size=4))
    first = staff.get("/admin/restaurants/", {"q": ""}).content.decode()
    next_link = re.search(r'href="(\?q=&amp;cursor=[^"]+)"', first).group(1).replace("&amp;", "&")

    second = staff.get(f"/admin/restaurants/{next_link}")

    assert second.status_code == 200 and len(listed(second)) == 4
    assert not set(listed(second)) & set(re.findall(r'/admin/restaurants/[^"]+/">([^<]+)<', first))


def test_a_cursor_from_another_search_is_a_400_not_a_500(staff, monkeypatch):
    from restaurants.dynamo import reads

    original = reads.restaurant_search
    monkeypatch.setattr(reads, "restaurant_search", lambda **kw: original(**kw, page_size=2))
    first = staff.get("/admin/restaurants/", {"q": "Any"}).content.decode()
    cursor = re.search(r"cursor=([^\"&]+)", first).group(1)

    from urllib.parse import unquote

    assert staff.get("/admin/restaurants/", {"q": "", "cursor": unquote(cursor)}).status_code == 400
    assert staff.get("/admin/restaurants/", {"q": "Any", "cursor": "garbage"}).status_code == 400
