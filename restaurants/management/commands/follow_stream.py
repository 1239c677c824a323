"""``manage.py follow_stream``: keep the caches right after writes from any client.

A long-running consumer of the table's DynamoDB Stream (see
``restaurants/stream_follower.py``): one per table, started by ``make run``,
run as a service in production (or use the Lambda handler in
``reviews_site/stream_lambda.py`` instead). SIGTERM or Ctrl-C stops it after
the batch in hand is applied and its position saved.
"""

import logging
import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from restaurants.cache.connection import CacheDown
from restaurants.dynamo.errors import DataError
from restaurants.stream_follower import StreamFollower

# Once caught up, a poll every half second: a write by another client is on
# the site well within 2 s, and a shard sees 2 GetRecords a second (AWS allows 5).
DEFAULT_INTERVAL = 0.5


class Command(BaseCommand):
    help = "Follow the table's DynamoDB Stream and retire the caches each change affects, whoever wrote it."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="apply what the stream holds now, then stop")
        parser.add_argument(
            "--interval",
            type=float,
            default=DEFAULT_INTERVAL,
            help=f"seconds between polls once caught up (default {DEFAULT_INTERVAL})",
        )

    def handle(self, *args, once=False, interval=DEFAULT_INTERVAL, **options):
        if options["verbosity"] > 1:
            logging.getLogger("restaurants.stream_follower").setLevel(logging.DEBUG)
        follower = StreamFollower()
        if once:
            try:
                follower.catch_up()
            except (DataError, CacheDown) as error:
                raise CommandError(f"Stopped before the end of the stream: {error}") from error
            self.stdout.write(self.style.SUCCESS(f"Applied {follower.applied_changes} changes."))
            return
        stop = threading.Event()
        handlers = {number: signal.signal(number, lambda *_: stop.set()) for number in (signal.SIGTERM, signal.SIGINT)}
        try:
            follower.run(stop, interval=interval)
        finally:
            for number, handler in handlers.items():
                signal.signal(number, handler)
        self.stdout.write(f"Stopped; applied {follower.applied_changes} changes.")
