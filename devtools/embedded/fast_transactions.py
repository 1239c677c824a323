"""Make moto's TransactWriteItems cost O(items touched), not O(table size).

moto 5.2.5 makes every TransactWriteItems ``copy.deepcopy`` each table it
names, so that it can swap the copy back in if an action fails. On a 20k-item
table that is ~840 ms per review post, which makes local pages unusably slow.

This patch replaces the method with the same algorithm and an item-level undo
log instead: before each action runs, the current version of the one item it
targets is copied; on failure only those items are put back. Errors are those
of moto (``TransactionCanceledException`` with one reason per action,
``ConditionalCheckFailed``, validation errors re-raised as is).

Known deviations from the deepcopy version, both harmless for us:

* a rolled-back Delete re-inserts the item at the end of the table's dict, so
  a later Scan may return it in a different position;
* the ``Table`` object is kept rather than replaced by its copy.

Stream records written by a rolled-back transaction are dropped, as before.

The replacement copies moto's code, so it is only safe for the exact version
it was written against: ``install()`` refuses any other version.
"""

import copy
import importlib.metadata
from typing import Any

SUPPORTED_MOTO_VERSION = "5.2.5"

_installed = False
_original_transact_write_items = None


class UnsupportedMotoVersion(RuntimeError):
    """The moto in this environment is not the one the patch was checked against."""


def moto_version() -> str:
    return importlib.metadata.version("moto")


def install() -> None:
    """Swap in the fast TransactWriteItems (idempotent)."""
    global _installed, _original_transact_write_items
    if _installed:
        return
    version = moto_version()
    if version != SUPPORTED_MOTO_VERSION:
        raise UnsupportedMotoVersion(
            f"devtools.embedded.fast_transactions copies moto {SUPPORTED_MOTO_VERSION}'s "
            f"transact_write_items, but moto {version} is installed. Re-read moto's "
            "DynamoDBBackend.transact_write_items and update the patch (and SUPPORTED_MOTO_VERSION)."
        )
    from moto.dynamodb.models import DynamoDBBackend

    _original_transact_write_items = DynamoDBBackend.transact_write_items
    DynamoDBBackend.transact_write_items = _transact_write_items
    _installed = True


def uninstall() -> None:
    """Restore moto's own implementation (the benchmark compares both)."""
    global _installed
    if not _installed:
        return
    from moto.dynamodb.models import DynamoDBBackend

    DynamoDBBackend.transact_write_items = _original_transact_write_items
    _installed = False


def is_installed() -> bool:
    from moto.dynamodb.models import DynamoDBBackend

    return _installed and DynamoDBBackend.transact_write_items is _transact_write_items


class _UndoLog:
    """The pre-transaction version of every item a transaction touches."""

    def __init__(self) -> None:
        # (table, hash, range) -> deep copy of the item, or None if absent.
        # Update mutates Items in place, hence the copy.
        self._saved: dict[tuple[int, Any, Any], tuple[Any, Any, Any, Any]] = {}
        self._stream_lengths: dict[int, tuple[Any, int]] = {}

    def remember(self, table: Any, hash_value: Any, range_value: Any) -> None:
        slot = (id(table), hash_value, range_value)
        if slot in self._saved:
            return
        current = table.get_item(hash_value, range_value)
        self._saved[slot] = (table, hash_value, range_value, copy.deepcopy(current))
        if table.stream_shard is not None and id(table) not in self._stream_lengths:
            self._stream_lengths[id(table)] = (table, len(table.stream_shard.items))

    def rollback(self) -> None:
        for table, hash_value, range_value, original in self._saved.values():
            if range_value is not None:
                bucket = table.items[hash_value]
                if original is None:
                    bucket.pop(range_value, None)
                    if not bucket:
                        table.items.pop(hash_value, None)
                else:
                    bucket[range_value] = original
            elif original is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = original
        for table, length in self._stream_lengths.values():
            if table.stream_shard is not None and len(table.stream_shard.items) > length:
                del table.stream_shard.items[length:]


def _transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    """moto 5.2.5's DynamoDBBackend.transact_write_items with an undo log.

    Kept line-for-line close to the original so a diff against a new moto
    release is easy to read; only the backup/rollback lines differ.
    """
    from moto.dynamodb import models as m

    if len(transact_items) > 100:
        raise m.TooManyTransactionsException()
    undo = _UndoLog()

    target_items: set[tuple[str, str]] = set()

    def check_unicity(table_name: str, key: dict[str, Any]) -> None:
        item = (str(table_name), str(dict(sorted(key.items()))))
        if item in target_items:
            raise m.MultipleTransactionsException()
        target_items.add(item)

    errors: list[tuple[str, str, dict[str, Any]] | tuple[None, None, None]] = []
    for item in transact_items:
        original_item: dict[str, Any] | None = None
        if len(list(item.keys())) > 1:
            raise m.TransactWriteSingleOpException

        try:
            op_type, op = next(iter(item.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")

            table_name = op["TableName"]
            condition_expression = op.get("ConditionExpression")
            expression_attribute_names = op.get("ExpressionAttributeNames")
            expression_attribute_values = op.get("ExpressionAttributeValues")
            return_values_on_condition_check_failure = op.get("ReturnValuesOnConditionCheckFailure")

            if op_type == "Put":
                attrs = op["Item"]
                table = self.get_table(table_name)
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]

            check_unicity(table_name, key)

            current = self.get_item(table_name, key)
            if condition_expression is not None:
                condition_op = m.get_filter_expression(
                    condition_expression,
                    expression_attribute_names,
                    expression_attribute_values,
                )
                if not condition_op.expr(current):
                    if return_values_on_condition_check_failure == "ALL_OLD" and current:
                        original_item = current.to_json()["Attributes"]
                    raise m.ConditionalCheckFailed(item=original_item)

            if op_type != "ConditionCheck":
                # The only change from moto: back up this item, not the table.
                table = self.get_table(table_name)
                undo.remember(table, *self.get_keys_value(table, key))

            if op_type == "Put":
                attrs = op["Item"]
                self.put_item(
                    table_name,
                    attrs,
                    condition_expression=condition_expression,
                    expression_attribute_names=expression_attribute_names,
                    expression_attribute_values=expression_attribute_values,
                )
            elif op_type == "Delete":
                self.delete_item(
                    table_name,
                    key,
                    condition_expression=condition_expression,
                    expression_attribute_names=expression_attribute_names,
                    expression_attribute_values=expression_attribute_values,
                )
            elif op_type == "Update":
                update_expression = op["UpdateExpression"]
                self.update_item(
                    table_name,
                    key,
                    update_expression=update_expression,
                    condition_expression=condition_expression,
                    expression_attribute_names=expression_attribute_names,
                    expression_attribute_values=expression_attribute_values,
                )
            errors.append((None, None, None))
        except (m.MultipleTransactionsException, m.MockValidationException):
            undo.rollback()
            raise
        except m.ConditionalCheckFailed as e:
            errors.append(("ConditionalCheckFailed", str(e.message), original_item))  # type: ignore[arg-type]
        except Exception as e:  # noqa: BLE001 - moto reports any failure as a cancellation reason
            errors.append((type(e).__name__, str(e), original_item))  # type: ignore[arg-type]

    if any(code is not None for code, _, _ in errors):
        undo.rollback()
        raise m.TransactionCanceledException(errors)
