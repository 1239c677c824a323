"""Make moto's Query-on-an-index and Scan cheap enough for local pages.

moto 5.2.5 answers both by sorting the whole table (``Table.all_items``) with
``DynamoType`` comparisons, each of which converts both values again: about
0.5 s per request on the 22k-item demo table. The replacement sorts by the
same values, converted once per item, so the order is exactly moto's (its
``__lt__`` compares ``cast_value``) at a fraction of the cost.

Like ``fast_transactions``, it is tied to the moto version it was checked
against and refuses any other.
"""

from .fast_transactions import SUPPORTED_MOTO_VERSION, UnsupportedMotoVersion, moto_version

_original_all_items = None


def _sort_key(item):
    if item.range_key:
        return (item.hash_key.cast_value, item.range_key.cast_value)
    return item.hash_key.cast_value


def _all_items(self) -> list:
    items = []
    for hash_set in self.items.values():
        if self.range_key_attr:
            items.extend(hash_set.values())
        else:
            items.append(hash_set)
    return sorted(items, key=_sort_key)


def install() -> None:
    """Swap in the fast ``Table.all_items`` (idempotent)."""
    global _original_all_items
    if _original_all_items is not None:
        return
    version = moto_version()
    if version != SUPPORTED_MOTO_VERSION:
        raise UnsupportedMotoVersion(
            f"devtools.embedded.fast_scans copies moto {SUPPORTED_MOTO_VERSION}'s Table.all_items, "
            f"but moto {version} is installed: re-read it and update the patch."
        )
    from moto.dynamodb.models.table import Table

    _original_all_items = Table.all_items
    Table.all_items = _all_items


def original_all_items():
    """moto's own implementation (for the test that compares both)."""
    from moto.dynamodb.models.table import Table

    return _original_all_items or Table.all_items
