"""Read a folder of source YAML files; report every problem at once, per file.

A broken file never stops the others from loading: its problems are collected and the
factory turns them into one import error, while the good sources still become DAGs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from warehouse_sources.config.discovery import source_paths
from warehouse_sources.config.kinds import parse_source
from warehouse_sources.config.models import SourceConfig
from warehouse_sources.config.names import SOURCE_NAME, SYNCED_NAME, reserved_name_reason

MAX_FILE_BYTES = 1_000_000


@dataclass(frozen=True)
class LoadedSource:
    """A valid source and the file it came from."""

    path: Path
    config: SourceConfig


@dataclass
class LoadResult:
    """The valid sources and, per broken file, its problems as `file: location: message`.

    `declared` holds the source name a broken file gives (when it gives a valid one), so that
    its problems can be shown to the users of that source's DAG and no one else.
    """

    sources: list[LoadedSource] = field(default_factory=list)
    problems: dict[Path, list[str]] = field(default_factory=dict)
    declared: dict[Path, str] = field(default_factory=dict)


def format_location(loc: tuple[int | str, ...]) -> str:
    """`("tables", 2, "replication_key")` -> `tables[2].replication_key`."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not text:
            text = str(part)
        else:
            text += f".{part}"
    return text or "(top level)"


def _validation_problems(path: Path, error: ValidationError) -> list[str]:
    problems = []
    for item in error.errors():
        # Pydantic adds the failing union/literal member to loc; the user wrote the field only.
        loc = tuple(p for p in item["loc"] if not (isinstance(p, str) and p.startswith(("function-", "literal["))))
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key; check its spelling against the YAML reference in the README"
        elif item["type"] == "string_type":
            message += quote_hint(path, loc, item.get("input"))
        problems.append(f"{path}: {format_location(loc)}: {message}")
    return problems


def _read_as(value: object) -> str | None:
    """What YAML 1.1 made of a plain scalar that was meant as text, in words."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if value is None:
        return "null (no value)"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, datetime | date):
        return "a date" if not isinstance(value, datetime) else "a timestamp"
    return None


def _written(path: Path, loc: tuple[int | str, ...]) -> str | None:
    """The scalar at `loc` as written in the file (composed, not constructed: `yes`, not True)."""
    node: Any = yaml.compose(path.read_text(encoding="utf-8"), Loader=_SafeLoader)
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            return None
    return node.value if isinstance(node, yaml.ScalarNode) and node.value else None


def quote_hint(path: Path, loc: tuple[int | str, ...], value: object) -> str:
    """`; YAML read yes as the boolean true; ...quote it: name: "yes"` when a plain scalar meant as
    text was read as something else (YAML 1.1: yes/no/on/off, null, 0123 octal, dates)."""
    read_as = _read_as(value)
    written = _written(path, loc) if read_as else None
    if not written:
        return ""
    quoted = f'{loc[-1]}: "{written}"' if isinstance(loc[-1], str) else f'"{written}"'
    return f"; YAML read {written} as {read_as}; to mean the text, quote it: {quoted}"


# libyaml's parser when PyYAML has it (the wheels do): 10x faster than the pure-Python one,
# which took 3 s for 200 source files of 20 tables, at every DAG parse and cold Sources page.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


MERGE_TAG = "tag:yaml.org,2002:merge"


class _StrictLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """YAML's safe loader, refusing a key written twice in one mapping (YAML would keep the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[object, object]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            if key_node.tag == MERGE_TAG:  # `<<: *defaults`: merged keys may be overridden, not duplicated
                continue
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"{key!r} is written twice in one mapping; keep one", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _read_yaml(path: Path) -> tuple[Any, list[str]]:
    raw = path.read_bytes()
    if len(raw) > MAX_FILE_BYTES:
        return None, [f"{path}: file is {len(raw)} bytes; a source file is at most {MAX_FILE_BYTES}"]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8 YAML"]
    try:
        data = yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "(top level)"
        return None, [f"{path}: {where}: invalid YAML: {getattr(exc, 'problem', None) or exc}"]
    if not isinstance(data, dict):
        kind = "empty" if data is None else type(data).__name__
        return None, [f"{path}: (top level): file is {kind}; expected a mapping with name, kind, conn_id, tables"]
    return data, []


def _table_name_problems(path: Path, source: SourceConfig) -> list[str]:
    problems: list[str] = []
    seen: dict[str, int] = {}
    for index, table in enumerate(source.tables):
        synced = source.synced_name(table)
        where = f"{path}: tables[{index}].name"
        reserved = reserved_name_reason(synced)
        if reserved:
            problems.append(f"{where}: {reserved}")
        elif not SYNCED_NAME.match(synced):
            problems.append(
                f"{where}: synced table name {synced!r} must be letters, digits and underscores, "
                "not starting with a digit; set synced_name to choose one"
            )
        elif synced.lower() in seen:
            problems.append(
                f"{where}: synced table name {synced!r} is also used by tables[{seen[synced.lower()]}]; "
                "set synced_name on one of them"
            )
        seen.setdefault(synced.lower(), index)
    return problems


def load_source_file(path: Path) -> tuple[SourceConfig | None, list[str]]:
    """Validate one file: the source, or None and every problem found in it."""
    data, problems = _read_yaml(path)
    if problems:
        return None, problems
    try:
        source = parse_source(data)
    except ValidationError as exc:
        return None, _validation_problems(path, exc)
    problems = _table_name_problems(path, source)
    return (None, problems) if problems else (source, [])


def declared_name(path: Path) -> str | None:
    """The `name:` a source file gives, if it reads as YAML and the name is a valid source name."""
    data, problems = _read_yaml(path)
    name = data.get("name") if not problems else None
    return name if isinstance(name, str) and SOURCE_NAME.match(name) else None


def _clash_problems(loaded: LoadedSource, names: dict[str, Path], tables: dict[str, Path]) -> list[str]:
    problems = []
    if loaded.config.name in names:
        problems.append(
            f"{loaded.path}: name: source {loaded.config.name!r} is already defined in "
            f"{names[loaded.config.name]}; give each source a unique name"
        )
    for index, table in enumerate(loaded.config.tables):
        synced = loaded.config.synced_name(table).lower()
        if synced in tables:
            problems.append(
                f"{loaded.path}: tables[{index}].name: synced table name "
                f"{loaded.config.synced_name(table)!r} is already used by {tables[synced]}; "
                "set table_prefix or synced_name"
            )
    return problems


def load_sources(directory: Path) -> LoadResult:
    """Load every source file of `directory` (see `discovery`), in name order (first file wins a clash)."""
    result = LoadResult()
    if not directory.is_dir():
        what = "is not a folder" if directory.exists() else "does not exist"
        result.problems[directory] = [
            f"{directory}: [warehouse_sources] sources_dir {what}; create it or point the setting "
            "(AIRFLOW__WAREHOUSE_SOURCES__SOURCES_DIR) at the folder holding your source files"
        ]
        return result
    names: dict[str, Path] = {}
    tables: dict[str, Path] = {}
    for path in source_paths(directory):
        source, problems = load_source_file(path)
        loaded = LoadedSource(path, source) if source else None
        if loaded:
            problems = _clash_problems(loaded, names, tables)
        if problems:
            result.problems[path] = problems
            name = loaded.config.name if loaded else declared_name(path)
            if name:
                result.declared[path] = name
            continue
        assert loaded is not None
        result.sources.append(loaded)
        names[loaded.config.name] = path
        tables.update({loaded.config.synced_name(t).lower(): path for t in loaded.config.tables})
    return result
