import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_attributes(values: dict[str, Any]) -> dict[str, Any]:
    """Python values to DynamoDB attribute values; None and empty sets are left out."""
    return {
        key: _serializer.serialize(value)
        for key, value in values.items()
        if value is not None and not (isinstance(value, set) and not value)
    }


def from_attributes(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _plain(_deserializer.deserialize(value)) for key, value in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, set):
        return {_plain(item) for item in value}
    return value


def to_json_text(data: dict[str, Any] | None) -> str | None:
    """A client's free-form map, kept as JSON text: DynamoDB has no floats and no empty keys."""
    return None if data is None else json.dumps(data, separators=(",", ":"))


def from_json_text(stored: Any) -> Any:
    """Reads what `to_json_text` wrote; a record from before it holds the map itself."""
    return json.loads(stored) if isinstance(stored, str) else stored


def value(python_value: Any) -> dict[str, Any]:
    return _serializer.serialize(python_value)


def one_of(name: str, allowed: Iterable[str], prefix: str) -> tuple[str, dict[str, Any]]:
    """A condition that the attribute `name` (an expression name such as `#status`) holds one of `allowed`,
    and the values it names (`:<prefix>0`, `:<prefix>1`, …)."""
    values = {f":{prefix}{n}": value(item) for n, item in enumerate(sorted(allowed))}
    return f"{name} IN ({', '.join(values)})", values
