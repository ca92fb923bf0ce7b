"""The DAGs that consume each synced table's Asset (issue 22), as the Sources page shows them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from warehouse_sources.shared.asset_names import asset_uri
from warehouse_sources.web import records
from warehouse_sources.web.auth import readable_dag_ids

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from warehouse_sources.plan import TablePlan


def table_consumers(session: Session, tables: Sequence[TablePlan], user: Any) -> dict[str, list[str]]:
    """Per synced name, the DAGs scheduled on its `warehouse://` asset that `user` may read: a DAG
    the user may not see is left out, not named, as Airflow's own DAG list leaves it out."""
    names = {asset_uri(t.synced_name): t.synced_name for t in tables}
    uris = [*names, *(f"{uri}/" for uri in names)]  # Airflow stores `warehouse://x` as `warehouse://x/`
    found: dict[str, list[str]] = {name: [] for name in names.values()}
    for uri, dag_ids in records.asset_consumers(session, uris).items():
        found[names[uri.removesuffix("/")]].extend(dag_ids)
    readable = readable_dag_ids(user, sorted({d for dag_ids in found.values() for d in dag_ids}))
    return {name: sorted({d for d in dag_ids if d in readable}) for name, dag_ids in found.items()}
