"""The `reliability` fixture: tests add the rows RELIABILITY.md is written from (report.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.reliability.report import REPORT_ROWS, ReliabilityReport


@pytest.fixture(scope="session")
def reliability() -> Iterator[ReliabilityReport]:
    yield REPORT_ROWS
