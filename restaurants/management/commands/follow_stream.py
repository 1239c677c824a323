"""``manage.py follow_stream``: keep the caches right after writes from any client.

A long-running consumer of the table's DynamoDB Stream (see
``restaurants/stream_follower.py``): one per table, started by ``make run``,
run as a service in production (or use the Lambda handler in
``reviews_site/stream_lambda.py`` instead). SIGTERM or Ctrl-C stops it after
the batch in hand is applied and its position saved.

A record that cannot be applied is skipped (what its keys name is retired)
and kept in the table: ``--skipped`` lists those records, ``--replay-skipped``
applies them again with today's code and forgets each one that applies.
"""

import logging
import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from restaurants.cache.plumbing.connection import CacheDown
from restaurants.dynamo import streams
from restaurants.dynamo.errors import DataError
from restaurants.stream_follower import StreamFollower, skipped_replay

# Once caught up, a poll every half second: a write by another client is on
# the site well within 2 s, and a shard sees 2 GetRecords a second (AWS allows 5).
DEFAULT_INTERVAL = 0.5


class Command(BaseCommand):
    help = "Follow the table's DynamoDB Stream and retire the caches each change affects, whoever wrote it."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="apply what the stream holds now, then stop")
        parser.add_argument("--skipped", action="store_true", help="list the records kept as skipped, then stop")
        parser.add_argument(
            "--replay-skipped", action="store_true", help="apply the records kept as skipped again, then stop"
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=DEFAULT_INTERVAL,
            help=f"seconds between polls once caught up (default {DEFAULT_INTERVAL})",
        )

    def handle(self, *args, once=False, interval=DEFAULT_INTERVAL, **options):
        if options["verbosity"] > 1:
            logging.getLogger("restaurants.stream_follower").setLevel(logging.DEBUG)
        if options["skipped"] or options["replay_skipped"]:
            self._skipped(replay=options["replay_skipped"])
            return
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

    def _skipped(self, *, replay: bool) -> None:
        try:
            if not replay:
                for skipped in streams.skipped_records():
                    retired = "retired" if skipped.retired else "NOT retired"
                    self.stdout.write(
                        f"{skipped.sequence} {skipped.pk} / {skipped.sk} ({retired}, {skipped.skipped_at}): "
                        f"{skipped.reason}"
                    )
                return
            results = skipped_replay()
        except (DataError, CacheDown) as error:
            raise CommandError(f"Cannot reach the table or the cache: {error}") from error
        for skipped, error in results:
            outcome = "applied" if error is None else f"failed again, kept: {error}"
            self.stdout.write(f"{skipped.sequence} {skipped.pk} / {skipped.sk}: {outcome}")
        kept = sum(1 for _, error in results if error is not None)
        self.stdout.write(self.style.SUCCESS(f"Replayed {len(results) - kept} skipped records; {kept} kept."))
