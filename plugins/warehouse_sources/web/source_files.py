"""Source files written from REST: render a source as YAML, validate it as a hand-written file, write it.

An edit is a ruamel.yaml round trip over the file as it is, changing only the values that
changed, so comments, key order and quoting survive where the library keeps them. The file is
written to a temporary name in sources_dir and renamed over `<name>.yaml`: the DAG processor
sees the old file or the new one, never half of one.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from warehouse_sources.config.models import SourceConfig

LOCATION = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


class NotWritable(OSError):
    """sources_dir cannot take the file here (DAGs from an image or git): the caller offers the YAML."""


def _yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML()  # round trip: keeps comments and order
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 120
    yaml.preserve_quotes = True
    return yaml


def _merge(old: Any, new: Any) -> Any:
    """`new` laid over `old` in place where both are mappings (or lists of named tables): unchanged values
    keep their node, so their comments and quoting stay; changed ones are replaced."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(old, CommentedMap) and isinstance(new, dict):
        for key in [k for k in old if k not in new]:
            del old[key]
        for key, value in new.items():
            old[key] = _merge(old[key], value) if key in old else value
        return old
    if isinstance(old, CommentedSeq) and isinstance(new, list):
        if all(isinstance(t, dict) and "name" in t for t in [*old, *new]):
            by_name = {t["name"]: t for t in old}
            items = [_merge(by_name[t["name"]], t) if t["name"] in by_name else t for t in new]
            old[:] = items
            return old
        return old if list(old) == new else new
    same = (
        old == new and isinstance(old, bool) == isinstance(new, bool) and isinstance(old, str) == isinstance(new, str)
    )
    return old if same else new


def render(source: dict[str, Any], existing: str | None = None) -> str:
    """The YAML text of `source`: a new file, or `existing` edited to say the same as `source`."""
    yaml = _yaml()
    document = yaml.load(existing) if existing else None
    data = _merge(document, source) if document is not None else source
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _location(text: str) -> list[str | int]:
    """`tables[2].replication_key` -> ["tables", 2, "replication_key"] (the loader's own format, read back)."""
    if text == "(top level)":
        return []
    return [int(index) if index else key for key, index in LOCATION.findall(text)]


def validate(text: str, file_name: str) -> tuple[SourceConfig | None, list[dict[str, Any]]]:
    """Validate `text` exactly as the DAG factory validates a file in sources_dir: the source, or
    None and `{"loc", "msg"}` per problem."""
    from warehouse_sources.config.loader import load_source_file

    with tempfile.TemporaryDirectory(prefix="warehouse-sources-check-") as folder:
        path = Path(folder) / file_name
        path.write_text(text, encoding="utf-8")
        source, problems = load_source_file(path)
    found = []
    for line in problems:
        where, _, message = line.removeprefix(f"{path}: ").partition(": ")
        found.append({"loc": _location(where), "msg": message, "type": "value_error"})
    return source, found


def as_json(text: str) -> dict[str, Any]:
    """A source file's content as JSON (DESIGN §4.1 as written, defaults not filled in)."""
    import json

    import yaml

    data = yaml.safe_load(text)
    return dict(json.loads(json.dumps(data, default=str))) if isinstance(data, dict) else {}


def writable(directory: Path) -> bool:
    return directory.is_dir() and os.access(directory, os.W_OK)


def write_atomically(path: Path, text: str) -> None:
    """`text` as `path`: a temporary file in the same folder, flushed to disk, renamed over it.

    NotWritable when the folder refuses the temporary file; nothing is left behind either way.
    """
    if not writable(path.parent):
        raise NotWritable(f"sources_dir {path.parent.name!r} is not writable here")
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    except OSError as exc:
        raise NotWritable(f"sources_dir refused a new file ({exc.strerror})") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
