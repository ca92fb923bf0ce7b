"""List the files a table's glob pattern matches under the source's url (a bucket prefix or a folder).

S3 listings are paginated by pyarrow's S3 client (ListObjectsV2, 1,000 keys a page), and only
the pattern's fixed leading folders are listed, so `invoices/2024-*/*.csv` never walks the rest
of the bucket. The object store's refusals become errors that name the url and the fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from warehouse_sources.errors import SourceConnectionError
from warehouse_sources.sources.bucket.errors import BucketAccessError
from warehouse_sources.warehouse.storage import NO_BUCKET_MARKS, REFUSED_MARKS, UNREACHABLE_MARKS, filesystem, redact

if TYPE_CHECKING:
    from pyarrow import fs

WILDCARDS = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class FileEntry:
    """One matched file: its path relative to the url (what the state keeps), size and change time."""

    rel: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Location:
    """The source's url opened as a pyarrow filesystem, with the root path inside it."""

    url: str
    fs: fs.FileSystem
    root: str
    storage_options: dict[str, str] | None

    @property
    def is_s3(self) -> bool:
        return not self.url.startswith("file://")

    def path(self, rel: str) -> str:
        """The filesystem path of a file given relative to the url."""
        return f"{self.root}/{rel}" if self.root else rel

    def duckdb_path(self, rel: str) -> str:
        """The path DuckDB opens: s3://... through the registered filesystem, or the local path."""
        return f"s3://{self.path(rel)}" if self.is_s3 else self.path(rel)


def open_location(url: str, storage_options: dict[str, str] | None) -> Location:
    """`url` as a filesystem: s3:// through pyarrow's S3 client (endpoint and keys from the options)."""
    s3_url = "s3://" + url.split("://", 1)[1] if url.startswith("s3a://") else url
    filesystem_, root = filesystem(s3_url, storage_options)
    return Location(s3_url, filesystem_, root.rstrip("/"), storage_options)


def glob_regex(pattern: str) -> re.Pattern[str]:
    """`*` and `?` stay within a folder, `**/` spans any number of folders, `[...]` is a class."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 1 :]:
            end = pattern.index("]", i + 1)
            body = pattern[i + 1 : end]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def fixed_prefix(pattern: str) -> str:
    """The leading folders of `pattern` that hold no wildcard (the only part worth listing)."""
    folders = pattern.split("/")[:-1]
    kept = []
    for folder in folders:
        if WILDCARDS.search(folder):
            break
        kept.append(folder)
    return "/".join(kept)


def compression_of(rel: str) -> str | None:
    """gzip or zstd by the file's suffix, in any case; None for a plain file."""
    lower = rel.lower()
    return "gzip" if lower.endswith(".gz") else "zstd" if lower.endswith((".zst", ".zstd")) else None


def list_matching(location: Location, pattern: str, source: str, table: str) -> list[FileEntry]:
    """Every file matching `pattern`, sorted by path; refused credentials, a missing bucket or
    folder fail for good, an unreachable endpoint is left for retries."""
    from pyarrow import fs

    prefix = fixed_prefix(pattern)
    base = location.path(prefix) if prefix else location.root
    matcher = glob_regex(pattern)
    try:
        _require_root(location, source)
        infos = location.fs.get_file_info(fs.FileSelector(base, recursive=True, allow_not_found=True))
    except OSError as exc:
        raise listing_error(location, exc, source) from None
    start = len(location.root) + 1 if location.root else 0
    entries = [
        FileEntry(info.path[start:], int(info.size or 0), int(info.mtime_ns or 0))
        for info in infos
        if info.type == fs.FileType.File and matcher.match(info.path[start:])
    ]
    return sorted(entries, key=lambda e: e.rel)


def _require_root(location: Location, source: str) -> None:
    """A local folder must exist; so must a bucket (S3 has no folders, so a prefix may be empty)."""
    from pyarrow import fs

    if location.is_s3:
        bucket = location.root.split("/", 1)[0]
        if location.fs.get_file_info(bucket).type == fs.FileType.NotFound:
            raise OSError(f"NoSuchBucket: {bucket}")
        return
    if location.fs.get_file_info(location.root).type != fs.FileType.Directory:
        raise BucketAccessError(
            f"source {source!r}: {location.url} is not a folder on this machine; create it, or fix url in the "
            "source YAML (file:// urls name an absolute folder path, e.g. file:///srv/exports/)"
        )


def listing_error(location: Location, exc: BaseException, source: str) -> Exception:
    """What a failed listing means for the user, naming the url and never a secret."""
    text = redact(" ".join(str(exc).split()), location.storage_options)
    options = location.storage_options or {}
    endpoint = options.get("AWS_ENDPOINT_URL") or "AWS S3"
    bucket = location.root.split("/", 1)[0]
    cause = text if len(text) <= 400 else text[:400] + "..."
    given = bool(options.get("AWS_ACCESS_KEY_ID") or options.get("AWS_ENDPOINT_URL"))
    if any(mark in text for mark in REFUSED_MARKS):
        fix = (
            "check the access key and secret (login and password) of the source's Airflow connection, and that "
            f"they may list and read bucket {bucket!r}"
        )
        return BucketAccessError(
            f"source {source!r}: the object store at {endpoint} refused the credentials for {location.url}; "
            f"{fix if given else _FROM_ENVIRONMENT} (cause: {cause})"
        )
    if any(mark in text for mark in NO_BUCKET_MARKS):
        fix = ", or endpoint_url in the connection's extra" if given else "; " + _FROM_ENVIRONMENT
        return BucketAccessError(
            f"source {source!r}: bucket {bucket!r} does not exist at {endpoint}; fix url in the source YAML{fix} "
            f"(cause: {cause})"
        )
    if location.is_s3 and any(mark in text for mark in UNREACHABLE_MARKS):
        fix = "check endpoint_url in the extra of the source's Airflow connection" if given else _FROM_ENVIRONMENT
        return SourceConnectionError(
            f"source {source!r}: cannot reach the object store at {endpoint} for {location.url}; {fix} (cause: {cause})"
        )
    return BucketAccessError(f"source {source!r}: cannot list {location.url}: {cause}")


# Without a key or endpoint (no conn_id, or an aws connection with neither), pyarrow's S3 client uses its defaults.
_FROM_ENVIRONMENT = (
    "no access key or endpoint_url was given (the source has no conn_id, or its connection sets neither), so the "
    "keys come from AWS_* variables or the machine's role and the endpoint is AWS S3; set conn_id to an aws "
    "connection (login, password, extra endpoint_url and region_name)"
)
