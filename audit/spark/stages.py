"""The stages of one run on a Spark session, with the pandas engine's signatures.

The pipeline asks for its heavy stages here when the config says `engine: spark` (or a session
is passed to `pipeline.run`); each delegates to the stage's own function with the part that
needs the whole data set computed by Spark. A session this object started is stopped by
`close`; a session the caller passed is left running.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from audit.config import MatchConfig, NormalizeConfig, RulesConfig, SourceConfig, SparkConfig
from audit.match import match
from audit.match.memory import MatchMemory
from audit.model import Ingest, Issues, Matches, Records, Validation
from audit.sources import read_sources
from audit.spark import partitions, start_session
from audit.spark.match import linker


class SparkStages:
    def __init__(self, cfg: SparkConfig, spark: Any | None = None) -> None:
        self.cfg = cfg
        self.spark, self.own = (spark, False) if spark is not None else start_session(cfg)
        self.partitions = partitions(cfg, self.spark)

    def match(
        self,
        contacts: pd.DataFrame | None,
        cfg: MatchConfig,
        sources: Sequence[SourceConfig] = (),
        issues: pd.DataFrame | None = None,
        memory: MatchMemory | None = None,
    ) -> Matches:
        """`audit.match.match` with the linking (blocking, scoring) on Spark."""
        return match(
            contacts,
            cfg,
            sources,
            issues,
            memory=memory,
            linker=linker(self.spark, self.partitions, self.cfg.driver_edges),
        )

    def read_sources(self, sources: Sequence[SourceConfig], **kwargs: Any) -> Ingest:
        """`audit.sources.read_sources`, with tables and Spark-read folders read by the session."""
        from audit.spark.sources import SparkSources

        return read_sources(sources, connector=SparkSources(self.spark), **kwargs)

    def parquet(self, frame: pd.DataFrame, path: Path) -> list[Path]:
        """A large table of the run folder as a Parquet dataset folder written by Spark."""
        from audit.spark.output import write_dataset

        return write_dataset(self.spark, frame, path)

    def normalize(
        self,
        records: Records,
        cfg: NormalizeConfig,
        sources: Sequence[SourceConfig] = (),
        files: pd.DataFrame | None = None,
        *,
        calendar_tz: str | None = None,
    ) -> tuple[Records, Issues]:
        """`audit.normalize.normalize` per partition (contacts: whole sources per call)."""
        from audit.spark.normalize import normalize_on_spark

        return normalize_on_spark(
            self.spark,
            records,
            cfg,
            sources,
            files,
            calendar_tz=calendar_tz,
            partitions=self.partitions,
        )

    def validate(
        self,
        records: Records,
        cfg: RulesConfig,
        *,
        as_of: dt.date,
        stale_after_days: int = 730,
        base_dir: Path | None = None,
    ) -> Validation:
        """`audit.validate.validate` with the checks per partition, laid out by their scope."""
        from audit.spark.validate import validate_on_spark

        return validate_on_spark(
            self.spark,
            records,
            cfg,
            as_of=as_of,
            stale_after_days=stale_after_days,
            base_dir=base_dir,
            partitions=self.partitions,
        )

    def close(self) -> None:
        if self.own:
            self.spark.stop()
