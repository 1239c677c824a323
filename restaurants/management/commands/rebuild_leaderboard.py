import time

from django.core.management.base import BaseCommand

from restaurants.cache.data import leaderboard


class Command(BaseCommand):
    help = "Recompute the top-restaurants sorted set from DynamoDB and swap it in."

    def handle(self, *args, **options):
        started = time.monotonic()
        count = leaderboard.rebuild()
        self.stdout.write(
            self.style.SUCCESS(f"Ranked {count} restaurants in {(time.monotonic() - started) * 1000:.0f} ms")
        )
