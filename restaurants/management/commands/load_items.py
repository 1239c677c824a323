from django.core.management.base import BaseCommand

from restaurants.dynamo.bulk import write_items

from ._jsonlines import count_lines, read_items
from ._progress import Progress


class Command(BaseCommand):
    help = "Load items in the AWS lab's JSON-lines format (e.g. items.json) with batch writes."

    def add_arguments(self, parser):
        parser.add_argument("path", help="a file with one JSON item per line")

    def handle(self, *args, path, **options):
        progress = Progress(total=count_lines(path), verbosity=options["verbosity"])
        written = write_items(read_items(path), on_batch=progress.update)
        self.stdout.write(self.style.SUCCESS(f"Loaded {written} items from {path}"))
