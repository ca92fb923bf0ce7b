"""Files DuckDB reads from S3 through pyarrow: one handle, many threads, each read where its thread sought."""

from __future__ import annotations

import io
import random
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyarrow as pa

from warehouse_sources.sources.bucket.s3files import PositionalFile

DATA = random.Random(7).randbytes(1 << 20)


class SlowFile:
    """A pyarrow input file whose reads take a moment (as S3's do), letting other threads run meanwhile."""

    def __init__(self) -> None:
        self._file = pa.BufferReader(DATA)

    def size(self) -> int:
        return len(DATA)

    def read_at(self, nbytes: int, offset: int) -> bytes:
        time.sleep(0.0005)
        return bytes(self._file.read_at(nbytes, offset))

    def seek(self, offset: int, whence: int = 0) -> int:
        return int(self._file.seek(offset, whence))

    def read(self, nbytes: int) -> bytes:
        time.sleep(0.0005)
        return bytes(self._file.read(nbytes))

    def close(self) -> None:
        self._file.close()


def seek_and_read_from_threads(handle: Any) -> list[tuple[int, bytes]]:
    """What DuckDB's Python filesystem does from its scanner threads: seek, then read, on a shared handle."""
    offsets = random.Random(11).sample(range(len(DATA) - 4096), 400)

    def read_at(offset: int) -> tuple[int, bytes]:
        handle.seek(offset)
        return offset, handle.read(4096)

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(read_at, offsets))


def test_threads_sharing_a_handle_each_read_where_they_sought() -> None:
    reads = seek_and_read_from_threads(PositionalFile(SlowFile(), "s3://b/k"))
    assert all(data == DATA[offset : offset + 4096] for offset, data in reads)


def test_the_check_above_catches_a_handle_with_one_shared_position() -> None:
    class SharedPosition(io.RawIOBase):  # how the handle behaved before: seek and read on one stream
        def __init__(self) -> None:
            self.raw = SlowFile()

        def seek(self, offset: int, whence: int = 0) -> int:
            return self.raw.seek(offset, whence)

        def read(self, size: int = -1) -> bytes:
            return self.raw.read(size)

    reads = seek_and_read_from_threads(SharedPosition())
    assert any(data != DATA[offset : offset + 4096] for offset, data in reads)


def test_seek_tell_and_reads_past_the_end_behave_like_a_file() -> None:
    handle = PositionalFile(SlowFile(), "s3://b/k")
    assert handle.seek(-10, io.SEEK_END) == len(DATA) - 10
    assert handle.read(100) == DATA[-10:] and handle.read(5) == b"" and handle.tell() == len(DATA)
    handle.seek(3)
    assert handle.seek(4, io.SEEK_CUR) == 7 and handle.read(2) == DATA[7:9]
    buffer = bytearray(6)
    assert handle.readinto(buffer) == 6 and bytes(buffer) == DATA[9:15]
    assert handle.size == len(DATA)
    handle.close()
    assert handle.closed
