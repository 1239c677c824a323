from django.core.management.base import BaseCommand

from restaurants.cache.operations import warming


class Command(BaseCommand):
    help = "Pre-fill restaurant summaries, the leaderboard and the most visited pages."

    def add_arguments(self, parser):
        parser.add_argument("--no-pages", action="store_true", help="only summaries and the leaderboard")

    def handle(self, *args, no_pages=False, **options):
        report = warming.warm(pages=not no_pages)
        self.stdout.write(
            self.style.SUCCESS(
                f"Warmed {report.summaries} summaries and {report.pages} pages in {report.seconds:.1f} s"
            )
        )
