"""JSON in and out of the link-a-source routes (DESIGN §4.9). Request bodies refuse unknown keys."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConnectionTestBody(Body):
    kind: str = Field(min_length=1, max_length=40, description="the source kind the connection is for")
    ssh_conn_id: str | None = Field(
        default=None, min_length=1, max_length=250, description="an Airflow SSH connection to tunnel through"
    )
    url: str | None = Field(
        default=None, min_length=1, max_length=2000, description="a bucket source's url, to list (s3 kind)"
    )


class ConnectionTestAnswer(BaseModel):
    ok: bool
    error: str | None = Field(default=None, description="the server's own message, every secret stripped")
    tables: int | None = Field(default=None, description="tables and views the connection may read")


class FormField(BaseModel):
    name: str
    label: str
    type: str = Field(description="text | password | integer | boolean | select | textarea")
    secret: bool = False
    required: bool = False
    default: Any = None
    help: str = ""
    choices: list[str] = Field(default_factory=list)
    conn_attr: str = Field(description="where the value goes in the Airflow connection: host, port, extra.<key>, ...")


class KindInfo(BaseModel):
    kind: str
    label: str
    description: str = ""
    conn_types: list[str] = Field(description="Airflow connection types this kind accepts; the first is created")
    fields: list[FormField]
    table_form: str | None = Field(default=None, description="how a table is named, e.g. 'database.table'")
    tunnel: bool = Field(default=False, description="may be reached through an SSH bastion (ssh_tunnel.conn_id)")
    bucket: bool = Field(default=False, description="tables are file patterns under the source's url")


class KindList(BaseModel):
    kinds: list[KindInfo]


class CatalogColumn(BaseModel):
    name: str
    type: str
    replication_key: bool
    reason: str | None = Field(default=None, description="why the column cannot be a replication key")


class CatalogTable(BaseModel):
    name: str = Field(description="as a source file names it: schema.table (database.table for MySQL)")
    type: str = Field(default="table", description="table | view")
    primary_key: list[str]
    rows_estimate: int | None
    columns: list[CatalogColumn]
    files: list[str] | None = Field(default=None, description="bucket: the files the pattern matches")


class CatalogAnswer(BaseModel):
    tables: list[CatalogTable]
    truncated: bool = Field(default=False, description="more tables exist than were listed")


class SaveAnswer(BaseModel):
    name: str
    dag_id: str
    file: str = Field(description="the source file, relative to sources_dir")
    resync: bool = Field(default=False, description="a change invalidated stored state: the next run rebuilds")
    resync_tables: list[str] = Field(default_factory=list, description="synced names of the tables rebuilt")


class SourceConfigAnswer(BaseModel):
    source: dict[str, Any]
    yaml: str
