"""A source about to be saved, checked against its database's catalog the way a sync checks it first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from warehouse_sources.web import link_connect
from warehouse_sources.web.link_save import FieldErrors, catalog_problems

if TYPE_CHECKING:
    from warehouse_sources.web.link_save import Draft


def check_against_source(draft: Draft) -> None:
    """FieldErrors for a table, replication key or primary key the database does not have (or whose
    type cannot be a cursor). A database that cannot be reached now is not checked: the sync checks
    again before any data moves, and a source must stay editable while its database is down."""
    plan = draft.plan
    if not link_connect.is_database(plan.kind):
        return
    probe = link_connect.Probe(plan.kind, plan.conn_id, plan.ssh_conn_id)

    def run() -> list[dict[str, object]]:
        with link_connect.open_reader(probe) as reader:
            return catalog_problems(draft, reader.describe, reader.cursor_type_names)

    try:
        problems = link_connect.bounded(run, link_connect.LIST_SECONDS, f"connection {plan.conn_id!r}")
    except link_connect.UnknownConnection as exc:
        raise FieldErrors([{"loc": ["conn_id"], "msg": str(exc), "type": "value_error"}]) from None
    except Exception:  # unreachable, or a catalog the user may not read: the sync's own checks report it
        return
    if problems:
        raise FieldErrors(problems)
