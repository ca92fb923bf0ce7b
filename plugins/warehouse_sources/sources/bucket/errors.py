"""Errors of bucket sources, and DuckDB's parse errors turned into ones naming the file, line and fix."""

from __future__ import annotations

import re

from warehouse_sources.errors import SourceDataError, SyncFatalError, TableNotFoundError

CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")
ORIGINAL_LINE = re.compile(r"Original Line: ?(.*)")
FILE_FIELD = re.compile(r"^\s*file = (.+)$", re.MULTILINE)
QUOTED_FILE = re.compile(r'file "([^"]+)"')
JSON_LINE = re.compile(r"in line (\d+)")
DATA_ERRORS = ("Invalid Input Error: ", "Conversion Error: ")  # DuckDB's words for a file it cannot parse


class BucketAccessError(SyncFatalError):
    """The bucket or folder cannot be listed as configured (credentials, bucket, path)."""


class NoFilesError(TableNotFoundError):
    """A table's pattern matched no file."""


class BucketFileError(SourceDataError):
    """A file cannot be read as the table's format, or disagrees with the table's schema."""


def is_data_error(exc: BaseException) -> bool:
    """Whether `exc` carries DuckDB's complaint about a file's content (not a network or disk fault)."""
    return str(exc).startswith(DATA_ERRORS)


def file_error(where: str, exc: BaseException, files: dict[str, str], fmt: str) -> BucketFileError:
    """A DuckDB read error as one message: the file (relative to the url), the CSV line, the cause
    and the fix. `files` maps the paths DuckDB saw to the names the user knows."""
    text = str(exc)
    name = _file_named(text, files)
    for path, rel in sorted(files.items(), key=lambda item: -len(item[0])):
        text = text.replace(path, rel)
    if fmt == "jsonl":
        text = JSON_LINE.sub(_json_line, text)
    line = CSV_LINE.search(text) or JSON_LINE.search(text)
    first = text.split("\n", 1)[0].removeprefix(DATA_ERRORS[0]).removeprefix(DATA_ERRORS[1])
    detail = _csv_detail(text) if fmt == "csv" else first
    at = f"file {name!r}" if name else "one of the matched files"
    if line:
        at += f", line {line.group(1)}"
    return BucketFileError(f"{where}: {at} cannot be read as {fmt}: {detail.strip().rstrip('.')}. {_fix(fmt)}")


def _json_line(match: re.Match[str]) -> str:
    """DuckDB (2.0) numbers a malformed JSON line one past the line that holds it (blank lines uncounted)."""
    return f"in line {max(int(match.group(1)) - 1, 1)}"


def _file_named(text: str, files: dict[str, str]) -> str | None:
    match = FILE_FIELD.search(text) or QUOTED_FILE.search(text)
    if match is None:
        return next((rel for path, rel in files.items() if path in text), None)
    path = match.group(1).strip()
    return files.get(path, path)


def _csv_detail(text: str) -> str:
    """The line DuckDB quotes and what is wrong with it (the lines after 'Original Line')."""
    lines = [line.strip() for line in text.split("\n")]
    original = next((ORIGINAL_LINE.match(line) for line in lines if line.startswith("Original Line")), None)
    reasons = [
        line
        for line in lines
        if line.startswith(("Expected Number of Columns", "Value with unterminated", "Error when converting"))
        or "Could not convert" in line
    ]
    shown = f"{original.group(1)[:200]!r}" if original else ""
    return "; ".join(filter(None, [f"row {shown}" if shown else "", *reasons])) or lines[0]


def _fix(fmt: str) -> str:
    if fmt == "csv":
        return (
            "Fix or remove the file (every row needs the header's number of columns), or declare the column's type "
            "under columns: in the source YAML, or set csv: delimiter/quote if the file uses others"
        )
    if fmt == "jsonl":
        return "Fix or remove the file: each line must be one JSON object"
    return "Fix or remove the file (it must be a complete file of the table's format)"
