"""The API kinds' reader options (no pydantic: the plan carries them to every task)."""

from __future__ import annotations

from dataclasses import dataclass, field

from warehouse_sources.config.options import ReaderOptions


@dataclass(frozen=True)
class ApiOptions(ReaderOptions):
    """HubSpot, by object: the chosen properties (an object not named reads every property), the
    associations read as id lists, and the properties kept as text whatever their declared type."""

    properties: dict[str, tuple[str, ...]] = field(default_factory=dict)
    associations: dict[str, tuple[str, ...]] = field(default_factory=dict)
    text_properties: dict[str, tuple[str, ...]] = field(default_factory=dict)
