"""Generation for the differential fuzzer: the table of one example (names, types, method, keys).

A `TableSpec` is drawn whole: hostile names (unique but for an occasional case twin), a
replication key, primary-key columns (a constraint, or only given in YAML, sometimes faulty),
value columns of every mapped type, a lookback and the reader's batch size. The changes between
syncs are drawn later, one by one, against the source as it is (differential_source.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from tests.reliability.differential_types import (
    KEY_TYPES,
    PK_TYPES,
    TYPES,
    VALUE_TYPES,
    Off,
    PgType,
    text_alphabet,
)
from tests.reliability.differential_values import DAY_US, EPOCH

METHODS = ("full_table", "incremental", "append_only")
MAX_NAME_BYTES = 63
NASTY_NAMES = ["id", "Id", 'a"b', "O'Reilly", "Mixed Case", "select", "Ünïcødé", "表", "emoji 🐘", " lead", "x.y", "%s"]
KEY_LIMITS = {  # readable replication-key values (README: a cursor holds years 1..9999)
    "int4": (-(2**31), 2**31 - 1),
    "int8": (-(2**63), 2**63 - 1),
    "date": ((datetime(1, 1, 1, tzinfo=UTC) - EPOCH).days, (datetime(9999, 12, 31, tzinfo=UTC) - EPOCH).days),
    "timestamp": (
        (datetime(1, 1, 1, tzinfo=UTC) - EPOCH) // timedelta(microseconds=1),
        (datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC) - EPOCH) // timedelta(microseconds=1),
    ),
}
MAX_LOOKBACK = timedelta(days=3650)  # the longest lookback the YAML accepts
KEY_STEPS = {"int4": [0, 0, 1, 3, 1000], "date": [0, 0, 1, 30], "timestamp": [0, 0, 1, 1_000_000, DAY_US]}


def names(off: Off) -> st.SearchStrategy[str]:
    text = st.text(text_alphabet(off), min_size=1, max_size=12)
    return (
        st.one_of(st.sampled_from(NASTY_NAMES), text, st.builds(str.__add__, st.sampled_from(NASTY_NAMES), text))
        .map(lambda n: n.encode()[:MAX_NAME_BYTES].decode(errors="ignore"))
        .filter(lambda n: bool(n) and not n.casefold().startswith("_ws_"))
    )


@dataclass
class Column:
    name: str
    type: str  # key of TYPES; changes when the column is widened

    @property
    def pg(self) -> PgType:
        return TYPES[self.type]


@dataclass
class TableSpec:
    table: str
    columns: list[Column]
    method: str
    key: str | None  # replication key column
    pk: tuple[str, ...] = ()  # primary key columns (constraint, YAML, or both)
    pk_constraint: bool = False
    yaml_pk: bool = False
    faulty_keys: bool = False  # a YAML-only key that gets NULLs and duplicates
    lookback: int | timedelta | None = None  # incremental only
    batch_bytes: int | None = None  # the reader's batch size hint: tiny ones split every read into many batches

    @property
    def key_kind(self) -> str:
        """int, date or timestamp: what a readable key value counts (values, days, microseconds)."""
        key = self.column(self.key or "").type
        return "int" if key in ("int4", "int8") else "date" if key == "date" else "timestamp"

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def index(self, name: str) -> int:
        return [c.name for c in self.columns].index(name)

    @property
    def case_twins(self) -> list[str]:
        seen: dict[str, str] = {}
        for c in self.columns:
            if seen.setdefault(c.name.casefold(), c.name) != c.name:
                return [seen[c.name.casefold()], c.name]
        return []


@st.composite
def table_specs(draw: st.DrawFn, method: str, off: Off) -> TableSpec:
    pk_count = draw(st.integers(1, 2)) if method == "incremental" else draw(st.sampled_from([0, 0, 1]))
    others = draw(st.lists(st.sampled_from(VALUE_TYPES), min_size=1, max_size=5))
    if "widenings" not in off and draw(st.booleans()):  # a column the steps can widen, in half the tables
        others.append(draw(st.sampled_from([k for k, t in TYPES.items() if t.widen_to])))
    key_type = draw(st.sampled_from(KEY_TYPES))
    pk_types = draw(st.lists(st.sampled_from(PK_TYPES), min_size=pk_count, max_size=pk_count))
    all_names = draw(
        st.lists(
            names(off),
            min_size=2 + pk_count + len(others),
            max_size=2 + pk_count + len(others),
            unique_by=(str.lower, str.casefold),
        )
    )
    table, key, *rest = all_names
    columns = [Column(key, key_type)] + [Column(n, t) for n, t in zip(rest, pk_types + others, strict=False)]
    if "case_twins" not in off and draw(st.integers(0, 19)) == 13:
        twin = next((c for c in columns if c.name.swapcase() != c.name and c.name.isascii()), None)
        if twin is not None:
            columns.append(Column(twin.name.swapcase(), draw(st.sampled_from(VALUE_TYPES))))
    constraint = pk_count > 0 and (method != "incremental" or draw(st.booleans()))
    spec = TableSpec(
        table=table,
        columns=draw(st.permutations(columns)),
        method=method,
        key=None if method == "full_table" else key,
        pk=tuple(rest[:pk_count]),
        pk_constraint=constraint,
        yaml_pk=method == "incremental" and (not constraint or draw(st.booleans())),
    )
    spec.faulty_keys = spec.yaml_pk and not constraint and "yaml_key_faults" not in off and draw(st.integers(0, 5)) == 1
    if method == "incremental" and draw(st.integers(0, 2)) == 1:
        windows = [1, 3, 2**62] if spec.key_kind == "int" else [timedelta(hours=1), timedelta(days=1), MAX_LOOKBACK]
        spec.lookback = draw(st.sampled_from(windows))
    spec.batch_bytes = draw(st.sampled_from([None, 1, 200]))
    return spec
