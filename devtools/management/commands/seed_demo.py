from django.core.management.base import BaseCommand, CommandError

from devtools.demo import demo_items
from restaurants.dynamo.bulk import write_items
from restaurants.management.commands._progress import Progress


class Command(BaseCommand):
    help = "Write the deterministic demo data set: restaurants, users and reviews with matching counters."

    def add_arguments(self, parser):
        parser.add_argument("--restaurants", type=int, default=240)
        parser.add_argument("--users", type=int, default=2000)
        parser.add_argument("--reviews-per-user", type=int, default=10)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, **options):
        if options["reviews_per_user"] > options["restaurants"]:
            raise CommandError("Each user reviews a restaurant once: ask for fewer reviews per user than restaurants.")
        items = demo_items(
            restaurants=options["restaurants"],
            users=options["users"],
            reviews_per_user=options["reviews_per_user"],
            seed=options["seed"],
        )
        total = options["restaurants"] + options["users"] * (1 + options["reviews_per_user"])
        progress = Progress(total=total, verbosity=options["verbosity"])
        written = write_items(items, on_batch=progress.update)
        self.stdout.write(self.style.SUCCESS(f"Wrote {written} demo items"))
