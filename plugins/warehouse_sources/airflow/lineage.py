"""What a finished sync committed, read back from the Delta table (its columns, and the files and bytes
the commit added), and the sync as an OpenLineage edge: Airflow's OpenLineage provider calls the
operator's `get_openlineage_facets_on_complete`, which returns `operator_lineage`. The asset event's
schema hash comes from the same facts. Imports of the provider stay inside the functions: a
deployment without it never loads them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from warehouse_sources.plan import SourcePlan, TablePlan


@dataclass(frozen=True)
class CommitFacts:
    """The table at the sync's version: columns (name, Delta type), and the commit's added files."""

    uri: str
    version: int
    fields: list[tuple[str, str]]
    files: int
    bytes: int


def _type_name(delta_type: Any) -> str:
    return delta_type if isinstance(delta_type, str) else json.dumps(delta_type, separators=(",", ":"))


def commit_facts(uri: str, storage_options: dict[str, str] | None, version: int) -> CommitFacts:
    """Read the table's schema at `version` and sum the add actions of that version's commit file."""
    from deltalake import DeltaTable

    from warehouse_sources.warehouse.storage import filesystem

    table = DeltaTable(uri, version=version, storage_options=storage_options)
    schema = json.loads(table.schema().to_json())
    fields = [(f["name"], _type_name(f["type"])) for f in schema["fields"]]
    store, root = filesystem(uri, storage_options)
    with store.open_input_stream(f"{root.rstrip('/')}/_delta_log/{version:020d}.json") as log:
        actions = [json.loads(line) for line in log.read().decode().splitlines() if line.strip()]
    added = [a["add"] for a in actions if "add" in a]
    return CommitFacts(uri, version, fields, len(added), sum(int(a.get("size", 0)) for a in added))


def location_dataset(uri: str) -> tuple[str, str]:
    """(namespace, name) of a storage location: `s3://bucket` + key path, or `file` + local path."""
    scheme, sep, rest = uri.partition("://")
    if not sep:
        return "file", uri
    if scheme == "file":
        return "file", "/" + rest.lstrip("/")
    bucket, _, path = rest.partition("/")
    return f"{scheme}://{bucket}", path.rstrip("/") or "/"


def source_dataset(source: SourcePlan, table: TablePlan) -> tuple[str, str]:
    """(namespace, name) of the source table as OpenLineage names it, from the source's connection
    (a bastion in between does not change where the data lives)."""
    from airflow.sdk import BaseHook

    from warehouse_sources.config.bucket import BucketOptions
    from warehouse_sources.registry import kind_spec

    if isinstance(source.options, BucketOptions):
        namespace, root = location_dataset(source.options.url)
        files = source.options.tables.get(table.table)
        pattern = getattr(files, "pattern", "") or table.table
        return namespace, f"{root.rstrip('/')}/{pattern}"
    spec = kind_spec(source.kind)
    conn = BaseHook.get_connection(source.conn_id)
    host = conn.host or str(conn.extra_dejson.get("account", ""))
    if spec.api_base:  # an API kind: its connection's host, when set, is the API's URL
        return (host or spec.api_base).rstrip("/"), table.table
    port = conn.port or spec.default_port
    database = conn.schema if spec.database_in_name else None
    name = ".".join(part for part in (database, table.schema, table.table) if part)
    return f"{source.kind}://{host}" + (f":{port}" if port else ""), name


def operator_lineage(source: SourcePlan, table: TablePlan, warehouse_uri: str, sync: dict[str, Any] | None,
                     committed: CommitFacts | None) -> Any:  # fmt: skip
    """The sync's OpenLineage edge: the source table in, the Delta table out, with the commit's facets."""
    from airflow.providers.openlineage.extractors import OperatorLineage
    from openlineage.client.event_v2 import InputDataset, OutputDataset
    from openlineage.client.facet_v2 import dataset_version_dataset, output_statistics_output_dataset, schema_dataset

    from warehouse_sources.warehouse.delta import table_uri
    from warehouse_sources.warehouse.schema import METADATA_PREFIX

    in_facets: dict[str, Any] = {}
    out_facets: dict[str, Any] = {}
    stats: dict[str, Any] = {}
    if committed is not None:
        fields = [schema_dataset.SchemaDatasetFacetFields(name=n, type=t) for n, t in committed.fields]
        out_facets["schema"] = schema_dataset.SchemaDatasetFacet(fields=fields)
        in_facets["schema"] = schema_dataset.SchemaDatasetFacet(
            fields=[f for f in fields if not f.name.startswith(METADATA_PREFIX)]
        )
        out_facets["version"] = dataset_version_dataset.DatasetVersionDatasetFacet(
            datasetVersion=str(committed.version)
        )
        rows = int(sync["rows"]) if sync else None
        stats["outputStatistics"] = output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
            rowCount=rows, size=committed.bytes, fileCount=committed.files
        )
    in_ns, in_name = source_dataset(source, table)
    out_ns, out_name = location_dataset(committed.uri if committed else table_uri(warehouse_uri, table.synced_name))
    return OperatorLineage(
        inputs=[InputDataset(namespace=in_ns, name=in_name, facets=in_facets)],
        outputs=[OutputDataset(namespace=out_ns, name=out_name, facets=out_facets, outputFacets=stats)],
    )
