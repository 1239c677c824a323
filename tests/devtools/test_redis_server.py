"""The embedded Redis: a real server that starts, serves, persists and stops."""

import os

import pytest
import redis

from devtools.embedded.redis_server import redis_server_executable, start_redis

pytestmark = pytest.mark.integration


def test_the_executable_exists():
    assert os.access(redis_server_executable(), os.X_OK)


def test_redis_starts_answers_and_stops():
    server = start_redis()
    try:
        assert server.url == f"redis://127.0.0.1:{server.port}/0"
        client = redis.Redis.from_url(server.url)
        client.set("greeting", "hello")
        assert client.get("greeting") == b"hello"
    finally:
        server.stop()

    assert server.process.poll() is not None
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(server.url, socket_connect_timeout=0.5).ping()


def test_redis_with_a_data_dir_keeps_data_across_restarts(tmp_path):
    first = start_redis(data_dir=tmp_path)
    try:
        redis.Redis.from_url(first.url).set("session", "kept")
    finally:
        first.stop()
    assert (tmp_path / "dump.rdb").exists()

    second = start_redis(data_dir=tmp_path)
    try:
        assert redis.Redis.from_url(second.url).get("session") == b"kept"
    finally:
        second.stop()


def test_redis_without_a_data_dir_forgets_everything():
    first = start_redis()
    port = first.port
    try:
        redis.Redis.from_url(first.url).set("session", "gone")
    finally:
        first.stop()

    second = start_redis(port=port)
    try:
        assert redis.Redis.from_url(second.url).get("session") is None
    finally:
        second.stop()
