"""Declarative REST sources: an API object is a definition (sources/rest/spec.py), read by one reader.

A service (Stripe, HubSpot) adds its objects and a small dialect (how it pages, how it tells
what changed); the client (retries, errors, secrets) and the reader (the SourceReader protocol,
Arrow batches) are shared. Names are imported on first use, so registering a kind imports no HTTP client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from warehouse_sources.sources.lazy import lazy_names

if TYPE_CHECKING:
    from warehouse_sources.sources.rest.client import ApiClient
    from warehouse_sources.sources.rest.reader import RestReader
    from warehouse_sources.sources.rest.spec import ApiField, ObjectSpec

__all__ = ["ApiClient", "ApiField", "ObjectSpec", "RestReader"]
_HOMES = {
    "ApiClient": "warehouse_sources.sources.rest.client",
    "RestReader": "warehouse_sources.sources.rest.reader",
    "ApiField": "warehouse_sources.sources.rest.spec",
    "ObjectSpec": "warehouse_sources.sources.rest.spec",
}

__getattr__ = lazy_names(__name__, _HOMES)
