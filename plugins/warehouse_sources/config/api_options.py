"""The API kinds' reader options (no pydantic: the plan carries them to every task)."""

from __future__ import annotations

from dataclasses import dataclass, field

from warehouse_sources.config.options import ReaderOptions


@dataclass(frozen=True)
class ApiOptions(ReaderOptions):
    """HubSpot: the chosen properties by object (an object not named reads every property)."""

    properties: dict[str, tuple[str, ...]] = field(default_factory=dict)
