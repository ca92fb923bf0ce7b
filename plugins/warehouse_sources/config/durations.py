"""Parsing of the short durations the YAML uses (`30m`, `6h`, `7d`) and the lookback bounds."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_DURATION = re.compile(r"^(\d+)([smhd])$")

SCHEDULE_SHORTHANDS = ("5m", "30m", "1h", "6h", "12h", "24h", "7d", "30d")

# A lookback wider than this is a typo, and cursor - lookback must stay far from the limits of
# timestamps (year 1) and 64-bit integers, or every run after the first would overflow.
MAX_LOOKBACK = timedelta(days=3650)
MAX_LOOKBACK_INTEGER = 2**62


def parse_duration(text: str) -> timedelta:
    """`"10m"` -> timedelta(minutes=10); raises ValueError naming the accepted form."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a duration; write a number and a unit s, m, h or d, like '10m'")
    try:
        return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    except OverflowError:
        raise ValueError(f"{text!r} is too long a duration; at most {timedelta.max.days} days") from None


def parse_retention(text: str) -> timedelta:
    """The `retention` setting (`7d`, `1h`, `0m`): how far back time travel reaches."""
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise ValueError(
            f"[warehouse_sources] retention (AIRFLOW__WAREHOUSE_SOURCES__RETENTION): {exc}; "
            "'0m' keeps only the current version's files, the default '7d' a week of versions"
        ) from None


def parse_lookback(value: str | int) -> timedelta | int:
    """A lookback as the engine uses it: a bounded timedelta (time keys) or int (integer keys)."""
    if isinstance(value, int):
        if value < 0:
            raise ValueError("must not be negative")
        if value > MAX_LOOKBACK_INTEGER:
            raise ValueError(f"{value} is too large a lookback; at most 2**62 ({MAX_LOOKBACK_INTEGER}) key values")
        return value
    window = parse_duration(value)
    if window > MAX_LOOKBACK:
        raise ValueError(
            f"{value!r} is too long a lookback; at most {MAX_LOOKBACK.days} days ('{MAX_LOOKBACK.days}d'). "
            "A lookback re-reads that window every run: a few minutes to hours covers late commits"
        )
    return window
