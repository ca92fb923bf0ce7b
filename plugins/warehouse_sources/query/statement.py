"""The check a statement passes before it runs, read from DuckDB's own parse tree.

One statement, of type SELECT (WITH ..., VALUES, DESCRIBE included); its relations are names
(tables, views, CTEs), never files by path; its table functions come from a short allow-list
(`as_of` and row generators), so `read_csv`, `glob`, `query_table` and the like are refused
before DuckDB binds anything. The same parse tree names the tables to open, so a warehouse of
thousands of tables opens only the few a query reads.

This is one of two guards: the connection's own switches (sandbox.py) refuse the same things
again when the statement reaches DuckDB, so each holds alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from warehouse_sources.query.errors import QueryError, QueryRefusedError

ALLOWED_TABLE_FUNCTIONS = frozenset({"as_of", "range", "generate_series", "unnest"})
READABLE_SCHEMAS = frozenset({"", "main"})
SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog"})
FILE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".json", ".jsonl", ".ndjson", ".gz", ".zst", ".arrow",
                 ".xlsx", ".db", ".duckdb", ".sqlite")  # fmt: skip
ARGUMENT_CASTS = frozenset({"TIMESTAMP", "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE", "DATE", "INTEGER", "BIGINT"})


@dataclass(frozen=True)
class AsOf:
    """One `as_of('table', version_or_time)` call: the table and its second argument as SQL."""

    table: str
    argument: str


@dataclass(frozen=True)
class Statement:
    """A checked SELECT and what it reads: relation names (tables, views or CTEs) and as_of calls."""

    sql: str
    names: frozenset[str]
    as_of: tuple[AsOf, ...]
    ctes: frozenset[str] = frozenset()


def check_statement(conn: Any, sql: str) -> Statement:
    """The statement `sql` if a read-only query may run it; QueryRefusedError (or QueryError) if not."""
    import duckdb

    try:
        statements = conn.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryError(f"the query does not parse: {_first_line(exc)}") from None
    if not statements:
        raise QueryError("the query is empty; write one SELECT statement")
    if len(statements) > 1:
        raise QueryRefusedError(f"the query holds {len(statements)} statements; run one SELECT at a time")
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        raise QueryRefusedError(
            f"{kind.name} statements are refused: queries are read-only, so only SELECT (WITH ..., VALUES, "
            "DESCRIBE) runs; nothing can be written, attached, installed, loaded or set"
        )
    tree = _parse_tree(conn, sql)
    return Statement(sql, frozenset(_relation_names(tree)), tuple(_as_of_calls(tree)), frozenset(_cte_names(tree)))


def _parse_tree(conn: Any, sql: str) -> dict[str, Any]:
    ((text,),) = conn.execute("SELECT json_serialize_sql(?)", [sql]).fetchall()
    tree = json.loads(text)
    if tree.get("error"):
        raise QueryError(f"the query does not parse: {tree.get('error_message', 'unknown error')}")
    return dict(tree)


def _nodes(node: Any, kinds: frozenset[str]) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if node.get("type") in kinds:
            yield node
        for value in node.values():
            yield from _nodes(value, kinds)
    elif isinstance(node, list):
        for value in node:
            yield from _nodes(value, kinds)


def _cte_names(node: Any) -> Iterator[str]:
    """Names a WITH clause defines anywhere in the statement (they are not warehouse tables)."""
    if isinstance(node, dict):
        for entry in (node.get("cte_map") or {}).get("map", []):
            yield str(entry["key"])
        for value in node.values():
            yield from _cte_names(value)
    elif isinstance(node, list):
        for value in node:
            yield from _cte_names(value)


def _relation_names(tree: dict[str, Any]) -> Iterator[str]:
    for ref in _nodes(tree, frozenset({"BASE_TABLE"})):
        name, schema = str(ref["table_name"]), str(ref.get("schema_name") or "")
        if _looks_like_path(name):
            raise QueryRefusedError(
                f"{name!r} is a file path: queries read warehouse tables and views by name, never files"
            )
        if ref.get("at_clause"):
            raise QueryRefusedError(
                f"{name} AT (...) is not supported; read an earlier version with as_of('{name}', N)"
            )
        if schema in SYSTEM_SCHEMAS:
            continue
        if ref.get("catalog_name") or schema not in READABLE_SCHEMAS:
            raise QueryRefusedError(f"{schema}.{name}: only the warehouse's tables and views can be read, by name")
        yield name
    for function in _nodes(tree, frozenset({"TABLE_FUNCTION"})):
        called = str(function["function"].get("function_name", "")).lower()
        if called not in ALLOWED_TABLE_FUNCTIONS:
            raise QueryRefusedError(
                f"table function {called}() is refused: queries read warehouse tables and views by name; "
                f"the table functions allowed are {', '.join(sorted(ALLOWED_TABLE_FUNCTIONS))}"
            )


def _looks_like_path(name: str) -> bool:
    return any(mark in name for mark in ("/", "\\", ":")) or name.lower().endswith(FILE_SUFFIXES)


def _as_of_calls(tree: dict[str, Any]) -> Iterator[AsOf]:
    for function in _nodes(tree, frozenset({"TABLE_FUNCTION"})):
        call = function["function"]
        if str(call.get("function_name", "")).lower() != "as_of":
            continue
        arguments = [a["expression"] for a in call.get("arguments", [])]
        table = _literal(arguments[0]) if arguments else None
        version = _argument_sql(arguments[1]) if len(arguments) == 2 else None
        if table is None or not table[1] or table[0] != "STRING" or version is None:
            raise QueryError(
                "as_of takes a table name and a version or a time, both written as constants: "
                "as_of('billing_charges', 12) or as_of('billing_charges', TIMESTAMP '2026-12-01 00:00:00')"
            )
        yield AsOf(table[1], version)


def _literal(node: dict[str, Any]) -> tuple[str, str] | None:
    """(kind, text) of a constant node, else None."""
    if node.get("class") != "CONSTANT":
        return None
    literal = node.get("literal") or {}
    return str(literal.get("kind", "")), str(literal.get("text", ""))


def _argument_sql(node: dict[str, Any]) -> str | None:
    """as_of's second argument rebuilt as SQL: an integer, or a cast of a constant to a time type."""
    literal = _literal(node)
    if literal is not None:
        kind, text = literal
        return text if kind in ("INTEGER", "BIGINT") and text.lstrip("-").isdigit() else None
    if node.get("class") != "CAST" or node.get("try_cast"):
        return None
    type_name = str((node.get("type_expr") or {}).get("type_name", "")).upper()
    inner = _literal(node.get("child") or {})
    if type_name not in ARGUMENT_CASTS or inner is None:
        return None
    value = inner[1] if inner[0] in ("INTEGER", "BIGINT") and inner[1].lstrip("-").isdigit() else None
    return f"CAST({value if value is not None else _quote(inner[1])} AS {type_name})"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
