"""Count rows as they stream to the writer and log progress while a long sync runs."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pyarrow as pa

LOG_EVERY_SECONDS = 5.0


class Log(Protocol):
    """What the engine logs through: a stdlib logger or an Airflow task's `self.log`."""

    def info(self, msg: Any, /, *args: Any) -> Any: ...

    def warning(self, msg: Any, /, *args: Any) -> Any: ...


class ProgressStream:
    """Wraps a batch stream: counts rows and batches, logs rows/s, runs a hook at the end.

    `at_end` runs after the last batch was handed to the writer and before the writer
    commits: tests use it to inject a failure at exactly that point.
    """

    def __init__(
        self,
        data: pa.RecordBatchReader,
        log: Log,
        label: str,
        at_end: Callable[[], None] | None = None,
    ) -> None:
        self.rows = 0
        self.batches = 0
        self.error: BaseException | None = None
        self.started = time.monotonic()
        self._data, self._log, self._label, self._at_end = data, log, label, at_end
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
            yield batch
        if self._at_end is not None:
            self._at_end()

    def rate(self) -> float:
        return self.rows / max(self.seconds, 1e-9)
