"""Sessions: Redis for speed, DynamoDB for truth. Real redis-servers (killed,
restored from a snapshot, cut off behind a proxy) and DynamoDB Local: a
logged-in visitor stays logged in through every Redis fault, and a session
that ended never comes back."""

import os
import signal
import threading
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from restaurants.cache.accounts.sessions import SessionStore
from restaurants.dynamo import client as dynamo_client
from restaurants.dynamo import item_keys
from restaurants.dynamo import sessions as stored_sessions

from .conftest import PASSWORD, RESTAURANT, point_caches_at

pytestmark = pytest.mark.integration

PAGE = f"/restaurants/{quote(RESTAURANT)}/"
REVIEW = reverse("restaurants:review_create", args=[RESTAURANT])
LOGOUT = reverse("accounts:logout")
LOGGED_IN = b">Log out</button>"


def logged_in(username: str) -> Client:
    visitor = Client()
    assert visitor.login(username=username, password=PASSWORD)
    return visitor


def cookie_of(visitor: Client) -> str:
    return visitor.cookies[django_settings.SESSION_COOKIE_NAME].value


def with_cookie(session_key: str) -> Client:
    """Another browser presenting ``session_key`` (an old cookie, replayed)."""
    visitor = Client()
    visitor.cookies[django_settings.SESSION_COOKIE_NAME] = session_key
    return visitor


def session_keys_in(redis) -> list[bytes]:
    """The sessions Redis holds (not the marks of sessions that ended)."""
    client = redis.client()
    found = client.scan_iter(match="session:*django.contrib.sessions.cache*")
    return [key for key in found if client.get(key) != b'"ended"']


def kill(redis) -> None:
    os.kill(redis.process.pid, signal.SIGKILL)
    redis.process.wait()


def down(endpoint) -> None:
    """The Redis behind ``endpoint`` stops answering (and keeps what it holds)."""
    endpoint.refuse()
    endpoint.cut()


def test_redis_killed_under_logged_in_load_logs_nobody_out(table, redis_factory, settings):
    redis = redis_factory()
    point_caches_at(settings, redis.url)
    users = [get_user_model().objects.create_user(f"steady_{n}", None, PASSWORD) for n in range(4)]
    visitors = [logged_in(user.username) for user in users]
    killed = threading.Event()
    progress = threading.Condition()
    done_before, done_after = [0] * len(users), [0] * len(users)
    answers: list[tuple[str, int, bool, bool]] = []  # user, status, logged in, after the kill

    def browse(index: int) -> None:
        visitor, username = visitors[index], users[index].username
        while done_after[index] < 8:
            after = killed.is_set()
            if after and done_after[index] == 3:  # a post while Redis is gone, then its confirmation
                page = visitor.post(REVIEW, {"rating": 4, "review": f"Posted by {username} with Redis dead."})
                answers.append((username, page.status_code, True, after))
                page = visitor.get(page.get("Location", PAGE))
            else:
                page = visitor.get(PAGE)
            answers.append((username, page.status_code, LOGGED_IN in page.content, after))
            with progress:
                if after:
                    done_after[index] += 1
                else:
                    done_before[index] += 1
                progress.notify_all()

    threads = [threading.Thread(target=browse, args=(n,)) for n in range(len(users))]
    for thread in threads:
        thread.start()
    with progress:
        assert progress.wait_for(lambda: min(done_before) >= 3, timeout=60)
    kill(redis)
    killed.set()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)

    refused = [answer for answer in answers if answer[1] >= 500]
    logged_out = [answer for answer in answers if answer[1] == 200 and not answer[2]]
    assert refused == [] and logged_out == []
    assert sum(1 for answer in answers if answer[3]) >= 4 * 8
    for user in users:  # each review was saved, and its author told so
        assert user.username.encode() in Client().get(PAGE).content


def test_a_snapshot_from_before_a_logout_brings_no_session_back(table, author, redis_factory, settings):
    redis = redis_factory()
    point_caches_at(settings, redis.url)
    leaving, staying = logged_in(author.username), logged_in(author.username)
    for visitor in (leaving, staying):
        assert LOGGED_IN in visitor.get(PAGE).content
    old_cookie = cookie_of(leaving)
    redis.client().save()  # the snapshot Redis will come back with: both sessions in it
    assert leaving.post(LOGOUT).status_code == 302
    assert LOGGED_IN not in with_cookie(old_cookie).get(PAGE).content

    kill(redis)
    restored = redis_factory(port=redis.port)  # same folder: it loads the old snapshot
    assert len(session_keys_in(restored)) == 2  # the logged-out session is in it

    assert LOGGED_IN not in with_cookie(old_cookie).get(PAGE).content
    assert LOGGED_IN in staying.get(PAGE).content  # from DynamoDB, then cached again
    assert len(session_keys_in(restored)) == 1


def test_a_session_changed_while_redis_was_unreachable_is_read_as_saved(table, author, redis_factory, proxy, settings):
    redis = redis_factory()
    endpoint = proxy(redis.port)
    point_caches_at(settings, endpoint.url)
    writer, leaving = logged_in(author.username), logged_in(author.username)
    for visitor in (writer, leaving):
        assert LOGGED_IN in visitor.get(PAGE).content  # both sessions cached
    old_cookie = cookie_of(leaving)

    down(endpoint)
    posted = writer.post(REVIEW, {"rating": 5, "review": "Posted while Redis was cut off."})
    assert posted.status_code == 302  # the confirmation is in the session, saved in DynamoDB only
    assert leaving.post(LOGOUT).status_code == 302
    assert len(session_keys_in(redis)) == 2  # Redis still holds both, as they were

    endpoint.refuse(False)
    page = writer.get(PAGE)
    assert LOGGED_IN in page.content and b"Thank you! Your review is published." in page.content
    again = writer.get(PAGE)
    assert LOGGED_IN in again.content and b"Thank you! Your review is published." not in again.content
    assert LOGGED_IN not in with_cookie(old_cookie).get(PAGE).content


def test_an_expired_session_the_table_still_holds_is_refused(table, author, redis_factory, settings):
    redis = redis_factory()
    point_caches_at(settings, redis.url)
    visitor = logged_in(author.username)
    session_key = cookie_of(visitor)
    stored = stored_sessions.session_item_get(session_key=session_key)
    assert stored is not None and LOGGED_IN in visitor.get(PAGE).content

    # DynamoDB's TTL has not deleted it yet; Redis's copy expired on time.
    dynamo_client.call(
        "UpdateItem",
        Key={name: {"S": value} for name, value in item_keys.session_item_keys(session_key).items()},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"N": "1000"}},
    )
    redis.client().unlink(*session_keys_in(redis))
    assert LOGGED_IN not in visitor.get(PAGE).content
    assert not SessionStore().exists(session_key)


def test_the_session_item_is_invisible_to_the_lab_index(table, author, redis_factory, settings):
    redis = redis_factory()
    point_caches_at(settings, redis.url)
    visitor = logged_in(author.username)
    item = dynamo_client.call(
        "GetItem", Key={name: {"S": value} for name, value in item_keys.session_item_keys(cookie_of(visitor)).items()}
    )["Item"]
    assert set(item) == {"PK", "SK", "data", "expires_at"}  # no index attribute: no GSI sees it
    described = dynamo_client.call("DescribeTimeToLive")["TimeToLiveDescription"]
    assert described.get("AttributeName") == "expires_at"
