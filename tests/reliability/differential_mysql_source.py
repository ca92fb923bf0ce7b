"""The source table of one MySQL fuzzer example: created, changed, read back through PyMySQL.

`MySQLSource` applies drawn changes and keeps every statement in `script`, so a failure prints the SQL that
reproduces it. MySQL has no ctid: a row is found again by the hex of every column's value
(`LIMIT 1`, so one of exact copies). A statement the server refuses (a duplicate key, a widening
that does not fit) is skipped and shown as such in the script. Replication keys only grow, as the
README requires, or are, sometimes, ones no cursor can hold (NULL, zero and impossible dates).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from tests.reliability.differential_mysql_spec import MySQLSpec
from tests.reliability.differential_mysql_types import (
    SESSION_SQL,
    TEXT_PK_TYPES,
    TYPES,
    Off,
    key_limits,
    render_key,
    text_literal,
    unreadable_keys,
    values,
)
from tests.reliability.differential_source import SourceRow
from tests.reliability.differential_support import Column
from tests.reliability.differential_values import DAY_US

KEY_STEPS = {"int": [0, 0, 1, 3, 1000], "date": [0, 0, 1, 30], "timestamp": [0, 0, 1, 1_000_000, DAY_US]}
PLAIN_SUFFIXES = ("'\"",)
NON_ASCII_SUFFIXES = ("é", "表", "🐘", "Ω'", "e\u0301", "back\\slash", "ß-ä", "K", "k ")


class CreateRefused(Exception):
    """The server refused the drawn table (names equal under its collation, say): not an example."""


def ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def render_sql(column: Column) -> str:
    """The column's value as text, exactly (the row's finder and the oracle's input)."""
    i, storage = ident(column.name), column.pg.storage
    if column.type.startswith("bit"):
        return f"CAST({i} + 0 AS CHAR)"
    if storage == "float32":
        return f"CAST(CAST({i} AS DOUBLE) AS CHAR)"
    if storage in ("string", "text"):
        return f"CAST({i} AS CHAR CHARACTER SET utf8mb4)"
    return i if storage == "binary" else f"CAST({i} AS CHAR)"


def raw_sql(column: Column) -> str:
    """Dates as days and timestamps as microseconds since 1970; 'infinity' for a value no Delta
    date holds (zero, zero month or day, year 0, past the month's end), which the oracle expects
    stored as NULL and counted."""
    i, storage = ident(column.name), column.pg.storage
    if storage not in ("date", "timestamp"):
        return "NULL"
    count = f"DATEDIFF({i}, '1970-01-01')" if storage == "date" else f"TIMESTAMPDIFF(MICROSECOND, '1970-01-01', {i})"
    return f"CASE WHEN {i} IS NULL THEN NULL WHEN {i} + INTERVAL 0 DAY IS NULL THEN 'infinity' ELSE {count} END"


def decode(column: Column, text: str | bytes | None, raw: Any) -> tuple[str | None, Any]:
    """(a literal that writes the value again, the value the oracle maps) from what rows() read."""
    if text is None:
        return None, None
    storage = column.pg.storage
    if storage == "binary":
        return f"X'{bytes(text).hex()}'", bytes(text)
    value = text.decode() if isinstance(text, bytes) else text
    if column.type.startswith("bit"):
        return f"b'{int(value):b}'", value if storage == "decimal" else int(value)
    if storage in ("int8", "int16", "int32", "int64", "bool"):
        return value, int(value) != 0 if storage == "bool" else int(value)
    if storage in ("float32", "float64"):
        return value, float(value)
    if storage in ("string", "text"):
        return text_literal(value), value
    if storage in ("date", "timestamp"):
        return f"'{value}'", None if raw is None else str(raw.decode() if isinstance(raw, bytes) else raw)
    return value, value  # decimal, numeric_text: the exact text


