"""The API kinds' source models: `kind: stripe` and `kind: hubspot` (DESIGN §4.1, issue 21).

Tables name the API's objects; the replication key is chosen per object (Stripe: `created` for
append_only, `changed_at` for incremental; HubSpot: `createdate` for append_only, the object's
last-modified property for incremental), so a table entry needs only `name` and `sync`. What
each object offers is listed here as plain data (config cannot import sources/);
tests/unit/sources/test_api_kinds.py checks it against the readers' own declarations.

Deletions: the API reports them (Stripe's `*.deleted` events, HubSpot's archived records), so an
incremental object that has them gets `deletes: hard` unless the table sets `soft`; the reported
deletion rides the engine's `deletes_column` path on the reader's own `_ws_deleted_at` column.
There is no key set to compare, so `deletes` on an object the API reports no deletions of, and
`deletes_column` or `deletes_every`, are refused here rather than at run time.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import Field, field_validator, model_validator

from warehouse_sources.config.api_options import ApiOptions
from warehouse_sources.config.models import DeleteMode, SourceConfig, TableConfig, TableName

ALL = ("full_table", "incremental", "append_only")
ONCE = ("full_table", "append_only")
STRIPE_OBJECTS: dict[str, tuple[str, ...]] = {
    "charges": ALL, "customers": ALL, "invoices": ALL, "subscriptions": ALL, "products": ALL, "prices": ALL,
    "refunds": ALL, "payment_intents": ALL, "balance_transactions": ONCE, "events": ONCE,
}  # fmt: skip
STRIPE_KEYS = {"incremental": "changed_at", "append_only": "created"}
HUBSPOT_OBJECTS: dict[str, tuple[str, ...]] = {
    "contacts": ALL, "companies": ALL, "deals": ALL, "tickets": ALL, "owners": ("full_table",),
}  # fmt: skip
STRIPE_DELETIONS = frozenset({"customers", "invoices", "products", "prices"})  # objects with *.deleted events
HUBSPOT_DELETIONS = frozenset({"contacts", "companies", "deals", "tickets"})  # archived records
HubSpotCrmObject = Literal["contacts", "companies", "deals", "tickets"]  # the objects that have associations
DELETED_AT = "_ws_deleted_at"  # the reader's column: when the API said the object was deleted or archived
HUBSPOT_KEYS = {"contacts": "lastmodifieddate", "companies": "hs_lastmodifieddate", "deals": "hs_lastmodifieddate",
                "tickets": "hs_lastmodifieddate"}  # fmt: skip


class ApiTableConfig(TableConfig):
    """One API object and how it syncs; the replication key is the object's own (set it only to confirm it)."""

    service: ClassVar[str] = ""
    objects: ClassVar[dict[str, tuple[str, ...]]] = {}
    deletions: ClassVar[frozenset[str]] = frozenset()

    name: TableName = Field(description="the API's object name; synced table name = table_prefix + name")
    primary_key: list[Annotated[str, Field(min_length=1)]] | None = Field(
        None, description="always the object's id; leave it out"
    )
    deletes: DeleteMode = Field(
        "none",
        description="incremental objects the API reports deletions of: hard (default: the row is removed) | "
        "soft (kept, with _ws_deleted_at set to when the API deleted or archived it)",
    )
    deletes_column: str | None = Field(None, exclude=True, description="set by the kind: the reader's _ws_deleted_at")

    @classmethod
    def default_key(cls, name: str, sync: str) -> str | None:
        raise NotImplementedError

    @model_validator(mode="before")
    @classmethod
    def _object_key(cls, data: Any) -> Any:
        """Fill the object's replication key for the method, before the shared checks need it."""
        if isinstance(data, dict) and isinstance(data.get("name"), str):
            cls._offered(data["name"], str(data.get("sync", "full_table")))
        if isinstance(data, dict) and data.get("replication_key") is None and isinstance(data.get("name"), str):
            key = cls.default_key(data["name"], str(data.get("sync", "full_table")))
            if key is not None:
                return {**data, "replication_key": key}
        return data

    @model_validator(mode="before")
    @classmethod
    def _reported_deletes(cls, data: Any) -> Any:
        """Hard unless soft is set, where the API reports deletions; refused where it reports none."""
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            return data
        name, mode = data["name"], data.get("deletes")
        for option in ("deletes_column", "deletes_every"):
            if data.get(option) is not None:
                raise ValueError(f"{name}: {option} does not apply to {cls.service} objects: the API reports "
                                 "deletions itself, with every read; remove it")  # fmt: skip
        if data.get("sync") != "incremental":
            return data  # the shared check refuses deletes on other methods
        if name not in cls.deletions:
            if mode not in (None, "none"):
                raise ValueError(f"{name}: {cls.service} reports no deletions of {name}, and API objects have no "
                                 "key set to compare; remove deletes")  # fmt: skip
            return data
        if mode == "none":
            raise ValueError(f"{name}: deletes: none is not offered: {cls.service} reports each deleted object; "
                             "write deletes: hard (the default: the row is removed) or soft (kept, with "
                             "_ws_deleted_at set)")  # fmt: skip
        return {**data, "deletes": mode or "hard", "deletes_column": DELETED_AT}

    @field_validator("name")
    @classmethod
    def _name_has_table(cls, value: str) -> str:
        if value not in cls.objects:
            raise ValueError(f"{value!r} is not a {cls.service} object this kind reads; write one of: "
                             f"{', '.join(cls.objects)}")  # fmt: skip
        return value

    @field_validator("primary_key")
    @classmethod
    def _id_key(cls, value: list[str] | None) -> list[str] | None:
        if value not in (None, ["id"]):
            raise ValueError(f"{value!r}: {cls.service} objects merge on their id; remove primary_key")
        return value

    @classmethod
    def _offered(cls, name: str, sync: str) -> None:
        offered = cls.objects.get(name, (sync,))
        if sync not in offered:
            raise ValueError(f"{name}: sync {sync} is not offered for this object; use "
                             f"{' or '.join(offered)} (the README's table says why)")  # fmt: skip

    @model_validator(mode="after")
    def _method_offered(self) -> ApiTableConfig:
        expected = self.default_key(self.name, self.sync)
        if self.replication_key != expected:
            raise ValueError(f"{self.name}: replication_key is {expected!r} for sync {self.sync}; remove it")
        return self


