"""Count rows as they stream to the writer and log progress while a long sync runs."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pyarrow as pa

LOG_EVERY_SECONDS = 5.0


class Log(Protocol):
    """What the engine logs through: a stdlib logger or an Airflow task's `self.log`."""

    def info(self, msg: Any, /, *args: Any) -> Any: ...

    def warning(self, msg: Any, /, *args: Any) -> Any: ...


@dataclass(frozen=True)
class SyncHooks:
    """Points where a test can act on a running sync (fault injection, kill trials).

    `after_batch(rows_so_far)` runs after each batch is read; `before_commit()` after the last
    batch was handed to the writer and before the writer commits.
    """

    after_batch: Callable[[int], None] | None = None
    before_commit: Callable[[], None] | None = None


class ProgressStream:
    """Wraps a batch stream: counts rows and batches, logs rows/s, runs the test hooks."""

    def __init__(self, data: pa.RecordBatchReader, log: Log, label: str, hooks: SyncHooks | None = None) -> None:
        self.rows = 0
        self.batches = 0
        self.error: BaseException | None = None
        self.started = time.monotonic()
        self._data, self._log, self._label = data, log, label
        self._hooks = hooks or SyncHooks()
        self._last_log = self.started

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    def reader(self) -> pa.RecordBatchReader:
        import pyarrow as pa

        return pa.RecordBatchReader.from_batches(self._data.schema, self._batches())

    def _batches(self) -> Iterator[pa.RecordBatch]:
        try:
            yield from self._counted()
        except BaseException as exc:
            # The writer wraps whatever the stream raises in its own error; keep the original.
            self.error = exc
            raise

    def _counted(self) -> Iterator[pa.RecordBatch]:
        for batch in self._data:
            self.rows += batch.num_rows
            self.batches += 1
            now = time.monotonic()
            if now - self._last_log >= LOG_EVERY_SECONDS:
                self._last_log = now
                self._log.info(
                    "%s: %s rows read, %d batches, %s rows/s",
                    self._label,
                    f"{self.rows:,}",
                    self.batches,
                    f"{self.rate():,.0f}",
                )
            if self._hooks.after_batch is not None:
                self._hooks.after_batch(self.rows)
            yield batch
        if self._hooks.before_commit is not None:
            self._hooks.before_commit()

    def rate(self) -> float:
        return self.rows / max(self.seconds, 1e-9)
