"""The table of one MySQL fuzzer example (names, types, method, keys), drawn whole.

`MySQLSpec` reuses the PostgreSQL fuzzer's `TableSpec` (so its oracle, differential_oracle.py,
checks MySQL tables too) with columns typed from differential_mysql_types.py. Names are hostile
but legal for MariaDB: no trailing space, and unique under its case- and accent-insensitive
comparison of column names (a name it still takes as a twin makes the example rejected).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from hypothesis import strategies as st

from tests.reliability.differential_mysql_types import KEY_TYPES, PK_TYPES, TYPES, VALUE_TYPES, Off
from tests.reliability.differential_support import Column, TableSpec
from tests.reliability.differential_types import PgType

NASTY_NAMES = ["id", "a`b", "O'Reilly", "Mixed Case", "select", "Ünïcødé", "表", " lead", "x.y", "%s", 'a"b', "key"]


@dataclass
class MySQLColumn(Column):
    @property
    def pg(self) -> PgType:
        return TYPES[self.type]


@dataclass
class MySQLSpec(TableSpec):
    @property
    def key_kind(self) -> str:
        storage = TYPES[self.column(self.key or "").type].storage
        return storage if storage in ("date", "timestamp") else "int"


def _fold(name: str) -> str:
    """Column names equal for MariaDB (case- and accent-insensitive) fold to one value."""
    return "".join(c for c in unicodedata.normalize("NFKD", name.casefold()) if not unicodedata.combining(c))


def names(size: int) -> st.SearchStrategy[str]:
    alphabet = st.characters(min_codepoint=0x20, max_codepoint=0xFFFF, blacklist_categories=("Cs", "Cc"))
    text = st.text(alphabet, min_size=1, max_size=size)
    return (
        st.one_of(st.sampled_from(NASTY_NAMES), text, st.builds(str.__add__, st.sampled_from(NASTY_NAMES), text))
        .map(lambda n: n[:size].rstrip())  # MySQL names cannot end with a space
        .filter(lambda n: bool(n) and not n.casefold().startswith("_ws_"))
    )


@st.composite
def table_specs(draw: st.DrawFn, method: str, off: Off) -> MySQLSpec:
    pk_count = draw(st.integers(1, 2)) if method == "incremental" else draw(st.sampled_from([0, 0, 1]))
    others = draw(st.lists(st.sampled_from(VALUE_TYPES), min_size=1, max_size=5))
    if "widenings" not in off and draw(st.booleans()):
        others.append(draw(st.sampled_from([k for k, t in TYPES.items() if t.widen_to])))
    key_type = draw(st.sampled_from(KEY_TYPES))
    pk_types = draw(st.lists(st.sampled_from(PK_TYPES), min_size=pk_count, max_size=pk_count))
    table = draw(names(20))
    count = 1 + pk_count + len(others)
    key, *rest = draw(st.lists(names(40), min_size=count, max_size=count, unique_by=_fold))
    constraint = pk_count > 0 and (method != "incremental" or draw(st.booleans()))
    pk_types = [t if constraint or t != "bool_key" else "bool" for t in pk_types]  # stored as boolean without a key
    columns = [MySQLColumn(key, key_type)] + [MySQLColumn(n, t) for n, t in zip(rest, pk_types + others, strict=True)]
    spec = MySQLSpec(
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
        windows = [1, 3, 2**62] if spec.key_kind == "int" else [timedelta(hours=1), timedelta(days=1)]
        spec.lookback = draw(st.sampled_from(windows))
    spec.batch_bytes = draw(st.sampled_from([None, 200, 20_000]))
    return spec
