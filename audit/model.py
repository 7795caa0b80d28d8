"""What stages hand each other: plain DataFrames wrapped in small frozen dataclasses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

import pandas as pd

from audit.config import PipelineConfig

Records: TypeAlias = dict[str, pd.DataFrame]  # entity -> frame conformed to schema
Issues: TypeAlias = pd.DataFrame  # conformed to schema.ISSUES


@dataclass(frozen=True)
class Ingest:
    """What the sources stage read, and the rows it could not take (as issues).

    A run (`pipeline.analyse`) empties `records` once normalize has typed them: every row lives
    on in RunResult.records, and the raw text held to the end of the report was the run's
    largest frame set (gigabytes at 1M contacts). `read_sources` alone returns them.
    """

    records: Records
    issues: Issues  # rows rejected with a reason (rule_id "source.*")
    counts: pd.DataFrame  # source, source_file, entity, rows_read, rows_ingested, rows_rejected
    files: pd.DataFrame = field(default_factory=pd.DataFrame)  # per-file inspect details


@dataclass(frozen=True)
class Matches:
    pairs: pd.DataFrame  # record_id_l, record_id_r, score, band, rule_id, sim_<field>...
    clusters: pd.DataFrame  # cluster_id, record_id, is_survivor, ...
    golden: pd.DataFrame = field(default_factory=pd.DataFrame)  # proposed golden records
    stats: dict[str, Any] = field(default_factory=dict)  # candidate pairs, timings, ...
    # match.duplicate.* findings; in a RunResult they are in its issues table (this is empty)
    issues: pd.DataFrame = field(default_factory=pd.DataFrame)
    # the hash of each clustered record's matched content (decisions store), one per row of
    # `clusters`, as a pyarrow string array (None: not computed). Not a dict of record id to
    # hash: at 1M contacts that was 822k entries of Python text, ~150 MB held from match to the
    # end of the run, for a table read once after the report.
    cluster_hashes: Any = None


@dataclass(frozen=True)
class Validation:
    issues: pd.DataFrame  # one row per failed check; in a RunResult: in its issues (empty here)
    checked: pd.DataFrame = field(
        default_factory=pd.DataFrame
    )  # rule_id, entity, field, dimension, severity, n_checked, n_failed
    contract: dict[str, Any] = field(
        default_factory=dict
    )  # Great Expectations suite result summary


@dataclass(frozen=True)
class Scorecard:
    overall: float
    by_dimension: pd.DataFrame  # dimension, score, n_checked, n_failed
    by_source: pd.DataFrame  # source, dimension, score
    by_owner: pd.DataFrame  # owner, score, n_records
    # record_id, entity (categorical), score, the components (validity, email health and
    # freshness float32: 1, 0.5, 0 or empty), n_errors, n_warnings (int32); the report writes
    # it with the stored types (`score.records.stored_record_scores`)
    by_record: pd.DataFrame
    by_field: pd.DataFrame = field(default_factory=pd.DataFrame)
    by_rule: pd.DataFrame = field(
        default_factory=pd.DataFrame
    )  # rule_id, n_checked, n_failed, pass_rate
    inventory: pd.DataFrame = field(default_factory=pd.DataFrame)  # field inventory
    by_entity: pd.DataFrame = field(default_factory=pd.DataFrame)  # entity, dimension, score


@dataclass(frozen=True)
class Verdict:
    passed: bool
    # "validity 81% < floor 90% (thresholds.dimensions.validity): 19 of 100 contacts fail; ..."
    reasons: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    withheld_kpis: dict[str, str] = field(default_factory=dict)  # kpi_id -> reason
    quick_wins: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunResult:
    run_id: str
    as_of: dt.date
    config: PipelineConfig
    ingest: Ingest
    records: Records  # normalized (and, where applied, merged) records
    issues: Issues
    matches: Matches
    scorecard: Scorecard
    verdict: Verdict
    kpis: pd.DataFrame | None  # None when the gate failed
    timings: dict[str, float]
    run_dir: Path | None = None
    extras: dict[str, Any] = field(default_factory=dict)  # stage outputs for reports (gx, impact)


Progress: TypeAlias = Callable[[str], None]


def no_progress(stage: str) -> None:
    """The default progress callback: says nothing."""


def stage_done(progress: Progress, stage: str, rows: int, seconds: float) -> None:
    """Tell the progress callback a stage finished, with the rows it worked on.

    Only callbacks with a `done(stage, rows, seconds)` method hear it, so a plain function
    handed to `run(progress=...)` keeps working unchanged.
    """
    done = getattr(progress, "done", None)
    if callable(done):
        done(stage, rows, seconds)


@contextmanager
def timed(name: str, timings: dict[str, float]) -> Iterator[None]:
    import time

    t0 = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = round(time.perf_counter() - t0, 4)
