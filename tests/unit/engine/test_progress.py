"""Progress while a sync streams (engine/progress.py): rows and batches counted, a rows/s line every
LOG_EVERY_SECONDS, the test hooks called in order, and the stream's own error kept."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from tests.plans import plan
from tests.unit.engine.fake_reader import FakeReader
from warehouse_sources.engine import progress
from warehouse_sources.engine.progress import ProgressStream, SyncHooks
from warehouse_sources.engine.sync import SyncRequest, sync_table

LOG = logging.getLogger("warehouse_sources.tests.engine")


def batches(*sizes: int) -> pa.RecordBatchReader:
    schema = pa.schema([("id", pa.int64())])
    made = [pa.record_batch([pa.array(range(n), pa.int64())], schema=schema) for n in sizes]
    return pa.RecordBatchReader.from_batches(schema, made)


def test_rows_and_batches_are_counted_and_the_hooks_see_the_running_total() -> None:
    calls: list[object] = []
    hooks = SyncHooks(after_batch=calls.append, before_commit=lambda: calls.append("commit"))
    stream = ProgressStream(batches(3, 0, 4), LOG, "label", hooks)
    assert sum(b.num_rows for b in stream.reader()) == 7
    assert (stream.rows, stream.batches) == (7, 3)
    assert calls == [3, 3, 7, "commit"]


def test_a_progress_line_is_logged_once_the_interval_passed(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(progress, "LOG_EVERY_SECONDS", 0.0)
    with caplog.at_level(logging.INFO):
        list(ProgressStream(batches(1500, 1000), LOG, "src.public.items -> items").reader())
    lines = [r.getMessage() for r in caplog.records]
    assert [line.split(" rows/s")[0].rsplit(", ", 1)[0] for line in lines] == [
        "src.public.items -> items: 1,500 rows read, 1 batches",
        "src.public.items -> items: 2,500 rows read, 2 batches",
    ]


def test_no_progress_line_before_the_interval(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        list(ProgressStream(batches(5, 5), LOG, "quick").reader())
    assert progress.LOG_EVERY_SECONDS >= 1 and caplog.records == []


def test_the_error_that_ended_the_stream_is_kept_for_the_writer() -> None:
    schema = pa.schema([("id", pa.int64())])

    def failing() -> Iterator[pa.RecordBatch]:
        yield pa.record_batch([pa.array([1], pa.int64())], schema=schema)
        raise ConnectionResetError("source closed the connection")

    stream = ProgressStream(pa.RecordBatchReader.from_batches(schema, failing()), LOG, "label")
    with pytest.raises(ConnectionResetError):
        list(stream.reader())
    assert isinstance(stream.error, ConnectionResetError) and stream.rows == 1


def test_a_sync_logs_what_it_reads_its_progress_and_the_rows_it_skips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(progress, "LOG_EVERY_SECONDS", 0.0)
    reader = FakeReader(pa.table({"id": [1, 2, 3], "n": [1, 2, 2]}), batch_rows=2)
    request = SyncRequest(plan("public.items", "append_only", replication_key="n"), str(tmp_path / "w"))
    sync_table(reader, request, LOG)
    reader.table = pa.table({"id": [1, 2, 3, 4], "n": [1, 2, 2, 3]})
    caplog.clear()
    with caplog.at_level(logging.INFO):
        sync_table(reader, request, LOG)
    text = caplog.text
    assert "src.public.items -> items: append read where n >= 2" in text
    assert "2 rows at the cursor value 2 are already synced; skipped" in text
    # Rows counted after the skip: the first batch (ids 2 and 3) holds none, the second id 4.
    assert "items: 0 rows read, 1 batches" in text and "items: 1 rows read, 2 batches" in text
