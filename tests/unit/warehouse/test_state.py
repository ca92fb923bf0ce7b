"""Sync state: JSON round trip of the cursor, the lookback window, row identities."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from warehouse_sources.warehouse.state import (
    STATE_VERSION,
    CursorValue,
    SyncState,
    as_utc,
    decode_cursor,
    dump_state,
    encode_cursor,
    load_state,
    lower_bound,
    row_identity,
)

PLUS_TWO = timezone(timedelta(hours=2))


def roundtrip(state: SyncState) -> SyncState:
    return load_state(dump_state(state))


def test_int_cursor_round_trip_keeps_every_field() -> None:
    state = SyncState(
        method="append_only",
        replication_key="id",
        key_kind="int",
        cursor=2**62,
        identity_columns=("id",),
        null_keys=3,
        synced_at="2024-05-01T00:00:00+00:00",
        run_id="manual__1",
        extra={"rows": 10},
    )
    assert roundtrip(state) == state


def test_date_cursor_round_trip() -> None:
    state = SyncState(method="incremental", replication_key="day", key_kind="date", cursor=date(2024, 2, 29))
    loaded = roundtrip(state)
    assert loaded.cursor == date(2024, 2, 29)
    assert type(loaded.cursor) is date


def test_aware_timestamp_cursor_round_trips_as_the_same_instant_in_utc() -> None:
    cursor = datetime(2024, 5, 1, 12, 30, 45, 123456, tzinfo=PLUS_TWO)
    loaded = roundtrip(SyncState(method="incremental", key_kind="timestamp", cursor=cursor))
    assert loaded.cursor == cursor
    assert isinstance(loaded.cursor, datetime)
    assert loaded.cursor.utcoffset() == timedelta(0)
    assert loaded.cursor.replace(tzinfo=None) == datetime(2024, 5, 1, 10, 30, 45, 123456)


def test_naive_timestamp_cursor_is_taken_as_utc() -> None:
    loaded = roundtrip(SyncState(method="incremental", key_kind="timestamp", cursor=datetime(2024, 5, 1, 12, 0, 0, 7)))
    assert loaded.cursor == datetime(2024, 5, 1, 12, 0, 0, 7, tzinfo=UTC)


def test_no_cursor_round_trip() -> None:
    state = SyncState(method="full_table")
    assert roundtrip(state) == state
    assert roundtrip(state).cursor is None


def test_dump_is_compact_versioned_json() -> None:
    data = json.loads(dump_state(SyncState(method="append_only", key_kind="int", cursor=5, identity_columns=("a",))))
    assert data["v"] == STATE_VERSION
    assert data["cursor"] == 5
    assert data["identity_columns"] == ["a"]


def test_a_version_1_state_with_boundary_identities_still_loads() -> None:
    # Version 1 listed the boundary rows' hashes; they are read back from the table now.
    text = json.dumps({"v": 1, "method": "append_only", "key_kind": "int", "cursor": 9, "boundary": ["ab"]})
    assert load_state(text) == SyncState(method="append_only", key_kind="int", cursor=9)


def test_load_ignores_unknown_fields_and_fills_defaults() -> None:
    text = json.dumps({"v": 1, "method": "append_only", "key_kind": "int", "cursor": 9, "future_field": True})
    state = load_state(text)
    assert state == SyncState(method="append_only", key_kind="int", cursor=9)


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (None, None),
        (42, 42),
        (date(2024, 1, 2), "2024-01-02"),
        (datetime(2024, 1, 2, 3, 4, 5), "2024-01-02T03:04:05+00:00"),
        (datetime(2024, 1, 2, 3, 4, 5, tzinfo=PLUS_TWO), "2024-01-02T01:04:05+00:00"),
    ],
)
def test_encode_cursor(value: CursorValue | None, encoded: object) -> None:
    assert encode_cursor(value) == encoded


def test_decode_cursor_without_kind_is_none() -> None:
    assert decode_cursor(None, 5) is None
    assert decode_cursor("int", None) is None
    assert decode_cursor("int", "7") == 7


def test_as_utc() -> None:
    assert as_utc(datetime(2024, 1, 1, 12)) == datetime(2024, 1, 1, 12, tzinfo=UTC)
    converted = as_utc(datetime(2024, 1, 1, 12, tzinfo=PLUS_TWO))
    assert converted.tzinfo == UTC and converted.hour == 10


# --- lower_bound -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cursor", [100, date(2024, 3, 1), datetime(2024, 3, 1, 12, tzinfo=UTC)], ids=["int", "date", "timestamp"]
)
def test_no_lookback_keeps_the_cursor(cursor: CursorValue) -> None:
    assert lower_bound(cursor, None) == cursor
    assert lower_bound(cursor, 0) == cursor


def test_int_lookback() -> None:
    assert lower_bound(100, 10) == 90


def test_duration_lookback_on_timestamp() -> None:
    cursor = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
    assert lower_bound(cursor, timedelta(minutes=10)) == datetime(2024, 3, 1, 11, 50, tzinfo=UTC)


@pytest.mark.parametrize(
    ("lookback", "expected"),
    [
        (timedelta(minutes=10), date(2024, 2, 29)),
        (timedelta(days=1), date(2024, 2, 29)),
        (timedelta(hours=25), date(2024, 2, 28)),
        (timedelta(days=3), date(2024, 2, 27)),
    ],
)
def test_date_cursor_lookback_rounds_up_to_whole_days(lookback: timedelta, expected: date) -> None:
    result = lower_bound(date(2024, 3, 1), lookback)
    assert result == expected
    assert type(result) is date


def test_duration_lookback_on_an_int_key_is_refused() -> None:
    with pytest.raises(ValueError, match="duration but the replication key is an integer"):
        lower_bound(100, timedelta(minutes=10))


@pytest.mark.parametrize("cursor", [date(2024, 3, 1), datetime(2024, 3, 1, tzinfo=UTC)])
def test_number_lookback_on_a_time_key_is_refused(cursor: CursorValue) -> None:
    with pytest.raises(ValueError, match="number but the replication key is a date or timestamp"):
        lower_bound(cursor, 10)


# --- row_identity ----------------------------------------------------------------------------


def test_row_identity_is_stable_and_short() -> None:
    values = [1, "a", None, date(2024, 1, 1), Decimal("1.50"), b"\x00\x01"]
    first = row_identity(values)
    assert first == row_identity(list(values))
    assert len(first) == 20
    int(first, 16)


def test_row_identity_differs_for_different_rows() -> None:
    assert row_identity([1, "a"]) != row_identity([1, "b"])
    assert row_identity([1, "a"]) != row_identity(["a", 1])
    assert row_identity(["1"]) != row_identity([1])


def test_row_identity_treats_equal_instants_equally() -> None:
    naive = datetime(2024, 1, 1, 12)
    aware = datetime(2024, 1, 1, 14, tzinfo=PLUS_TWO)
    assert row_identity([naive]) == row_identity([aware])


def test_a_zero_lookback_leaves_a_date_cursor_where_it_is() -> None:
    assert lower_bound(date(2024, 3, 1), timedelta(0)) == date(2024, 3, 1)


def test_decimal_cursor_round_trips_exactly_and_takes_a_numeric_lookback() -> None:
    state = SyncState(method="incremental", key_kind="decimal", cursor=Decimal("10.50"))
    loaded = roundtrip(state)
    assert loaded.cursor == Decimal("10.50") and str(loaded.cursor) == "10.50"
    assert json.loads(dump_state(state))["cursor"] == "10.50"
    assert lower_bound(Decimal("10.50"), 2) == Decimal("8.50")
    with pytest.raises(ValueError, match="duration but the replication key is a number"):
        lower_bound(Decimal("10.50"), timedelta(minutes=1))
