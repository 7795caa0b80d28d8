"""Report stage: write a run folder that is safe to open and share.

`write_report(result, out_dir, formats)` always writes the run folder's data (run.json and the
CSV/Parquet tables, see `run_folder`), then the human-facing formats listed in
`output.formats` (html, md, xlsx), then the merge review when the caller hands in its writer
(`review=audit.merge.review.write_review`, as the pipeline does): report and merge are separate
packages that do not import each other.
Writers are registered with `@writer(name, suffix)`; built-ins are imported in the explicit
list below. Redaction is applied once, in `context.make_context`, before any writer runs.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from audit import beside
from audit.beside import Beside, memory_to_spare
from audit.errors import ConfigError
from audit.fsio import (
    commit_dir,
    link_into,
    new_staging_dir,
    output_errors,
    owning,
    recover_dir,
    sweep_stale,
)
from audit.manifest import MANIFEST, manifest_complete, write_manifest
from audit.model import RunResult
from audit.report import csv_writer, html_writer, json_writer, md_writer, xlsx_writer
from audit.report.context import (
    WRITERS,
    ParquetWriter,
    ReportContext,
    Writer,
    make_context,
    writer,
)
from audit.report.run_folder import (
    RUN_JSON_SCHEMA,
    SCHEMA_VERSION,
    RunFolder,
    load_run,
    record_rows,
    result_document,
    result_tables,
)
from audit.report.xlsx_writer import freeze_xlsx

BUILTIN_WRITERS = (json_writer, csv_writer, html_writer, md_writer, xlsx_writer)

# Writes the merge review into a folder: (result, folder, redact=..., language=...) -> files.
# audit.merge.review.write_review is the one there is; the caller (pipeline, CLI) passes it in.
ReviewWriter = Callable[..., list[Path]]

__all__ = [
    "RUN_JSON_SCHEMA",
    "SCHEMA_VERSION",
    "WRITERS",
    "ReportContext",
    "ReviewWriter",
    "RunFolder",
    "Writer",
    "context_for",
    "load_run",
    "render",
    "rerender_in_place",
    "review_from_folder",
    "staged_run_folder",
    "sweep_stale_runs",
    "write_report",
    "writer",
]


def context_for(
    result: RunResult, *, redact: bool | None = None, language: str | None = None
) -> ReportContext:
    """The (redacted when asked) view of `result` that writers render."""
    out = result.config.output
    tables = result_tables(result)
    redact = out.redact if redact is None else redact
    doc = result_document(result, tables)
    if redact:  # rows in the order of the original ids: sorted before the ids are masked
        tables = {n: record_rows(f) if n.startswith("records/") else f for n, f in tables.items()}
    return make_context(doc, tables, redact=redact, language=language or out.language)


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
    review: ReviewWriter | None = None,
    parquet: ParquetWriter | None = None,
) -> list[Path]:
    """Write the run folder and the requested formats; return the files written.

    `review` writes the merge review into the same folder (before the manifest, so it is listed
    and checked like every other file). `parquet` writes the large tables as Parquet dataset
    folders (the Spark engine's writer); without it they are one Parquet file each.

    Example:
        write_report(result, Path("reports") / result.run_id, ["html", "md", "xlsx"],
                     review=audit.merge.review.write_review)
    """
    ctx = context_for(result, redact=redact, language=language)
    if parquet is not None:
        ctx = replace(ctx, parquet=parquet)

    def fill(staging: Path) -> list[Path]:
        # the merge review in a second process while this one writes the rest (`beside`)
        contacts = result.records.get("contacts")
        side = Beside(
            _merge_review,
            review,
            result,
            staging,
            ctx.redact,
            ctx.language,
            name="merge review",
            fork=review is not None
            and parquet is None  # a Spark session's sockets are not the child's to touch
            and contacts is not None
            and len(contacts) >= beside.FORK_MIN_ROWS
            and memory_to_spare(),  # else here, after the others: no second process's pages
        )
        try:
            paths = render(ctx, staging, formats)
        except BaseException:
            side.cancel()
            raise
        return paths + side.result()

    return staged_run_folder(Path(out_dir), result.run_id, fill)


def _check_target(out_dir: Path) -> None:
    """A run folder replaces only a run folder (or an empty one): never a user's own folder."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"{out_dir}: is a file, not a folder; choose another output folder.")
    ours = (out_dir / MANIFEST).is_file() or (out_dir / "run.json").is_file()
    if out_dir.is_dir() and any(out_dir.iterdir()) and not ours:
        raise ConfigError(
            f"{out_dir}: exists and is not a run folder; it would be replaced, so choose a "
            "new or empty folder."
        )


def staged_run_folder(out_dir: Path, run_id: str, fill: Callable[[Path], list[Path]]) -> list[Path]:
    """Build a run folder under a staging name with `fill(staging)`, add its manifest (last),
    then rename it into place: a kill at any point leaves no folder that looks complete."""
    out_dir = Path(out_dir)
    with output_errors(out_dir), owning(out_dir):
        recover_dir(out_dir, manifest_complete)
        _check_target(out_dir)
        staging = new_staging_dir(out_dir)
        try:
            paths = fill(staging)
            write_manifest(staging, run_id)
            commit_dir(staging, out_dir)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return [out_dir / Path(p).relative_to(staging) for p in paths]


RUN_ID = re.compile(r"^\d{8}T\d{6}-[0-9a-f]{6}-[0-9a-f]{6}$")  # audit.pipeline.make_run_id


def sweep_stale_runs(out_root: Path) -> list[str]:
    """Finish or remove what killed runs left in an output folder (see `fsio.sweep_stale`):
    hidden staging and scratch folders and empty reserved run folders whose owner is gone."""
    return sweep_stale(Path(out_root), manifest_complete, reservation=RUN_ID)


def rerender_in_place(ctx: ReportContext, run_dir: Path, formats: Sequence[str]) -> list[Path]:
    """Rewrite the human-facing formats of a complete run folder, as one atomic swap.

    The new files are rendered apart, the folder is rebuilt beside the old one from hard links
    of its other files plus the new ones, given a new manifest and swapped in, so no file of the
    old folder is ever modified in place.
    """
    run_dir = Path(run_dir)
    run_id = str(ctx.run.get("run_id") or run_dir.name)
    with output_errors(run_dir), owning(run_dir):
        scratch = run_dir.parent / f".{run_dir.name}.render"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir()
        try:
            fresh = render(ctx, scratch, formats, core=False)
            rels = {Path(p).relative_to(scratch) for p in fresh}

            def fill(staging: Path) -> list[Path]:
                for src in sorted(run_dir.rglob("*")):
                    rel = src.relative_to(run_dir)
                    if src.is_dir() or rel in rels or str(rel) == MANIFEST:
                        continue
                    link_into(src, staging / rel)
                for rel in sorted(rels):
                    (staging / rel).parent.mkdir(parents=True, exist_ok=True)
                    (scratch / rel).rename(staging / rel)
                return [staging / r for r in sorted(rels)]

            return staged_run_folder(run_dir, run_id, fill)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


def review_from_folder(
    folder: RunFolder, out_dir: Path, *, redact: bool, review: ReviewWriter
) -> list[Path]:
    """The merge review files for a copy of a run folder (`report --out`), from its tables.

    A redacted copy gets a redacted review: without it the copy would lack the one page a
    reviewer needs, and copying the original's review would carry unmasked values.
    """
    import datetime as dt
    from types import SimpleNamespace

    from audit.config import parse_config
    from audit.model import Matches

    cfg_data = dict(folder.run.get("config") or {})
    config = parse_config(
        cfg_data,
        source=str(folder.path / "run.json"),
        base_dir=Path(cfg_data.get("base_dir", ".")),
    )
    result = SimpleNamespace(
        run_id=str(folder.run.get("run_id") or folder.path.name),
        as_of=dt.date.fromisoformat(str(folder.run["as_of"])),
        config=config,
        records=folder.records,
        matches=Matches(pairs=folder.pairs, clusters=folder.clusters, golden=folder.golden),
    )
    return _merge_review(review, result, out_dir, redact)


def _merge_review(
    review: ReviewWriter | None, result: Any, out_dir: Path, redact: bool, language: str = "en"
) -> list[Path]:
    """merge_review.html and merge_proposals.* from the review writer, when one was given."""
    if review is None:
        return []
    written: Any = review(result, out_dir, redact=redact, language=language)
    if written is None:
        return []
    paths = [Path(written)] if isinstance(written, (str, Path)) else [Path(p) for p in written]
    for p in paths:  # openpyxl stamps the wall clock; keep the run folder byte-identical
        if p.suffix == ".xlsx" and p.is_file():
            freeze_xlsx(p, result.as_of.isoformat())
    return paths
