"""pyarrow's S3 client as the filesystem DuckDB opens s3:// paths with.

DuckDB's own httpfs extension is downloaded at run time, which a machine reaching only package
registries cannot do; pyarrow ships its S3 client in the wheel.
"""

from __future__ import annotations

import io
import threading
from typing import Any

from warehouse_sources.sources.bucket.listing import FileEntry, Location


def duckdb_s3(location: Location) -> Any:
    """pyarrow's S3 filesystem as an fsspec filesystem DuckDB can open s3:// paths with.

    The listing already gave each file's size: DuckDB's per-file existence and size checks are
    answered from it instead of a HEAD request each. Files open as `PositionalFile`s, which
    several DuckDB threads may read at once.
    """
    from fsspec.implementations.arrow import ArrowFSWrapper
    from pyarrow import fs

    class S3Files(ArrowFSWrapper):
        protocol = "s3"
        known: dict[str, fs.FileInfo]

        def remember(self, location: Location, entries: list[FileEntry]) -> None:
            for e in entries:
                path = location.path(e.rel)
                self.known[path] = fs.FileInfo(path, fs.FileType.File, size=e.size, mtime_ns=e.mtime_ns)

        def glob(self, path: str, **kwargs: Any) -> Any:
            stripped = self._strip_protocol(path)
            return [stripped] if stripped in self.known else super().glob(path, **kwargs)

        def info(self, path: str, **kwargs: Any) -> Any:
            known = self.known.get(self._strip_protocol(path))
            return self._make_entry(known) if known is not None else super().info(path, **kwargs)

        def _open(self, path: str, mode: str = "rb", *args: Any, **kwargs: Any) -> Any:
            if mode != "rb":
                return super()._open(path, mode, *args, **kwargs)
            return PositionalFile(self.fs.open_input_file(self._strip_protocol(path)), path)

    files = S3Files(location.fs)
    files.known = {}
    return files


class PositionalFile(io.RawIOBase):
    """A pyarrow input file that several threads read at once, each at its own position.

    DuckDB's Python filesystem reads at an offset as two calls, `seek` then `read`, and its CSV
    and JSON scanners share one handle between threads: with one position per file, another
    thread's seek lands between the two and the read returns bytes from elsewhere in the file
    (seen as rows cut short or merged, and short reads). Here each thread keeps its own position
    and every read is pyarrow's positional `read_at`, which moves no shared state.
    """

    def __init__(self, raw: Any, path: str) -> None:
        super().__init__()
        self._raw = raw
        self._size = int(raw.size())
        self._position = threading.local()
        self.name = path

    def _tell(self) -> int:
        return int(getattr(self._position, "at", 0))

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._tell()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._tell(), io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError(f"negative seek position {base + offset}")
        self._position.at = base + offset
        return self._position.at

    def read(self, size: int | None = -1) -> bytes:
        at = self._tell()
        wanted = self._size - at if size is None or size < 0 else min(size, self._size - at)
        if wanted <= 0:
            return b""
        data = bytes(self._raw.read_at(wanted, at))
        self._position.at = at + len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    @property
    def size(self) -> int:
        return self._size

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()
