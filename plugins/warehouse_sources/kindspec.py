"""What a source kind declares (`KindSpec`) and the fields of its link-a-source form (`FormField`).

Plain frozen data, apart from registry.py so that a kind's entry (sources/<kind>/kind.py) can build
one without importing the registry that lists it. Import these names from `warehouse_sources.registry`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FieldType = Literal["text", "password", "integer", "boolean", "select", "textarea"]
FIELD_TYPES: tuple[FieldType, ...] = ("text", "password", "integer", "boolean", "select", "textarea")
CONN_ATTRS = ("host", "port", "login", "password", "schema")


@dataclass(frozen=True)
class FormField:
    """One input of a kind's link-a-source form: what it asks and which connection attribute it fills."""

    name: str  # e.g. "host", "password", "extra.account"
    label: str
    type: FieldType
    secret: bool = False  # never shown back, logged or returned once saved
    required: bool = False
    default: str | int | bool | None = None
    help: str = ""
    choices: tuple[str, ...] = ()  # type "select" only
    conn_attr: str = ""  # host, port, login, password, schema, or "extra.<key>"; "" = same as name

    def __post_init__(self) -> None:
        attr = self.target
        if attr not in CONN_ATTRS and not (attr.startswith("extra.") and len(attr) > len("extra.")):
            raise ValueError(
                f"form field {self.name!r}: conn_attr {attr!r} must be one of {CONN_ATTRS} or 'extra.<key>'"
            )
        if (self.type == "select") != bool(self.choices):
            raise ValueError(f"form field {self.name!r}: choices go with type 'select', and it needs them")

    @property
    def target(self) -> str:
        """The Airflow connection attribute this field fills."""
        return self.conn_attr or self.name


@dataclass(frozen=True)
class KindSpec:
    """Everything a source kind varies in; heavy things (models, readers, drivers) by dotted path.

    `open_reader` is a "module:function" taking (SourcePlan, TablePlan, log) and returning a context
    manager of an open SourceReader: it resolves the Airflow connection, opens any tunnel and turns a
    failed connection into one clear error. Database kinds share airflow/readers.py's, which reads
    `target` (Airflow connection -> SourceTarget) and `reader` (a reader class taking a URI).
    Which driver errors no retry can fix comes with the reader (`error_sqlstate`; for the SQL kinds
    their dialect's `classify`), so the engine asks the reader it was handed, not the registry.
    """

    name: str  # the YAML `kind` value
    label: str  # what people read: "PostgreSQL"
    conn_types: tuple[str, ...]  # Airflow connection types accepted
    model: str  # "module:Class" of its config model (a SourceConfig with `kind: Literal[name]`)
    open_reader: str  # "module:function" (SourcePlan, TablePlan, log) -> context manager of an open reader
    form: tuple[FormField, ...]  # the link-a-source form for this kind's connection
    reader: str = ""  # "module:Class" of its SourceReader, for kinds opened from a URI
    target: str = ""  # "module:function" Airflow connection -> SourceTarget, for kinds opened from a URI
    tunnel: bool = False  # accepts an `ssh_tunnel:` block (reached through a bastion host)
    probe_table: str = ""  # for kinds with neither a URI nor a url (API kinds): the object a connection test opens
    # How OpenLineage names the kind's tables (airflow/lineage.py): `<kind>://host:port` with this port when the
    # connection has none, the connection's database in the name (database.schema.table), or an API's own URL.
    default_port: int | None = None
    database_in_name: bool = False
    api_base: str = ""  # the public API's URL, when the connection's host does not name another
    description: str = ""  # one line for docs and the link form

    def __post_init__(self) -> None:
        for attr in ("model", "open_reader", "reader", "target"):
            value = getattr(self, attr)
            if value and value.count(":") != 1:
                raise ValueError(f"kind {self.name!r}: {attr} {value!r} must be a dotted 'module:attribute'")
        names = [f.name for f in self.form]
        if len(set(names)) != len(names):
            raise ValueError(f"kind {self.name!r}: form field names repeat: {names}")
