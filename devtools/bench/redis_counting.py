"""Counting Redis round trips in every gunicorn worker (bench only).

A round trip is one ``send_packed_command``: a single command or a whole
pipeline. Per-worker counts would be unreadable with two workers (a request
to the counters view reaches either one), and counting in Redis itself would
add the round trips it measures. So the count lives in one shared-memory
integer created when this module is imported: gunicorn's ``--preload``
imports it in the master, and the forked workers all add to the same
integer. Without ``--preload`` each process counts alone, which
``counted_in_shared_memory`` reports so the bench can refuse the numbers.
"""

import multiprocessing
import os

from redis.connection import Connection

_round_trips = multiprocessing.Value("Q", 0)
_created_in_pid = os.getpid()


class CountingConnection(Connection):
    """A redis-py connection that counts what it sends; a pipeline counts once."""

    def send_packed_command(self, command, check_health=True):
        with _round_trips.get_lock():
            _round_trips.value += 1
        return super().send_packed_command(command, check_health=check_health)


def round_trips() -> int:
    return _round_trips.value


def reset_round_trips() -> None:
    with _round_trips.get_lock():
        _round_trips.value = 0


def counted_in_shared_memory() -> bool:
    """True in a process forked after this module was imported (a preloaded worker)."""
    return os.getpid() != _created_in_pid


def counters(*, reset: bool) -> dict:
    """What the bench's counters URL answers (``web.WebServer.counters``)."""
    body = {
        "pid": os.getpid(),
        "redis_round_trips": round_trips(),
        "counted_in_shared_memory": counted_in_shared_memory(),
    }
    if reset:
        reset_round_trips()
    return body
