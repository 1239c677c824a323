"""Reading and writing items as JSON lines, the lab's items.json format."""

import json
from collections.abc import Iterator
from pathlib import Path

from django.core.management.base import CommandError


def read_items(path: str) -> Iterator[dict]:
    try:
        handle = Path(path).open(encoding="utf-8")
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror}") from error
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as error:
                raise CommandError(f"{path}, line {number}: not valid JSON ({error.msg}).") from error
            if not isinstance(item, dict) or not item.get("PK") or not item.get("SK"):
                raise CommandError(f"{path}, line {number}: an item needs string PK and SK attributes.")
            yield item


def count_lines(path: str) -> int:
    try:
        with Path(path).open(encoding="utf-8") as handle:
            return sum(1 for line in handle if line.strip())
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror}") from error
