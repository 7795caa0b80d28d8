"""run.json: the machine-readable run document (schema in `run_folder.RUN_JSON_SCHEMA`)."""

from __future__ import annotations

from pathlib import Path

from audit import safe
from audit.report.context import ReportContext, writer


@writer("json", suffix=".json", always=True)
def write_json(ctx: ReportContext, out_dir: Path) -> list[Path]:
    """run.json with sorted keys; only run_id and timings change between identical runs."""
    path = out_dir / "run.json"
    path.write_text(safe.dumps_json(ctx.run), encoding="utf-8")
    return [path]
