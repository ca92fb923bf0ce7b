"""Reads of "the files not loaded yet", for file sources synced without a replication key.

The loaded files live in the commit's state (`SyncState.extra["files"]`), so data and the list
move together. The list is bounded: it keeps at most `MAX_RECENT` files, newest by change time;
older ones are forgotten and summed up by a watermark, the newest change time among them. A
file no newer than the watermark and not in the list counts as loaded (a warning says how many).
Pure logic: the reader lists and reads, `reads.file_read` asks it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from warehouse_sources.sources.base import TableDescription

MAX_RECENT = 10_000
SHOWN = 5  # files named in a log line; the rest are counted


class ListedFile(Protocol):
    @property
    def rel(self) -> str: ...

    @property
    def size(self) -> int: ...

    @property
    def mtime_ns(self) -> int: ...


@runtime_checkable
class FileListing(Protocol):
    """What a reader of files offers beyond `SourceReader` (sources/bucket/ implements it)."""

    def listed_files(self, desc: TableDescription) -> list[Any]: ...

    def reloads_changed_files(self, desc: TableDescription) -> bool: ...

    def restrict_files(self, desc: TableDescription, rels: list[str]) -> None: ...


@dataclass(frozen=True)
class LoadedFiles:
    """The files committed so far: path -> (size, change time in ns), and the forgotten ones' watermark."""

    recent: dict[str, tuple[int, int]] = field(default_factory=dict)
    watermark_ns: int | None = None

    @classmethod
    def from_extra(cls, extra: dict[str, Any] | None) -> LoadedFiles:
        data = (extra or {}).get("files") or {}
        recent = {path: (int(size), int(mtime)) for path, size, mtime in data.get("recent", [])}
        return cls(recent, data.get("watermark_ns"))

    def to_extra(self) -> dict[str, Any]:
        rows = [[path, size, mtime] for path, (size, mtime) in sorted(self.recent.items())]
        return {"files": {"recent": rows, "watermark_ns": self.watermark_ns}}


@dataclass(frozen=True)
class FilePlan:
    """This run's files: what to read, and what the log says about the others."""

    read: list[str]
    loaded: LoadedFiles  # the state after this run commits
    new: list[str]
    changed: list[str]
    deleted: list[str]
    below_watermark: list[str]


def plan_files(listed: list[ListedFile], previous: LoadedFiles | None, reload_changed: bool,
               limit: int = MAX_RECENT) -> FilePlan:  # fmt: skip
    """Sort the listed files into new, changed in place, deleted and already loaded."""
    before = previous or LoadedFiles()
    now = {f.rel: (f.size, f.mtime_ns) for f in listed}
    new: list[str] = []
    changed: list[str] = []
    old: list[str] = []
    for rel, mark in now.items():
        seen = before.recent.get(rel)
        if seen is None:
            forgotten = before.watermark_ns is not None and mark[1] <= before.watermark_ns
            (old if forgotten else new).append(rel)
        elif seen != mark:
            changed.append(rel)
    deleted = sorted(set(before.recent) - set(now))
    read = sorted(new + (changed if reload_changed else []))
    kept = {rel: now[rel] for rel in read} | {rel: before.recent[rel] for rel in before.recent if rel in now}
    if reload_changed:
        kept |= {rel: now[rel] for rel in changed}
    return FilePlan(read, _bounded(kept, before.watermark_ns, limit), new, changed, deleted, old)


def _bounded(files: dict[str, tuple[int, int]], watermark: int | None, limit: int) -> LoadedFiles:
    """Keep the `limit` newest files; the newest change time among the dropped ones becomes the watermark."""
    if len(files) <= limit:
        return LoadedFiles(files, watermark)
    order = sorted(files.items(), key=lambda item: (item[1][1], item[0]))
    dropped, kept = order[: len(order) - limit], order[len(order) - limit :]
    newest_dropped = max(mtime for _, (_, mtime) in dropped)
    return LoadedFiles(dict(kept), max(newest_dropped, watermark or newest_dropped))


def shown(paths: list[str]) -> str:
    """A few paths and the count of the rest, for a log line."""
    head = ", ".join(paths[:SHOWN])
    return head + (f" and {len(paths) - SHOWN} more" if len(paths) > SHOWN else "")
