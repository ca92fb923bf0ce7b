"""HubSpot property values, sent as text, in the type the properties endpoint declares for each.

`GET /crm/v3/properties/<object>` gives every property's `type`: `number` becomes a double,
`datetime` a UTC timestamp, `date` a date, `bool` a boolean; every other type (`string`,
`enumeration`, `phone_number`, ...) stays text. A double, not a decimal: HubSpot declares no
precision or scale, so a decimal would have to guess a scale and round or refuse what lies past
it; a value a double cannot hold as written (more than 15 to 17 significant digits) is refused
instead of rounded. A value that does not read as its declared type is never changed: `parse`
raises, and the sync fails naming the property (the table's `text_properties` keeps it text).
An empty value is no value (NULL) for the typed kinds.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from warehouse_sources.sources.rest.spec import FieldType

TYPES: dict[str, FieldType] = {"number": "number", "datetime": "iso_timestamp", "date": "date", "bool": "boolean"}
HUBSPOT_NAMES = {kind: name for name, kind in TYPES.items()}  # for messages: the type as HubSpot names it
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def field_type(hubspot_type: Any) -> FieldType:
    """The column type of a property of HubSpot type `hubspot_type` (text for the types not typed)."""
    return TYPES.get(str(hubspot_type), "string")


def parse(kind: FieldType, value: Any) -> Any:
    """`value` as `kind` wants it (a float, a bool, a date, ISO 8601 UTC text); ValueError when it is not one."""
    if value is None or kind == "string":
        return value
    if not isinstance(value, str):
        raise ValueError("not text")
    text = value.strip()
    if not text:
        return None
    if kind == "number":
        return _number(text)
    if kind == "boolean":
        if text.lower() not in ("true", "false"):
            raise ValueError("not true or false")
        return text.lower() == "true"
    if kind == "iso_timestamp":
        return _instant(text).isoformat()
    if kind == "date":
        return _date(text)
    raise ValueError(f"no parser for {kind}")


def _number(text: str) -> float:
    try:
        exact = Decimal(text)
    except InvalidOperation:
        raise ValueError("not a number") from None
    number = float(exact)
    if not exact.is_finite() or Decimal(repr(number)) != exact:
        raise ValueError("a double cannot hold it as written: too many digits, out of range or not finite")
    return number


def _instant(text: str) -> datetime:
    """ISO 8601 with a UTC offset, or epoch milliseconds (the form HubSpot accepts on writes)."""
    if text.isdigit():
        return EPOCH + timedelta(milliseconds=int(text))
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("not an ISO 8601 date-time") from None
    if at.tzinfo is None:
        raise ValueError("a date-time without a UTC offset")
    return at.astimezone(UTC)


def _date(text: str) -> date:
    """`YYYY-MM-DD`, or midnight UTC as a date-time or epoch milliseconds (how HubSpot stores dates)."""
    if len(text) == 10 and not text.isdigit():
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ValueError("not a YYYY-MM-DD date") from None
    at = _instant(text)
    if at.timetz() != time(tzinfo=UTC):
        raise ValueError("a date-time that is not midnight UTC, so not a date")
    return at.date()
