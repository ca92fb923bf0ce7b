"""pyarrow's S3 client as the filesystem DuckDB opens s3:// paths with.

DuckDB's own httpfs extension is downloaded at run time, which a machine reaching only package
registries cannot do; pyarrow ships its S3 client in the wheel.
"""

from __future__ import annotations

from typing import Any

from warehouse_sources.sources.bucket.listing import FileEntry, Location


def duckdb_s3(location: Location) -> Any:
    """pyarrow's S3 filesystem as an fsspec filesystem DuckDB can open s3:// paths with.

    The listing already gave each file's size: DuckDB's per-file existence and size checks are
    answered from it instead of a HEAD request each.
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

    files = S3Files(location.fs)
    files.known = {}
    return files
