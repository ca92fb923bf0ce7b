"""Source file -> the model of its kind, and the JSON Schema of every kind, both from the registry.

A source file is one member of a union discriminated on `kind`; the members are the models the
kind registry (warehouse_sources/registry.py) names, in its order, so config/models.py knows no
kind. `parse_source` is the one way to validate a source file's data.
"""

from __future__ import annotations

import operator
from functools import cache, reduce
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, TypeAdapter

from warehouse_sources.config.models import SourceConfig
from warehouse_sources.registry import KINDS, load


def _models() -> dict[str, type[SourceConfig]]:
    models: dict[str, type[SourceConfig]] = {}
    for name, spec in KINDS.items():
        model = load(spec.model)
        if not (isinstance(model, type) and issubclass(model, SourceConfig)):
            raise TypeError(f"kind {name!r}: model {spec.model!r} is not a SourceConfig subclass")
        models[name] = model
    return models


SOURCE_MODELS: dict[str, type[SourceConfig]] = _models()
"""Each kind's config model, by kind name, in the registry's order."""


def _refuse_kind(value: object) -> object:
    raise ValueError(f"{value!r} is not a source kind; write one of: {', '.join(map(repr, KINDS))}")


class UnknownKindSource(SourceConfig):
    """What a file of no known kind is checked against: its `kind` fails with the kinds listed, and
    the shared fields are still checked, so every problem is reported at once."""

    kind: Annotated[Any, BeforeValidator(_refuse_kind)] = Field(description="source kind")


def parse_source(data: Any) -> SourceConfig:
    """Validate a source file's data with the model of its `kind` (pydantic's ValidationError if invalid)."""
    kind = data.get("kind") if isinstance(data, dict) else None
    model = SOURCE_MODELS.get(kind) if isinstance(kind, str) else None
    return (model or UnknownKindSource).model_validate(data)


@cache
def _any_source() -> TypeAdapter[Any]:
    union = reduce(operator.or_, SOURCE_MODELS.values())
    any_source: Any = Annotated[union, Field(discriminator="kind")]  # built at run time: no static type
    return TypeAdapter(any_source)


def source_json_schema() -> dict[str, Any]:
    """The JSON Schema of a source file: a oneOf of every kind's model, discriminated on `kind`."""
    return _any_source().json_schema()
