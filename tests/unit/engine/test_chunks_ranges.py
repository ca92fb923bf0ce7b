"""Key ranges of a chunked full load (engine/chunk_ranges.py): equal widths, every key in one range."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from warehouse_sources.engine.chunk_ranges import auto_parts, boundaries, range_conditions


def test_integer_keys_split_into_equal_widths() -> None:
    assert boundaries(1, 100, 4) == [26, 51, 76]
    assert boundaries(-10, 9, 2) == [0]


def test_a_range_with_fewer_keys_than_parts_gets_one_range_per_key() -> None:
    assert boundaries(5, 7, 8) == [6, 7]
    assert boundaries(5, 5, 4) == []


def test_timestamps_split_to_the_microsecond() -> None:
    low = datetime(2026, 1, 1, tzinfo=UTC)
    found = boundaries(low, low + timedelta(hours=3, microseconds=-1), 3)
    assert found == [low + timedelta(hours=1), low + timedelta(hours=2)]


def test_dates_split_by_whole_days() -> None:
    assert boundaries(date(2026, 1, 1), date(2026, 1, 10), 2) == [date(2026, 1, 6)]
    assert boundaries(date(2026, 1, 1), date(2026, 1, 1), 3) == []


def test_other_keys_are_refused() -> None:
    with pytest.raises(TypeError, match="integer, date or timestamp"):
        boundaries("a", "z", 2)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        boundaries(True, 9, 2)


def test_the_conditions_cover_below_the_first_start_nulls_and_above_the_last() -> None:
    assert range_conditions('"id"', ["10", "20"]) == [
        'NOT COALESCE("id" >= 10, FALSE)',
        '"id" >= 10 AND "id" < 20',
        '"id" >= 20',
    ]
    assert range_conditions('"id"', []) == [""]


def test_every_integer_key_falls_in_exactly_one_range() -> None:
    starts = boundaries(3, 1000, 7)
    edges = [None, *starts, None]
    for key in [-5, 3, *starts, 999, 1000, 5000]:
        above = [edges[i] is None or key >= edges[i] for i in range(len(edges) - 1)]
        below = [edges[i + 1] is None or key < edges[i + 1] for i in range(len(edges) - 1)]
        holding = [i for i, (a, b) in enumerate(zip(above, below, strict=True)) if a and b]
        assert len(holding) == 1, key


def test_auto_splits_one_range_per_share_of_the_estimate() -> None:
    assert auto_parts(None, 1000, 8) == 1
    assert auto_parts(-1, 1000, 8) == 1  # PostgreSQL's "never analyzed"
    assert auto_parts(1999, 1000, 8) == 1
    assert auto_parts(4500, 1000, 8) == 4
    assert auto_parts(10**9, 1000, 8) == 8