@dataclass
class MySQLSource:
    """The source table: creates it, applies drawn changes, reads it back; keeps the SQL run."""

    uri: str
    spec: MySQLSpec
    off: Off
    script: list[str] = field(default_factory=list)
    high: int | None = None  # highest readable replication key the table ever had
    next_pk: int = 1
    last_key: int | None = None
    _conn: Any = None

    def connect(self) -> Any:
        if self._conn is None:
            import pymysql

            from warehouse_sources.sources.mysql import MySQLParams

            p = MySQLParams.from_uri(self.uri)
            self._conn = pymysql.connect(host=p.host, port=p.port, user=p.user, password=p.password,
                                         database=p.database, charset="utf8mb4", autocommit=True)  # fmt: skip
            with self._conn.cursor() as cursor:
                for statement in (*SESSION_SQL, "SET SESSION max_recursive_iterations = 100000"):
                    cursor.execute(statement)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def run(self, statement: str, note: str = "") -> bool:
        """Run one statement; False (and a note in the script) when the server refuses it."""
        import pymysql

        self.script.append(statement + (f"  -- {note}" if note else "") + ";")
        try:
            with self.connect().cursor() as cursor:
                cursor.execute(statement)
        except pymysql.err.MySQLError as exc:
            self.script[-1] = f"-- refused by the server, skipped: {self.script[-1]} ({exc.args[-1]})"
            return False
        return True

    def create(self) -> None:
        spec = self.spec
        cols = [f"{ident(c.name)} {c.pg.sql}" for c in spec.columns]
        if spec.pk_constraint:
            cols.append(f"PRIMARY KEY ({', '.join(ident(n) for n in spec.pk)})")
        body = ", ".join(cols)
        if not self.run(f"CREATE TABLE {ident(spec.table)} ({body}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"):
            raise CreateRefused(self.script[-1])

    def rows(self) -> list[SourceRow]:
        spec, n = self.spec, len(self.spec.columns)
        select = [f"HEX({render_sql(c)})" for c in spec.columns] + [raw_sql(c) for c in spec.columns]
        with self.connect().cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(select)} FROM {ident(spec.table)}")
            found = cursor.fetchall()
        rows = []
        for r in found:
            hexes = r[:n]
            texts = [None if h is None else bytes.fromhex(h if isinstance(h, str) else h.decode()) for h in hexes]
            decoded = [decode(c, t if c.pg.storage == "binary" or t is None else t.decode(), raw)
                       for c, t, raw in zip(spec.columns, texts, r[n:], strict=True)]  # fmt: skip
            where = " AND ".join(
                f"{render_sql(c)} IS NULL" if h is None else f"HEX({render_sql(c)}) = '{h}'"
                for c, h in zip(spec.columns, hexes, strict=True)
            )
            raws = tuple(v for _, v in decoded)
            rows.append(SourceRow(where, tuple(lit for lit, _ in decoded), raws, (True,) * n, self._key(raws)))
        return rows

    def _key(self, raws: tuple[Any, ...]) -> int | None:
        """The replication key as a readable integer (None when no cursor holds it)."""
        if not self.spec.key:
            return None
        value = raws[self.spec.index(self.spec.key)]
        return None if value is None or value == "infinity" else int(value)

    def insert(self, row: dict[str, str | None], note: str = "") -> None:
        names = ", ".join(ident(n) for n in row)
        literals = ", ".join("NULL" if v is None else v for v in row.values())
        self.run(f"INSERT INTO {ident(self.spec.table)} ({names}) VALUES ({literals})", note)

    def update(self, row: SourceRow, changes: dict[str, str | None]) -> None:
        sets = ", ".join(f"{ident(n)} = {'NULL' if v is None else v}" for n, v in changes.items())
        self.run(f"UPDATE {ident(self.spec.table)} SET {sets} WHERE {row.ctid} LIMIT 1")

    def delete(self, row: SourceRow) -> None:
        shown = dict(zip([c.name for c in self.spec.columns], row.texts, strict=True))
        self.run(f"DELETE FROM {ident(self.spec.table)} WHERE {row.ctid} LIMIT 1", f"row {shown!r}")

    def widen(self, column: Column) -> bool:
        wider = TYPES[column.pg.widen_to]
        if not self.run(f"ALTER TABLE {ident(self.spec.table)} MODIFY {ident(column.name)} {wider.sql}"):
            return False
        column.type = wider.key
        return True

    def draw_key(self, data: st.DataObject, readable_only: bool = False) -> str | None:
        """A replication key at or above the highest so far (ties included), or one no cursor reads."""
        key = self.spec.column(self.spec.key or "")
        specials = [] if readable_only else unreadable_keys(key.type, self.off)
        self.last_key = None
        if specials and data.draw(st.integers(0, 7), label="unreadable key?") == 0:
            return data.draw(st.sampled_from(specials), label="unreadable key")
        kind, (low, high) = self.spec.key_kind, key_limits(key.type)
        if self.high is None:
            start, unit = {"int": (0, 1), "date": (19_700, 1), "timestamp": (19_700 * DAY_US, 3_600_000_000)}[kind]
            near = st.integers(-50, 50).map(lambda n: max(low, start + n * unit))
            value = data.draw(st.one_of(near, near, near, st.just(low), st.just(high)), label="first key")
        else:
            value = min(self.high + data.draw(st.sampled_from(KEY_STEPS[kind]), label="key step"), high)
        self.high = value if self.high is None else max(self.high, value)
        self.last_key = value
        return render_key(key.type, value)

    def draw_pk(self, data: st.DataObject, rows: list[SourceRow]) -> dict[str, str | None]:
        """Fresh primary-key values; for a key given only in YAML, sometimes NULL, a copy, or a
        twin under the column's collation (another case, a trailing space): a distinct key."""
        spec = self.spec
        choice = data.draw(st.integers(0, 14), label="pk fault?") if spec.faulty_keys else 9
        if choice == 0:
            return {name: None for name in spec.pk}
        if choice == 1 and rows:
            row = data.draw(st.sampled_from(rows), label="pk copied from")
            return {name: row.texts[spec.index(name)] for name in spec.pk}
        self.next_pk += data.draw(st.integers(1, 3), label="pk step")
        n = self.next_pk
        text_key = any(spec.column(name).type in TEXT_PK_TYPES for name in spec.pk)
        non_ascii = text_key and "non_ascii_keys" not in self.off and data.draw(st.booleans(), label="non-ASCII?")
        text = f"k{n}" + data.draw(st.sampled_from(NON_ASCII_SUFFIXES if non_ascii else PLAIN_SUFFIXES))
        if non_ascii and rows and data.draw(st.integers(0, 3), label="collation twin?") == 0:
            text = data.draw(st.sampled_from([text.upper(), text + " ", text.swapcase()]), label="twin")
        fresh = {"int": str(n), "bigint_u": str(2**63 + n * 7), "bool_key": str(n % 128), "bool": str(n % 128)}
        fresh |= {t: text_literal(text) for t in TEXT_PK_TYPES}
        return {name: fresh[spec.column(name).type] for name in spec.pk}

    def draw_row(self, data: st.DataObject, rows: list[SourceRow], cursor: int | None) -> dict[str, str | None]:
        spec = self.spec
        row = self.draw_pk(data, rows) if spec.pk else {}
        if spec.key:
            row[spec.key] = self.draw_key(data)
        for column in spec.columns:
            if column.name not in row:
                row[column.name] = data.draw(values(column.type, self.off), label=column.name)
        return {c.name: row[c.name] for c in spec.columns}

    def bulk_insert(self, data: st.DataObject, rows: list[SourceRow], cursor: int | None) -> None:
        """Many rows at once (a recursive CTE): one drawn row repeated, with fresh primary keys, and
        either one replication key for all (a large tie) or keys counting up from it."""
        spec, n = self.spec, data.draw(st.sampled_from([50, 400, 2000]), label="bulk rows")
        row = self.draw_row(data, rows, cursor)
        exprs = {c.name: "NULL" if row[c.name] is None else str(row[c.name]) for c in spec.columns}
        first = self.next_pk + 1
        self.next_pk += n + 1
        series = {"int": "({f} + g.n)", "bigint_u": f"({2**63} + ({{f}} + g.n) * 7)", "bool_key": "(({f} + g.n) % 128)",
                  "bool": "(({f} + g.n) % 128)"}  # fmt: skip
        series |= {t: "CONCAT('k', {f} + g.n, '''\"')" for t in TEXT_PK_TYPES}
        for name in spec.pk:
            exprs[name] = series[spec.column(name).type].format(f=first)
        if spec.key and self.last_key is not None and data.draw(st.booleans(), label="keys count up?"):
            kind = spec.key_kind
            unit = 1_000_000 if kind == "timestamp" else 1
            if self.last_key + n * unit <= key_limits(spec.column(spec.key).type)[1]:
                step = {"timestamp": "INTERVAL g.n SECOND", "date": "INTERVAL g.n DAY"}.get(kind, "g.n")
                exprs[spec.key] = f"{exprs[spec.key]} + {step}"
                self.high = self.last_key + n * unit
        names = ", ".join(ident(c.name) for c in spec.columns)
        select = ", ".join(exprs[c.name] for c in spec.columns)
        cte = f"WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {n})"
        self.run(f"INSERT INTO {ident(spec.table)} ({names}) {cte} SELECT {select} FROM g")
