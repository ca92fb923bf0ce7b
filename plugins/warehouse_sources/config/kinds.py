"""Every source kind's model, as the union discriminated on `kind` that a source file is."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from warehouse_sources.config.bucket_models import S3Source
from warehouse_sources.config.database_models import MysqlSource, PostgresSource, SnowflakeSource
from warehouse_sources.config.models import SOURCE_KINDS, SourceConfig

AnySource = Annotated[PostgresSource | MysqlSource | SnowflakeSource | S3Source, Field(discriminator="kind")]
"""A source file: the member is chosen by `kind`."""

SOURCE_MODELS: dict[object, type[SourceConfig]] = {
    "postgres": PostgresSource,
    "mysql": MysqlSource,
    "snowflake": SnowflakeSource,
    "s3": S3Source,
}
assert set(SOURCE_MODELS) == set(SOURCE_KINDS), "every source kind needs its model"
