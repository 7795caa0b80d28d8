"""Report stage: write a run folder that is safe to open and share.

`write_report(result, out_dir, formats)` always writes the run folder's data (run.json and the
CSV/Parquet tables, see `run_folder`), then the human-facing formats listed in
`output.formats` (html, md, xlsx), then the merge review when the merge package provides it.
Writers are registered with `@writer(name, suffix)`; built-ins are imported in the explicit
list below. Redaction is applied once, in `context.make_context`, before any writer runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from audit.model import RunResult
from audit.report import csv_writer, html_writer, json_writer, md_writer, xlsx_writer
from audit.report.context import WRITERS, ReportContext, Writer, make_context, writer
from audit.report.run_folder import (
    RUN_JSON_SCHEMA,
    SCHEMA_VERSION,
    RunFolder,
    load_run,
    result_document,
    result_tables,
)
from audit.report.xlsx_writer import freeze_xlsx

BUILTIN_WRITERS = (json_writer, csv_writer, html_writer, md_writer, xlsx_writer)

__all__ = [
    "RUN_JSON_SCHEMA",
    "SCHEMA_VERSION",
    "WRITERS",
    "ReportContext",
    "RunFolder",
    "Writer",
    "context_for",
    "load_run",
    "render",
    "write_report",
    "writer",
]


def context_for(
    result: RunResult, *, redact: bool | None = None, language: str | None = None
) -> ReportContext:
    """The (redacted when asked) view of `result` that writers render."""
    out = result.config.output
    tables = result_tables(result)
    return make_context(
        result_document(result, tables),
        tables,
        redact=out.redact if redact is None else redact,
        language=language or out.language,
    )


def render(
    ctx: ReportContext, out_dir: Path, formats: Sequence[str], *, core: bool = True
) -> list[Path]:
    """Run the writers: the always-on ones when `core`, then each of `formats` once."""
    wanted = [w.name for _, w in WRITERS.items() if w.always] if core else []
    for name in formats:
        WRITERS.get(name)  # unknown format: ConfigError with a suggestion
        if name not in wanted:
            wanted.append(name)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for name in wanted:
        paths.extend(WRITERS.get(name).fn(ctx, out_dir))
    return paths


def write_report(
    result: RunResult,
    out_dir: Path,
    formats: Sequence[str],
    *,
    redact: bool | None = None,
    language: str | None = None,
) -> list[Path]:
    """Write the run folder and the requested formats; return the files written.

    Example:
        write_report(result, Path("reports") / result.run_id, ["html", "md", "xlsx"])
    """
    ctx = context_for(result, redact=redact, language=language)
    paths = render(ctx, Path(out_dir), formats)
    paths.extend(_merge_review(result, Path(out_dir), ctx.redact, ctx.language))
    return paths


def _merge_review(
    result: RunResult, out_dir: Path, redact: bool, language: str = "en"
) -> list[Path]:
    """merge_review.html and merge_proposals.* from the merge package, when it is there."""
    try:
        from audit.merge.review import write_review  # type: ignore[import-not-found]
    except ModuleNotFoundError as e:
        if e.name in ("audit.merge", "audit.merge.review"):
            return []
        raise
    written = write_review(result, out_dir, redact=redact, language=language)
    if written is None:
        return []
    paths = [Path(written)] if isinstance(written, (str, Path)) else [Path(p) for p in written]
    for p in paths:  # openpyxl stamps the wall clock; keep the run folder byte-identical
        if p.suffix == ".xlsx" and p.is_file():
            freeze_xlsx(p, result.as_of.isoformat())
    return paths
