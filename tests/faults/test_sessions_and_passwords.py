"""What a visitor is told when Redis fails around a write, a login or a
password change: the truth, never a 500, never a silent logout."""

from urllib.parse import quote

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.test import Client
from django.urls import reverse

from restaurants import services as site_services
from restaurants.dynamo import reads
from restaurants.dynamo import users as user_items

from .conftest import PASSWORD, RESTAURANT, point_caches_at

pytestmark = pytest.mark.integration

PAGE = f"/restaurants/{quote(RESTAURANT)}/"
REVIEW = reverse("restaurants:review_create", args=[RESTAURANT])
NEW_PASSWORD = "another-Long-pass-7"


def down(endpoint) -> None:
    """The Redis behind ``endpoint`` stops answering: open connections die, new ones fail."""
    endpoint.refuse()
    endpoint.cut()


@pytest.fixture
def redis_behind_proxy(redis_factory, proxy, settings):
    redis = redis_factory()
    endpoint = proxy(redis.port)
    point_caches_at(settings, endpoint.url)
    return endpoint


def test_a_review_saved_just_before_redis_fails_is_confirmed(table, author, redis_behind_proxy, monkeypatch):
    writer = Client()
    assert writer.login(username=author.username, password=PASSWORD)
    create = site_services.writes.review_create

    def create_then_lose_redis(**kwargs):
        review = create(**kwargs)
        down(redis_behind_proxy)
        return review

    monkeypatch.setattr(site_services.writes, "review_create", create_then_lose_redis)
    answer = writer.post(REVIEW, {"rating": 5, "review": "Saved, then Redis fell over."})

    assert answer.status_code == 302  # the session (with its confirmation) is saved in DynamoDB
    assert reads.restaurant_summary_get(name=RESTAURANT).restaurant.review_count == 1
    assert b"Saved, then Redis fell over." in Client().get(PAGE).content  # from DynamoDB
    mine = writer.get(answer["Location"])
    assert mine.context["user"].username == author.username  # the session read from DynamoDB
    assert b"Thank you! Your review is published." in mine.content

    redis_behind_proxy.refuse(False)
    back = writer.get(PAGE)
    assert back.context["user"].username == author.username
    assert b"Saved, then Redis fell over." in back.content and b'name="review"' not in back.content


def test_an_edit_posted_while_redis_is_down_is_saved(table, author, redis_behind_proxy):
    writer = Client()
    assert writer.login(username=author.username, password=PASSWORD)
    assert writer.post(REVIEW, {"rating": 3, "review": "First words."}).status_code == 302
    down(redis_behind_proxy)
    edit = reverse("restaurants:review_edit", args=[RESTAURANT])
    answer = writer.post(edit, {"rating": 4, "review": "Words I typed for ten minutes."})
    assert answer.status_code == 302
    assert b"Words I typed for ten minutes." in writer.get(PAGE).content


def test_logging_in_while_redis_is_down_says_so(table, author, redis_behind_proxy):
    down(redis_behind_proxy)
    answer = Client().post(reverse("accounts:login"), {"username": author.username, "password": PASSWORD})
    assert answer.status_code == 503
    assert b"Please" in answer.content and b"Something went wrong" not in answer.content


@pytest.fixture
def separate_session_store(redis_factory, proxy, settings):
    """Sessions on their own Redis, the cache behind a proxy that can fail alone."""
    sessions, cache = redis_factory("sessions"), redis_factory("cache")
    endpoint = proxy(cache.port)
    point_caches_at(settings, endpoint.url)
    settings.CACHES["sessions"]["LOCATION"] = [sessions.url]
    return endpoint


def test_a_password_change_that_cannot_fence_the_cache_changes_nothing(table, author, separate_session_store):
    staff = get_user_model().objects.create_user("fault_staff", None, PASSWORD, is_staff=True)
    browser = Client()
    assert browser.login(username=staff.username, password=PASSWORD)
    down(separate_session_store)
    change = {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    answer = browser.post(reverse("admin:password_change"), change)
    assert answer.status_code == 503
    assert authenticate(username=staff.username, password=PASSWORD) is not None
    assert authenticate(username=staff.username, password=NEW_PASSWORD) is None


def test_a_password_change_ends_old_sessions_even_if_redis_blips_after_it(
    table, author, separate_session_store, monkeypatch
):
    old_session = Client()
    assert old_session.login(username=author.username, password=PASSWORD)
    assert old_session.get(PAGE).context["user"].username == author.username  # profile now cached
    update = user_items.user_item_update

    def update_then_blip(**kwargs):
        update(**kwargs)
        down(separate_session_store)  # the fence cannot be lifted: it must expire by itself

    monkeypatch.setattr(user_items, "user_item_update", update_then_blip)
    author.set_password(NEW_PASSWORD)
    author.save()
    monkeypatch.undo()
    separate_session_store.refuse(False)

    assert not old_session.get(PAGE).context["user"].is_authenticated
    assert authenticate(username=author.username, password=PASSWORD) is None
    assert authenticate(username=author.username, password=NEW_PASSWORD) is not None
