"""The source table of one fuzzer example, in PostgreSQL: created, changed, read back through psycopg.

`Source` applies drawn changes and keeps every statement in `script`, so a failure prints the SQL
that reproduces it; `rows()` reads the table back (each column's text, the value compared, the
replication key as an integer) for the oracle and for the next draws. Replication keys only grow,
as the README requires: new and updated rows get a key at or above the highest one the table ever
had (ties included), or, sometimes, one no cursor can hold (NULL, +-infinity, years outside 1..9999).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from tests.reliability.differential_support import KEY_LIMITS, KEY_STEPS, Column, TableSpec
from tests.reliability.differential_types import (
    CREATE_ENUM,
    NON_ASCII_KEY_SUFFIXES,
    PLAIN_KEY_SUFFIXES,
    TYPES,
    Off,
    values,
)
from tests.reliability.differential_values import DAY_US, EPOCH, key_sql, plain_sql, read_sql


@dataclass(frozen=True)
class SourceRow:
    """One source row as read through psycopg: its ctid, each column's text, the value read for
    comparison, whether each array is plain, and its replication key as a readable integer."""

    ctid: str
    texts: tuple[str | None, ...]
    raws: tuple[Any, ...]
    plain: tuple[bool, ...]
    key: int | None


@dataclass
class Source:
    """The source table: creates it, applies drawn changes, reads it back; keeps the SQL run."""

    uri: str
    spec: TableSpec
    off: Off
    script: list[str] = field(default_factory=list)
    high: int | None = None  # highest readable replication key the table ever had
    next_pk: int = 1
    last_key: int | None = None  # the readable key draw_key drew last (None: an unreadable one)

    def run(self, statement: Any, note: str = "") -> None:
        import psycopg

        with psycopg.connect(self.uri, autocommit=True) as conn:
            text = statement if isinstance(statement, str) else statement.as_string(conn)
            self.script.append(text + (f"  -- {note}" if note else "") + ";")
            conn.execute(statement)

    def create(self) -> None:
        from psycopg import sql

        if any(c.type == "enum" for c in self.spec.columns):
            self.run(CREATE_ENUM)
        cols = [sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.pg.sql)) for c in self.spec.columns]
        if self.spec.pk_constraint:
            cols.append(sql.SQL("PRIMARY KEY ({})").format(sql.SQL(", ").join(map(sql.Identifier, self.spec.pk))))
        self.run(sql.SQL("CREATE TABLE {} ({})").format(sql.Identifier(self.spec.table), sql.SQL(", ").join(cols)))

    def rows(self) -> list[SourceRow]:
        import psycopg

        spec = self.spec
        idents = [_ident(c.name) for c in spec.columns]
        select = ["ctid::text"] + [f"{i}::text" for i in idents]
        select += [read_sql(i, c.pg) for i, c in zip(idents, spec.columns, strict=True)]
        select += [
            plain_sql(i) if c.pg.storage == "array" else "true" for i, c in zip(idents, spec.columns, strict=True)
        ]
        key = spec.column(spec.key) if spec.key else None
        select.append(key_sql(_ident(key.name), key.pg) if key else "NULL")
        with psycopg.connect(self.uri, autocommit=True) as conn:
            conn.execute("SET TimeZone TO 'UTC'")
            conn.execute("SET intervalstyle TO iso_8601")
            found = conn.execute(f"SELECT {', '.join(select)} FROM {_ident(spec.table)} ORDER BY ctid").fetchall()
        n = len(spec.columns)
        return [SourceRow(r[0], r[1 : n + 1], r[n + 1 : 2 * n + 1], r[2 * n + 1 : 3 * n + 1], r[-1]) for r in found]

    def insert(self, values: dict[str, str | None], note: str = "") -> None:
        from psycopg import sql

        names = sql.SQL(", ").join(sql.Identifier(n) for n in values)
        literals = sql.SQL(", ").join(sql.Literal(v) for v in values.values())
        self.run(
            sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(sql.Identifier(self.spec.table), names, literals), note
        )

    def update(self, row: SourceRow, values: dict[str, str | None]) -> None:
        from psycopg import sql

        sets = sql.SQL(", ").join(
            sql.SQL("{} = {}").format(sql.Identifier(n), sql.Literal(v)) for n, v in values.items()
        )
        table = sql.Identifier(self.spec.table)
        self.run(sql.SQL("UPDATE {} SET {} WHERE ctid = {}").format(table, sets, sql.Literal(row.ctid)))

    def delete(self, row: SourceRow) -> None:
        from psycopg import sql

        statement = sql.SQL("DELETE FROM {} WHERE ctid = {}").format(
            sql.Identifier(self.spec.table), sql.Literal(row.ctid)
        )
        self.run(statement, "row " + repr(dict(zip([c.name for c in self.spec.columns], row.texts, strict=True))))

    def widen(self, column: Column) -> bool:
        """ALTER COLUMN ... TYPE the wider type; False when PostgreSQL refuses (a value out of its range)."""
        import psycopg
        from psycopg import sql

        wider = TYPES[column.pg.widen_to]
        table, name = sql.Identifier(self.spec.table), sql.Identifier(column.name)
        try:
            self.run(sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE {}").format(table, name, sql.SQL(wider.sql)))
        except psycopg.Error as exc:
            self.script[-1] = f"-- refused by PostgreSQL, skipped: {self.script[-1]} ({str(exc).splitlines()[0]})"
            return False
        column.type = wider.key
        return True

    # --- values for new rows --------------------------------------------------------------------

    def draw_key(self, data: st.DataObject, readable_only: bool = False) -> str | None:
        """A replication key at or above the highest so far (ties included), or one no cursor reads."""
        key = self.spec.column(self.spec.key or "")
        specials = [] if readable_only else _unreadable_keys(key.type, self.off)
        self.last_key = None
        if specials and data.draw(st.integers(0, 7), label="unreadable key?") == 0:
            return data.draw(st.sampled_from(specials), label="unreadable key")
        kind = "int4" if key.type in ("int4", "int8") else "date" if key.type == "date" else "timestamp"
        low, high = KEY_LIMITS[key.type if kind == "int4" else kind]
        if self.high is None:
            start, unit = {"int4": (0, 1), "date": (19_700, 1), "timestamp": (19_700 * DAY_US, 3_600_000_000)}[kind]
            edges = [low, high] if "far_datetimes" not in self.off or kind == "int4" else []
            near = st.integers(-50, 50).map(lambda n: start + n * unit)
            value = data.draw(st.one_of(near, near, near, *map(st.just, edges)), label="first key")
        else:
            value = min(self.high + data.draw(st.sampled_from(KEY_STEPS[kind]), label="key step"), high)
        self.high = value if self.high is None else max(self.high, value)
        self.last_key = value
        return _render_key(key.type, value, data)

    def draw_pk(self, data: st.DataObject, rows: list[SourceRow]) -> dict[str, str | None]:
        """Primary-key values: fresh ones; for a key given only in YAML, sometimes NULL or a copy."""
        spec = self.spec
        choice = data.draw(st.integers(0, 14), label="pk fault?") if spec.faulty_keys else 9
        if choice == 0:
            return {name: None for name in spec.pk}
        if choice == 1 and rows:
            row = data.draw(st.sampled_from(rows), label="pk copied from")
            return {name: row.texts[spec.index(name)] for name in spec.pk}
        self.next_pk += data.draw(st.integers(1, 3), label="pk step")
        n = self.next_pk
        suffixes = PLAIN_KEY_SUFFIXES  # half the time: a run of plain keys merges on the bounded path
        text_key = any(spec.column(name).type == "text" for name in spec.pk)
        if text_key and "non_ascii_keys" not in self.off and data.draw(st.booleans(), label="non-ASCII text key?"):
            suffixes = NON_ASCII_KEY_SUFFIXES
        fresh = {
            "int4": str(n),
            "int8": str(n * 2**33),
            "text": f"k{n}" + data.draw(st.sampled_from(suffixes), label="text key suffix"),
            "uuid": f"00000000-0000-4000-8000-{n:012x}",
        }
        return {name: fresh[spec.column(name).type] for name in spec.pk}

    def draw_row(self, data: st.DataObject, rows: list[SourceRow], cursor: int | None) -> dict[str, str | None]:
        spec = self.spec
        row = self.draw_pk(data, rows) if spec.pk else {}
        if spec.key:
            row[spec.key] = self.draw_key(data)
        off = self.off
        if spec.method == "append_only" and "append_boundary_irregular_arrays" in off and self.last_key == cursor:
            off = off | {"irregular_arrays"}
        for column in spec.columns:
            if column.name not in row:
                row[column.name] = data.draw(values(column.type, off), label=column.name)
        return {c.name: row[c.name] for c in spec.columns}

    def bulk_insert(self, data: st.DataObject, rows: list[SourceRow], cursor: int | None) -> None:
        """Many rows at once (generate_series): one drawn row repeated, with fresh primary keys, and
        either one replication key for all (a large tie) or keys counting up from it."""
        from psycopg import sql

        spec, n = self.spec, data.draw(st.sampled_from([50, 400, 2000]), label="bulk rows")
        row = self.draw_row(data, rows, cursor)
        exprs = {c.name: sql.SQL("{}::{}").format(sql.Literal(row[c.name]), sql.SQL(c.pg.sql)) for c in spec.columns}
        first = self.next_pk + 1
        self.next_pk += n + 1
        for name in spec.pk:
            exprs[name] = sql.SQL(SERIES_KEYS[spec.column(name).type].format(first=first))
        if spec.key and self.last_key is not None and data.draw(st.booleans(), label="keys count up?"):
            kind = spec.key_kind
            unit = 1_000_000 if kind == "timestamp" else 1
            if self.last_key + n * unit <= KEY_LIMITS[spec.column(spec.key).type if kind == "int" else kind][1]:
                step = "g * interval '1 second'" if kind == "timestamp" else "g"
                exprs[spec.key] = sql.SQL("{} + {}").format(exprs[spec.key], sql.SQL(step))
                self.high = self.last_key + n * unit
        names = sql.SQL(", ").join(sql.Identifier(c.name) for c in spec.columns)
        select = sql.SQL(", ").join(exprs[c.name] for c in spec.columns)
        statement = sql.SQL("INSERT INTO {} ({}) SELECT {} FROM generate_series(1, {}) AS g")
        self.run(statement.format(sql.Identifier(spec.table), names, select, n))


SERIES_KEYS = {  # fresh primary-key values for generate_series(1, n) AS g, numbered from `first`
    "int4": "({first} + g)",
    "int8": "({first} + g) * 8589934592",
    "text": "'k' || ({first} + g) || '''\"'",
    "uuid": "('00000000-0000-4000-8000-' || lpad(to_hex({first} + g), 12, '0'))::uuid",
}


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _unreadable_keys(type_key: str, off: Off) -> list[str | None]:
    keys: list[str | None] = [] if "null_keys" in off else [None]
    if type_key in ("int4", "int8"):
        return keys
    zone = "+00" if type_key == "timestamptz" else ""
    if "infinite_datetimes" not in off:
        keys += ["infinity", "-infinity"]
    if "far_datetimes" not in off:
        keys += [f"0044-03-15{' 00:00:00' + zone if zone or type_key == 'timestamp' else ''} BC"]
        keys += [f"12000-01-01{' 00:00:00' + zone if zone or type_key == 'timestamp' else ''}"]
    return keys


def _render_key(type_key: str, value: int, data: st.DataObject) -> str:
    if type_key in ("int4", "int8"):
        return str(value)
    if type_key == "date":
        return (EPOCH + timedelta(days=value)).date().isoformat()
    moment = EPOCH + timedelta(microseconds=value)
    if type_key == "timestamp":
        return moment.replace(tzinfo=None).isoformat(sep=" ")
    minutes = data.draw(st.sampled_from([0, 330, -480, 840]), label="shown at offset (minutes)")
    try:
        return moment.astimezone(timezone(timedelta(minutes=minutes))).isoformat(sep=" ")
    except OverflowError:  # year 1 or 9999 shown in another zone leaves Python's range
        return moment.isoformat(sep=" ")
