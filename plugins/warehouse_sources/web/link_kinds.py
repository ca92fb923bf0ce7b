"""`GET /api/kinds`: every source kind with its connection types and form fields, from the kind registry.

Each kind declares its form once (its registry entry, `KindSpec.form`); the UI draws the form from
this answer, so a new kind brings its form with it. `conn_attr` is the Airflow connection attribute
a value fills (`host`, `port`, `schema`, `login`, `password`, or `extra.<key>`). What goes in the
source file instead is told by `table_form`, `tunnel` (an `ssh_tunnel:` block) and `bucket` (a url).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from warehouse_sources.web.link_models import FormField, KindInfo, KindList

if TYPE_CHECKING:
    from warehouse_sources.registry import FormField as DeclaredField
    from warehouse_sources.registry import KindSpec


def _field(spec: DeclaredField) -> FormField:
    return FormField(
        name=spec.name,
        label=spec.label,
        type=spec.type,
        secret=spec.secret,
        required=spec.required,
        default=spec.default,
        help=spec.help,
        choices=list(spec.choices),
        conn_attr=spec.target,
    )


def _kind(spec: KindSpec) -> KindInfo:
    from warehouse_sources.registry import load

    model = load(spec.model)
    return KindInfo(
        kind=spec.name,
        label=spec.label,
        description=spec.description,
        conn_types=list(spec.conn_types),
        fields=[_field(f) for f in spec.form],
        table_form=getattr(model, "table_form", None),
        tunnel=spec.tunnel,
        bucket="url" in model.model_fields,
    )


def list_kinds() -> KindList:
    """Every registered kind, in the registry's order."""
    from warehouse_sources.registry import KINDS

    return KindList(kinds=[_kind(spec) for spec in KINDS.values()])