class StripeTableConfig(ApiTableConfig):
    service: ClassVar[str] = "Stripe"
    objects: ClassVar[dict[str, tuple[str, ...]]] = STRIPE_OBJECTS
    deletions: ClassVar[frozenset[str]] = STRIPE_DELETIONS

    @classmethod
    def default_key(cls, name: str, sync: str) -> str | None:
        return STRIPE_KEYS.get(sync)


class HubSpotTableConfig(ApiTableConfig):
    service: ClassVar[str] = "HubSpot"
    objects: ClassVar[dict[str, tuple[str, ...]]] = HUBSPOT_OBJECTS
    deletions: ClassVar[frozenset[str]] = HUBSPOT_DELETIONS

    properties: list[Annotated[str, Field(min_length=1)]] | None = Field(
        None, description="the properties to read as columns; default: every property of the object"
    )
    associations: list[HubSpotCrmObject] | None = Field(
        None,
        description="the objects whose associated ids to read, each as a column associated_<object> holding the "
        "sorted id list (e.g. [contacts, companies] on deals); default: none",
    )
    text_properties: list[Annotated[str, Field(min_length=1)]] | None = Field(
        None,
        description="properties kept as text whatever type HubSpot declares for them (the others are typed: "
        "number as double, datetime as UTC timestamp, date as date, bool as boolean)",
    )

    @classmethod
    def default_key(cls, name: str, sync: str) -> str | None:
        if sync == "append_only" and name in HUBSPOT_KEYS:
            return "createdate"  # the append-only cursor: never changes (the reader lists by it)
        return HUBSPOT_KEYS.get(name) if sync == "incremental" else None

    @model_validator(mode="after")
    def _crm_only(self) -> HubSpotTableConfig:
        for option in ("properties", "associations", "text_properties"):
            if getattr(self, option) and self.name not in get_args(HubSpotCrmObject):
                raise ValueError(f"{self.name}: {option} applies to CRM objects (contacts, companies, deals, "
                                 "tickets); remove it")  # fmt: skip
        if self.associations and len(set(self.associations)) != len(self.associations):
            raise ValueError(f"{self.name}: associations names an object twice; name each once")
        return self


class ApiSource(SourceConfig):
    """Shared by the API kinds: objects, not schemas."""

    conn_id: Annotated[str, Field(min_length=1, max_length=250)] = Field(
        description="Airflow connection (type http or generic): password = the secret key or token; host, when "
        "set, the API's base URL (a proxy or a test server)"
    )

    def schema_and_table(self, table: TableConfig) -> tuple[str, str]:
        return "", table.name

    def synced_name(self, table: TableConfig) -> str:
        return table.synced_name or self.table_prefix + table.name


class StripeSource(ApiSource):
    """A Stripe account, read through its API."""

    kind: Literal["stripe"] = Field(description="stripe: a Stripe account's objects")
    # Narrower than the base's list[TableConfig]; sound since nothing appends to a validated source.
    tables: list[StripeTableConfig] = Field(min_length=1, description="the objects to sync")  # type: ignore[assignment]


class HubSpotSource(ApiSource):
    """A HubSpot account's CRM objects, read with a private-app token."""

    kind: Literal["hubspot"] = Field(description="hubspot: a HubSpot account's CRM objects")
    tables: list[HubSpotTableConfig] = Field(min_length=1, description="the objects to sync")  # type: ignore[assignment]

    def reader_options(self) -> ApiOptions:
        def by_object(option: str) -> dict[str, tuple[str, ...]]:
            return {t.name: tuple(getattr(t, option)) for t in self.tables if getattr(t, option)}

        return ApiOptions(properties=by_object("properties"), associations=by_object("associations"),
                          text_properties=by_object("text_properties"))  # fmt: skip
