"""`report`: re-render the reports of an existing run folder, without running the audit again."""

from __future__ import annotations

from pathlib import Path

import click

from audit.errors import ConfigError
from audit.labels import LANGUAGES
from audit.merge.review import write_review
from audit.report import (
    WRITERS,
    load_run,
    render,
    rerender_in_place,
    review_from_folder,
    staged_run_folder,
)
from audit.report.context import make_context


@click.command("report")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--format",
    "formats",
    multiple=True,
    help="Report format to write (repeat for several): html, md, xlsx, json, csv. "
    "Default: output.formats of the run's config.",
)
@click.option(
    "--redact/--no-redact",
    default=None,
    help="Mask emails and phones. A redacted copy goes to RUN_DIR-redacted/ unless --out is given.",
)
@click.option(
    "--language",
    type=click.Choice(LANGUAGES),
    default=None,
    help="Label language (default: output.language of the run's config).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write a complete run folder there instead of re-rendering RUN_DIR in place.",
)
def report_cmd(
    run_dir: Path,
    formats: tuple[str, ...],
    redact: bool | None,
    language: str | None,
    out: Path | None,
) -> None:
    """Re-render the reports of the run folder RUN_DIR (nothing is re-computed).

    In place, only the human-facing formats are rewritten; the run's data files stay as they
    are. With --out (or --redact on a run that was not redacted) a complete copy of the run
    folder is written, so a redacted copy never sits beside unredacted data files.

    \b
    Example:
        crm-audit report reports/20260131T090512-1a2b3c --language ko
        crm-audit report reports/20260131T090512-1a2b3c --redact --format html
    """
    folder = load_run(run_dir)
    output = (folder.run.get("config") or {}).get("output") or {}
    was_redacted = bool(folder.run.get("redacted"))
    do_redact = (was_redacted or bool(output.get("redact"))) if redact is None else redact
    if was_redacted and redact is False:
        raise ConfigError(f"{run_dir}: this run folder is already redacted; it cannot be undone.")
    for name in formats:
        WRITERS.get(name)
    wanted = list(formats) or [f for f in output.get("formats", ["html", "md"]) if f in WRITERS]
    if out is None and do_redact and not was_redacted:
        out = run_dir.parent / f"{run_dir.name}-redacted"
    in_place = out is None or out.resolve() == run_dir.resolve()
    ctx = make_context(
        folder.run,
        folder.tables,
        redact=do_redact and not was_redacted,
        language=language or output.get("language") or "en",
    )
    target = run_dir if in_place or out is None else out
    if in_place:
        data = [w for w in formats if WRITERS.get(w).always]
        if data:
            raise ConfigError(
                f"--format {data[0]} is the run's own data and is not rewritten in place; "
                "give --out DIR to write a complete copy of the run folder."
            )
        wanted = [w for w in wanted if not WRITERS.get(w).always]
    if in_place:
        paths = rerender_in_place(ctx, run_dir, wanted)
    else:
        run_id = str(folder.run.get("run_id") or run_dir.name)
        fresh = do_redact and not was_redacted

        def fill(staging: Path) -> list[Path]:
            paths = render(ctx, staging, wanted)
            return paths + review_from_folder(folder, staging, redact=fresh, review=write_review)

        paths = staged_run_folder(target, run_id, fill)
    for p in paths:
        click.echo(str(p))


COMMANDS: list[click.Command] = [report_cmd]
