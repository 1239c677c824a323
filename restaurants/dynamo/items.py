"""Conversion between DynamoDB's typed attribute maps and plain Python values.

Numbers come back from DynamoDB as ``Decimal``; every counter and rating we
store is whole, so they are turned into ``int`` here, at the boundary.
"""

from decimal import Decimal

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_python(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: to_python(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_python(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(to_python(v) for v in value)
    return value


def from_python(value):
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: from_python(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_python(v) for v in value]
    return value


def deserialize(item: dict) -> dict:
    return {name: to_python(_deserializer.deserialize(value)) for name, value in item.items()}


def serialize(item: dict) -> dict:
    return {name: _serializer.serialize(from_python(value)) for name, value in item.items()}


def serialize_value(value) -> dict:
    return _serializer.serialize(from_python(value))
