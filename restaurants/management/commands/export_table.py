import json
import os
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand

from restaurants.dynamo.bulk import is_derived_item
from restaurants.dynamo.schema import scan_items

from ._progress import Progress


class Command(BaseCommand):
    help = "Back up every item of the table to a JSON-lines file (read back by import_table)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="the file to write; replaced only once the export is complete")

    def handle(self, *args, path, **options):
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        count = 0
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                progress = Progress(total=None, verbosity=options["verbosity"])
                for item in scan_items():
                    progress.update(1)
                    if is_derived_item(item):
                        continue
                    handle.write(json.dumps(item, ensure_ascii=False, sort_keys=True) + "\n")
                    count += 1
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self.stdout.write(self.style.SUCCESS(f"Exported {count} items to {path}"))
