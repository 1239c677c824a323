"""The ElastiCache lab's experiment: a restaurant summary read from DynamoDB
versus from the Redis cache, over N restaurants, with a plot."""

import os
import statistics
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from restaurants.cache.data import summaries
from restaurants.cache.plumbing.connection import CacheDown, primary, redis_or_fallback
from restaurants.dynamo import reads


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _timed(function) -> float:
    started = time.perf_counter()
    function()
    return (time.perf_counter() - started) * 1000


class Command(BaseCommand):
    help = "Time restaurant summaries from DynamoDB and from Redis over N restaurants; write a PNG plot."

    def add_arguments(self, parser):
        parser.add_argument("--restaurants", type=int, default=100, help="how many restaurants (default 100)")
        parser.add_argument("--output", default="var/cache_benchmark.png", help="where to write the plot")

    def handle(self, *args, restaurants, output, **options):
        names = [r.name for r in reads.restaurant_list(page_size=max(1, restaurants)).items][:restaurants]
        if not names:
            raise CommandError("The table has no restaurants: run seed_demo or load_items first.")
        endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
        # Never present a local emulator's speed as DynamoDB's.
        source = f"DynamoDB emulator at {endpoint}" if endpoint else "Amazon DynamoDB"
        try:
            with redis_or_fallback():
                primary().ping()
        except CacheDown as error:
            raise CommandError(f"Redis is not reachable: {error}") from error

        from_dynamodb = [_timed(lambda n=name: reads.restaurant_summary_get(name=n)) for name in names]
        for name in names:
            summaries.restaurant_summary(name)  # cache-aside: the first read fills the cache
        from_redis = [_timed(lambda n=name: summaries.restaurant_summary(n)) for name in names]

        rows = [(source, from_dynamodb), ("Redis (cache hit)", from_redis)]
        self.stdout.write(f"{len(names)} restaurant summaries, one read each:")
        self.stdout.write(f"{'source':<48} {'mean ms':>8} {'p50 ms':>8} {'p99 ms':>8}")
        for label, values in rows:
            self.stdout.write(
                f"{label:<48} {statistics.mean(values):8.2f} {statistics.median(values):8.2f} "
                f"{_percentile(values, 0.99):8.2f}"
            )
        speedup = statistics.median(from_dynamodb) / statistics.median(from_redis)
        self.stdout.write(f"Median speed-up from the cache: {speedup:.1f}x")
        self._plot(rows, Path(output))
        self.stdout.write(self.style.SUCCESS(f"Plot written to {output}"))

    @staticmethod
    def _plot(rows, path: Path) -> None:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot

        path.parent.mkdir(parents=True, exist_ok=True)
        figure, axes = pyplot.subplots(figsize=(9, 4.5))
        for label, values in rows:
            axes.plot(range(1, len(values) + 1), values, marker=".", linewidth=1, label=label)
        axes.set_xlabel("restaurant")
        axes.set_ylabel("summary read latency (ms)")
        axes.set_title("Restaurant summary: database vs Redis cache")
        axes.set_yscale("log")
        axes.legend()
        figure.tight_layout()
        figure.savefig(path, dpi=110)
        pyplot.close(figure)
