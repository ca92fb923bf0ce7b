"""Command line: `python -m warehouse_sources <command>`.

- `schema [--check FILE]`: print the JSON Schema of source YAML files (or check FILE is current).
- `validate [DIR]`: validate every source file in DIR (default: sources_dir), list problems and the
  files it does not read (in subfolders, other extensions), which do not fail the command.
- `vacuum [--apply] [--retention-hours H]`: list (or delete) data files no table version uses;
  a table that cannot be opened is named with the reason and skipped, and the command exits 1;
  a warehouse that cannot be reached (s3:// with wrong credentials or endpoint) exits 2.
- `query [--format table|csv|json] ["SQL" | -f FILE | -]`: run one read-only SELECT over the
  synced tables, the saved views and `as_of(...)`; an error prints on stderr and exits 1.
  `query --list` lists the tables and views with their columns instead.
- `verify SOURCE [TABLE ...] [--repair]`: compare tables with their source by key-range checksums,
  one line per table (`ok`, or `drift` with the key ranges and row counts); exit 1 on drift.
  `--repair` rewrites the drifted ranges from the source in one commit (cursor kept).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from warehouse_sources.query.engine import QueryEngine


def _schema_text() -> str:
    from warehouse_sources.config.kinds import source_json_schema

    schema = source_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "warehouse-sources source file"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def schema(check: Path | None) -> int:
    text = _schema_text()
    if check is None:
        sys.stdout.write(text)
        return 0
    if check.read_text() != text:
        print(f"{check} is out of date; regenerate: python -m warehouse_sources schema > {check}", file=sys.stderr)
        return 1
    return 0


def validate(directory: Path | None) -> int:
    from warehouse_sources.config.discovery import ignored_files
    from warehouse_sources.config.loader import load_sources

    if directory is None:
        from warehouse_sources.settings import load_settings

        directory = load_settings().sources_dir
    result = load_sources(directory)
    for loaded in result.sources:
        print(f"ok   {loaded.path}: source {loaded.config.name!r}, {len(loaded.config.tables)} tables")
    for problems in result.problems.values():
        for problem in problems:
            print(f"FAIL {problem}")
    for path, why in ignored_files(directory):
        print(f"skip {path}: {why}")
    return 1 if result.problems else 0


def vacuum(apply: bool, retention_hours: int, warehouse_uri: str | None) -> int:
    """On S3 the credentials and endpoint come from [warehouse_sources] warehouse_conn_id."""
    from dataclasses import replace

    from airflow.sdk.exceptions import AirflowNotFoundException

    from warehouse_sources.errors import WarehouseSourcesError
    from warehouse_sources.settings import load_settings
    from warehouse_sources.shared.warehouse_storage import warehouse_storage_options
    from warehouse_sources.warehouse.maintenance import vacuum_warehouse

    settings = load_settings()
    if warehouse_uri is not None:
        settings = replace(settings, warehouse_uri=warehouse_uri)
    skipped = 0
    try:
        options = warehouse_storage_options(settings)
        for table in vacuum_warehouse(settings.warehouse_uri, retention_hours, apply, options):
            if table.skipped:
                skipped += 1
                print(f"SKIP {table.uri}: {table.skipped}")
            else:
                print(f"{table.uri}: {'deleted' if apply else 'would delete'} {len(table.files)} files")
    except AirflowNotFoundException:
        print(f"vacuum: Airflow connection {settings.warehouse_conn_id!r} ([warehouse_sources] warehouse_conn_id) "
              "is not defined; create it (type aws) or fix the setting", file=sys.stderr)  # fmt: skip
        return 2
    except (WarehouseSourcesError, ValueError) as exc:
        print(f"vacuum: {exc}", file=sys.stderr)
        return 2
    if skipped:
        print(f"{skipped} table(s) skipped, not vacuumed; see SKIP above", file=sys.stderr)
    return 1 if skipped else 0


def query(sql: str | None, output: str, max_rows: int | None, warehouse_uri: str | None) -> int:
    """On S3 the credentials and endpoint come from [warehouse_sources] warehouse_conn_id."""
    from dataclasses import replace

    from airflow.sdk.exceptions import AirflowNotFoundException

    from warehouse_sources.errors import WarehouseSourcesError
    from warehouse_sources.query.engine import QueryEngine
    from warehouse_sources.query.result import as_csv, as_table
    from warehouse_sources.settings import load_settings
    from warehouse_sources.shared.warehouse_storage import warehouse_storage_options

    settings = load_settings()
    if warehouse_uri is not None:
        settings = replace(settings, warehouse_uri=warehouse_uri)
    try:
        engine = QueryEngine(settings.warehouse_uri, warehouse_storage_options(settings), settings.views_dir)
        if sql is None:
            return _list_relations(engine, output)
        result = engine.run(sql, max_rows)
    except AirflowNotFoundException:
        print(f"query: Airflow connection {settings.warehouse_conn_id!r} ([warehouse_sources] warehouse_conn_id) "
              "is not defined; create it (type aws) or fix the setting", file=sys.stderr)  # fmt: skip
        return 1
    except (WarehouseSourcesError, ValueError) as exc:
        print(f"query: {exc}", file=sys.stderr)
        return 1
    if output == "json":
        sys.stdout.write(json.dumps(result.to_json()) + "\n")
    else:
        sys.stdout.write(as_csv(result) if output == "csv" else as_table(result))
    return 0


def _list_relations(engine: QueryEngine, output: str) -> int:
    """The tables and views a query can read, with their columns (or why one cannot be read)."""
    from warehouse_sources.query.catalog import list_relations
    from warehouse_sources.query.result import Column, QueryResult, as_csv, as_table

    found = list_relations(engine)
    if output == "json":
        listed = [{"name": r.name, "kind": r.kind, "columns": [{"name": c.name, "type": c.type} for c in r.columns]}
                  | ({"problem": r.problem} if r.problem else {}) for r in found]  # fmt: skip
        sys.stdout.write(json.dumps({"tables": listed}) + "\n")
        return 0
    columns = (Column("name", "VARCHAR"), Column("kind", "VARCHAR"), Column("columns", "VARCHAR"))
    rows: list[list[object]] = [
        [r.name, r.kind, r.problem or ", ".join(f"{c.name} {c.type}" for c in r.columns)] for r in found
    ]
    result = QueryResult(columns, rows, truncated=False)
    sys.stdout.write(as_csv(result) if output == "csv" else as_table(result))
    return 0


def _query_text(args: argparse.Namespace) -> str:
    """The SQL from the argument, the -f file, or stdin (`-`)."""
    if args.file is not None:
        return sys.stdin.read() if str(args.file) == "-" else args.file.read_text()
    if args.sql is None or args.sql == "-":
        return sys.stdin.read()
    return str(args.sql)


def verify(source_name: str, names: list[str], repair: bool) -> int:
    """Deep verification of a source's tables (all, or those named), connected as its tasks connect:
    the kind's open_reader with the source's Airflow connection. Exit 1 on drift, 2 on a usage error."""
    import logging

    from warehouse_sources.config.loader import load_sources
    from warehouse_sources.engine.verify_run import verify_table
    from warehouse_sources.errors import WarehouseSourcesError
    from warehouse_sources.plan import plan_source
    from warehouse_sources.registry import kind_spec, load
    from warehouse_sources.settings import load_settings
    from warehouse_sources.shared.table_names import table_named, unknown_tables_problem
    from warehouse_sources.shared.warehouse_storage import warehouse_storage_options

    settings = load_settings()
    found = [s.config for s in load_sources(settings.sources_dir).sources if s.config.name == source_name]
    if not found:
        print(
            f"verify: no valid source {source_name!r} in {settings.sources_dir}; `validate` lists them", file=sys.stderr
        )
        return 2
    plan = plan_source(found[0])
    unknown = [n for n in names if table_named(plan.tables, n) is None]
    if unknown:
        print(f"verify: {unknown_tables_problem(unknown, plan.tables)}", file=sys.stderr)
        return 2
    tables = [t for t in plan.tables if not names or any(table_named([t], n) for n in names)]
    log = logging.getLogger("warehouse_sources.verify")
    drift = False
    try:
        options = warehouse_storage_options(settings)
        for table in tables:
            with load(kind_spec(plan.kind).open_reader)(plan, table, log) as reader:
                result = verify_table(reader, table, settings.warehouse_uri, options, repair, log)
            print(result.line(), flush=True)
            drift = drift or not result.ok
    except (WarehouseSourcesError, ValueError) as exc:
        print(f"verify: {exc}", file=sys.stderr)
        return 2
    return 1 if drift else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m warehouse_sources")
    commands = parser.add_subparsers(dest="command", required=True)
    schema_cmd = commands.add_parser("schema", help="print the JSON Schema of source YAML files")
    schema_cmd.add_argument("--check", type=Path, help="exit 1 when FILE differs from the generated schema")
    validate_cmd = commands.add_parser("validate", help="validate source YAML files")
    validate_cmd.add_argument("directory", nargs="?", type=Path)
    vacuum_cmd = commands.add_parser("vacuum", help="remove data files no table version uses")
    vacuum_cmd.add_argument("--apply", action="store_true", help="delete (default: only list)")
    vacuum_cmd.add_argument("--retention-hours", type=int, default=168, help="keep files newer than this (168)")
    vacuum_cmd.add_argument("--warehouse", help="warehouse root (default: [warehouse_sources] warehouse_uri)")
    query_cmd = commands.add_parser("query", help="run one read-only SELECT over the warehouse")
    query_cmd.add_argument("sql", nargs="?", help='the SQL, or "-" (or nothing) to read it from stdin')
    query_cmd.add_argument("-f", "--file", type=Path, help="read the SQL from FILE")
    query_cmd.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output (table)")
    query_cmd.add_argument("--limit", type=int, help="return at most this many rows (default and maximum 10000)")
    query_cmd.add_argument("--warehouse", help="warehouse root (default: [warehouse_sources] warehouse_uri)")
    query_cmd.add_argument("--list", action="store_true", help="list the tables and views with their columns")
    verify_cmd = commands.add_parser("verify", help="compare tables with their source by key-range checksums")
    verify_cmd.add_argument("source", help="the source's name")
    verify_cmd.add_argument("tables", nargs="*", help="synced names or schema.table (default: every table)")
    verify_cmd.add_argument("--repair", action="store_true", help="rewrite the drifted key ranges from the source")
    args = parser.parse_args(argv)
    if args.command == "query":
        if args.file is not None and args.sql is not None:
            parser.error("query: give the SQL as an argument or with -f FILE, not both")
        return query(None if args.list else _query_text(args), args.format, args.limit, args.warehouse)
    if args.command == "schema":
        return schema(args.check)
    if args.command == "verify":
        return verify(args.source, args.tables, args.repair)
    if args.command == "vacuum":
        return vacuum(args.apply, args.retention_hours, args.warehouse)
    return validate(args.directory)


if __name__ == "__main__":
    sys.exit(main())
