"""``load_items`` (and ``import_table``): put a JSON-lines file into the table.

The whole file is read and checked before the first write. By default a file
with any line that cannot be written stops with every such line's reason and
a non-zero exit, having written nothing: a load is meant to reproduce its
file, so a table quietly missing some items (a restaurant without its reviews,
or reviews without their restaurant) would be worse than no load, and the
operator can fix the lines or choose. ``--skip-invalid`` is that choice: the
other items are written and the skipped lines are listed and counted.
"""

from django.core.management.base import BaseCommand, CommandError

from restaurants.dynamo.bulk import write_typed_items

from ._jsonlines import read_lines
from ._progress import Progress

SHOWN_PROBLEMS = 50


class Command(BaseCommand):
    help = (
        "Load items from a JSON-lines file: the AWS lab's items.json (plain JSON) or a backup written by "
        "export_table (DynamoDB's typed JSON). Every line is checked first; by default nothing is written "
        "if one cannot be."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="a file with one JSON item per line")
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="write the items that can be written and list the lines skipped, instead of writing nothing",
        )

    def handle(self, *args, path, skip_invalid, **options):
        total, problems = 0, []
        for line in read_lines(path):
            total += 1
            if line.problem:
                problems.append(f"line {line.number}: {line.problem}")
        if problems and not skip_invalid:
            raise CommandError(
                f"{path}: {len(problems)} of {total} lines cannot be written, so nothing was written.\n"
                + _listed(problems)
                + f"\nFix them, or run again with --skip-invalid to write the other {total - len(problems)}."
            )
        progress = Progress(total=total - len(problems), verbosity=options["verbosity"])
        valid = (line.item for line in read_lines(path) if line.problem is None)
        written = write_typed_items(valid, on_batch=progress.update)
        if problems:
            self.stderr.write(f"Skipped {len(problems)} lines of {path} that cannot be written:\n{_listed(problems)}")
        skipped = f"; skipped {len(problems)} invalid lines" if problems else ""
        self.stdout.write(self.style.SUCCESS(f"Loaded {written} items from {path}{skipped}"))


def _listed(problems: list[str]) -> str:
    shown = "\n".join(f"  {problem}" for problem in problems[:SHOWN_PROBLEMS])
    hidden = len(problems) - SHOWN_PROBLEMS
    return shown + (f"\n  ... and {hidden} more" if hidden > 0 else "")
