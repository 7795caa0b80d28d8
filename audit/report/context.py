"""The one view of a run that every writer renders, and the registry of writers.

A writer never sees the RunResult: it gets a `ReportContext` whose tables and run document are
already redacted (when asked) by `safe`, so a new format cannot leak what another one masks.
The same context is built from a fresh RunResult (`context_from_result`) or from a run folder
read back from disk (`context_from_folder`), which is how `crm-audit report RUN` re-renders a
run without running it again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from audit import safe
from audit.labels import labels as label_set
from audit.registry import Registry
from audit.report import l10n

# Writes one table as a Parquet dataset folder at a path and returns its files; an engine's
# writer (audit.spark.output via the pipeline) when the run's engine writes its large tables.
ParquetWriter = Callable[[pd.DataFrame, Path], list[Path]]


@dataclass(frozen=True, eq=False)  # identity equality: views cache per context
class ReportContext:
    run: dict[str, Any]  # run.json document (JSON-able, redacted when `redact`)
    tables: dict[str, pd.DataFrame]  # "issues", "records/contacts", "scores/by_source", ...
    language: str = "en"
    redact: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    parquet: ParquetWriter | None = None  # None: one Parquet file per table, by pyarrow

    def table(self, name: str) -> pd.DataFrame:
        """The named table, or an empty frame (writers are defensive about missing stages)."""
        frame = self.tables.get(name)
        return frame if frame is not None else pd.DataFrame()

    def names(self, prefix: str) -> list[str]:
        """Table names under a folder prefix ('records/', 'breakdowns/'), sorted."""
        return sorted(n for n in self.tables if n.startswith(prefix))


WriterFn = Callable[[ReportContext, Path], list[Path]]


@dataclass(frozen=True)
class Writer:
    name: str
    suffix: str
    fn: WriterFn
    always: bool = False  # part of the run folder whatever output.formats says
    doc: str = ""


WRITERS: Registry[Writer] = Registry("report format")


def writer(name: str, suffix: str, *, always: bool = False) -> Callable[[WriterFn], WriterFn]:
    """Register a report format: `@writer("md", suffix=".md")`."""

    def deco(fn: WriterFn) -> WriterFn:
        doc = (fn.__doc__ or "").strip().splitlines()
        WRITERS.add(name, Writer(name, suffix, fn, always, doc[0] if doc else ""))
        return fn

    return deco


def make_context(
    run: dict[str, Any],
    tables: dict[str, pd.DataFrame],
    *,
    redact: bool,
    language: str,
) -> ReportContext:
    """Apply redaction once, here, for every writer.

    A run document that says it is already redacted (a redacted run folder read back) stays
    marked as redacted; masking it again changes nothing.
    """
    redacted = redact or bool(run.get("redacted"))
    if redact:
        run = safe.redact_obj(run)
        tables = {k: safe.redact_frame(v) for k, v in tables.items()}
    run = {**run, "redacted": redacted}
    if language != "en" and "issues" in tables:
        # issues.csv keeps message/suggestion in English; message_<language> etc. beside them
        texts, fixes = l10n.rule_texts(run.get("config"))
        issues = l10n.localize_issues(tables["issues"], language, texts, fixes)
        tables = {**tables, "issues": issues}
    return ReportContext(
        run=run,
        tables=dict(sorted(tables.items())),
        language=language,
        redact=redacted,
        labels=label_set(language),
    )
