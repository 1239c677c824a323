from django.core.management.base import BaseCommand

from restaurants.cache.operations import flush


class Command(BaseCommand):
    help = "Remove cached pages and/or data by namespace. Sessions and login throttling are never touched."

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--pages", action="store_const", dest="which", const="pages", help="only the page cache")
        which.add_argument(
            "--data", action="store_const", dest="which", const="data", help="summaries, fragments, leaderboard"
        )
        which.add_argument("--all", action="store_const", dest="which", const="all", help="everything (default)")

    def handle(self, *args, which=None, **options):
        report = flush.flush(flush.SCOPES[which or "all"])
        for namespace, count in report.removed.items():
            self.stdout.write(f"- {namespace}: {count} keys")
        self.stdout.write(self.style.SUCCESS(f"Removed {report.total} keys in {report.seconds * 1000:.0f} ms"))
