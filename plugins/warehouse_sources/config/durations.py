"""Parsing of the short durations the YAML uses (`30m`, `6h`, `7d`)."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_DURATION = re.compile(r"^(\d+)([smhd])$")

SCHEDULE_SHORTHANDS = ("5m", "30m", "1h", "6h", "12h", "24h", "7d", "30d")


def parse_duration(text: str) -> timedelta:
    """`"10m"` -> timedelta(minutes=10); raises ValueError naming the accepted form."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a duration; write a number and a unit s, m, h or d, like '10m'")
    try:
        return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    except OverflowError:
        raise ValueError(f"{text!r} is too long a duration; at most {timedelta.max.days} days") from None
