"""The source kinds: one `KindSpec` entry per kind, the only place the list of kinds is written.

Everything that differs by kind is read from its entry: config model, Airflow connection types,
how a task opens its reader (and through the reader, which driver errors are final), the
link-a-source form. Nothing else switches on a kind's name. Importing this module stays cheap:
entries name their models, readers and drivers by dotted "module:attribute" paths, imported with
`load` only when used.

Adding a kind (say `kind: acme`) touches:
1. `sources/acme/`: its reader (the SourceReader protocol, sources/base.py; a SQL kind is a dialect
   under sources/sql/) and an `__init__.py` importing nothing heavy at module level;
2. its config model, a SourceConfig subclass with `kind: Literal["acme"]`, in a config/ module
   (database_models.py, bucket_models.py, api_models.py);
3. `sources/acme/kind.py`: `KIND = KindSpec(name="acme", ...)` naming the model, the reader, the
   `open_reader` (airflow/readers.py opens database and bucket kinds, airflow/api_readers.py API
   kinds; a kind that connects differently adds its function there) and its form fields;
4. one line in `KIND_MODULES` below, then `python -m warehouse_sources schema >
   include/source.schema.json`.
The YAML union and its JSON Schema, the DAG factory, the operators and the link form then know it.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from warehouse_sources.kindspec import FormField, KindSpec

__all__ = ["KINDS", "FormField", "KindSpec", "kind_names", "kind_spec", "load"]

KIND_MODULES: tuple[str, ...] = (
    "warehouse_sources.sources.postgres.kind",
    "warehouse_sources.sources.mysql.kind",
    "warehouse_sources.sources.snowflake.kind",
    "warehouse_sources.sources.bucket.kind",
    "warehouse_sources.sources.stripe.kind",
    "warehouse_sources.sources.hubspot.kind",
)
"""Each module defines `KIND`; the order is the order of the kinds in messages and the JSON Schema."""


def _entries() -> dict[str, KindSpec]:
    kinds: dict[str, KindSpec] = {}
    for module in KIND_MODULES:
        spec = import_module(module).KIND
        if not isinstance(spec, KindSpec):
            raise TypeError(f"{module}.KIND is a {type(spec).__name__}; define KIND = KindSpec(...)")
        if spec.name in kinds:
            raise ValueError(f"kind {spec.name!r} is defined twice ({module}); give each kind its own name")
        kinds[spec.name] = spec
    return kinds


KINDS: dict[str, KindSpec] = _entries()


def kind_names() -> tuple[str, ...]:
    """The kinds, in registry order."""
    return tuple(KINDS)


def kind_spec(name: str) -> KindSpec:
    """The entry of kind `name`; an unknown kind is an error listing the kinds (never a default)."""
    try:
        return KINDS[name]
    except (KeyError, TypeError):
        raise ValueError(f"{name!r} is not a source kind; write one of: {', '.join(map(repr, KINDS))}") from None


def load(dotted: str) -> Any:
    """Import "module:attribute" (the attribute may be dotted) at the moment it is needed."""
    module, colon, attr = dotted.partition(":")
    if not colon or not module or not attr:
        raise ValueError(f"{dotted!r} is not a dotted path; write 'package.module:attribute'")
    value: Any = import_module(module)
    for part in attr.split("."):
        value = getattr(value, part)
    return value
