"""``export_table``: every item of the table, exactly, as DynamoDB's typed JSON.

Items are read with a raw Scan and written without passing through Python
values (``restaurants.dynamo.typed_json``), so binary attributes, sets,
numbers of 38 digits and empty strings come back from ``import_table`` as
they were. The file is replaced only once the export is complete.
"""

import json
import os
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand

from restaurants.dynamo.bulk import is_derived_typed_item
from restaurants.dynamo.schema import scan_typed_items
from restaurants.dynamo.typed_json import item_to_json

from ._progress import Progress

# Characters that str.splitlines() and other readers take for line ends: JSON
# escapes the ASCII controls itself, these three are escaped here, so one item
# is one line for every reader while the rest of the text stays readable.
_LINE_BREAKS_JSON_KEEPS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _json_line(document: dict) -> str:
    text = json.dumps(document, ensure_ascii=False, sort_keys=True)
    for character, escaped in _LINE_BREAKS_JSON_KEEPS.items():
        text = text.replace(character, escaped)
    return text + "\n"


class Command(BaseCommand):
    help = (
        "Back up every item of the table to a JSON-lines file in DynamoDB's typed JSON "
        '({"Item": {"PK": {"S": ...}}}, as the AWS CLI and S3 exports write it), read back by import_table.'
    )

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
                for item in scan_typed_items():
                    progress.update(1)
                    if is_derived_typed_item(item):
                        continue
                    handle.write(_json_line(item_to_json(item)))
                    count += 1
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self.stdout.write(self.style.SUCCESS(f"Exported {count} items to {path}"))
