"""`dedupe`: find duplicates in any CSV file (or link two files) without writing a config."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from audit.errors import ConfigError

if TYPE_CHECKING:  # pandas is loaded only when the command runs (`--help` stays quick)
    import pandas as pd


def _read_table(path: Path) -> tuple[pd.DataFrame, list[str], dict[str, object]]:
    """A CSV/TSV/spreadsheet read by the sources stage's reader: (frame, notes for the user).

    One reader for every input: the same encoding detection (a cp949 file is Korean, not
    cp1250 mojibake), header detection and row accounting as an audit; rows it cannot take
    are reported, never dropped silently.
    """
    from audit.sources import read_table

    table = read_table(path)
    frame = table.frame
    frame.columns = [str(c).strip() for c in frame.columns]
    notes = [f"{path}: {w}" for w in table.warnings]
    if table.rejected:
        shown = "; ".join(table.rejected[:5]) + (" ..." if len(table.rejected) > 5 else "")
        notes.append(
            f"{path}: {len(table.rejected)} of {table.rows_read} rows not read ({shown}); "
            "fix them in the file (quote values that contain the delimiter) and re-run"
        )
    info: dict[str, object] = {
        "file": str(path),
        "encoding": table.encoding,
        "rows_read": table.rows_read,
        "rows_used": len(frame),
        "rows_rejected": len(table.rejected),
    }
    return frame, notes, info


def _parse_fields(pairs: tuple[str, ...]) -> dict[str, str]:
    from audit.match.plain import FIELD_NAMES, _norm

    alias = {_norm(a): f for f, names in FIELD_NAMES.items() for a in (f, *names)}
    out: dict[str, str] = {}
    for item in pairs:
        key, sep, col = item.partition("=")
        if not sep or not key.strip() or not col.strip():
            raise ConfigError(
                f"--field {item!r}: write it as FIELD=COLUMN, e.g. first_name=Vorname."
            )
        fld = alias.get(_norm(key))
        if fld is None:
            raise ConfigError(
                f"--field {item!r}: unknown field {key!r}; use one of {', '.join(FIELD_NAMES)}."
            )
        out[fld] = col.strip()
    return out


@click.command()
@click.argument(
    "inputs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--id-column", required=True, help="Column holding each row's unique id.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for pairs.csv and clusters.csv (created if missing).",
)
@click.option(
    "--field",
    "fields",
    multiple=True,
    metavar="FIELD=COLUMN",
    help="Map a match field to a column (repeatable); overrides the automatic mapping.",
)
@click.option(
    "--rules",
    default="contacts.default",
    show_default=True,
    help="Match rules name (rules/match/) or a YAML path.",
)
@click.option(
    "--review-threshold",
    type=click.FloatRange(0, 1),
    default=0.6,
    show_default=True,
    help="Match probability from which a pair is reported (band 'review').",
)
@click.option(
    "--auto-threshold",
    type=click.FloatRange(0, 1),
    default=0.95,
    show_default=True,
    help="Match probability from which a pair is band 'auto'.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--timings",
    is_flag=True,
    hidden=True,
    help="Print seconds per step (read, features, blocking, ..., write) to stderr.",
)
def dedupe(
    inputs: tuple[Path, ...],
    id_column: str,
    out: Path,
    fields: tuple[str, ...],
    rules: str,
    review_threshold: float,
    auto_threshold: float,
    fmt: str,
    timings: bool = False,
) -> None:
    """Find duplicate rows in one CSV file, or link the rows of two files.

    Writes OUT/pairs.csv (id_l, id_r, score, band, rule_id, sim_<field>..., w_<field>...,
    why) and OUT/clusters.csv (cluster_id, id). Columns are mapped to match fields by their
    names (first_name/given_name, last_name/surname, email, phone, address_1, suburb,
    postcode, state, date_of_birth, soc_sec_id, company, ...); use --field to override.

    \b
    Examples:
        crm-audit dedupe customers.csv --id-column id --out dupes/
        crm-audit dedupe crm.csv shop.csv --id-column id --out links/ --field email=E-Mail
    """
    from audit.match.plain import dedupe_frames
    from audit.match.rules import load_rules

    if len(inputs) > 2:
        raise ConfigError("give one file to deduplicate or two files to link, not more.")
    overrides = _parse_fields(fields)
    t = time.perf_counter()
    read = [_read_table(p) for p in inputs]
    t_read = time.perf_counter() - t
    frames = [f for f, _, _ in read]
    notes = [n for _, ns, _ in read for n in ns]
    infos = [info for _, _, info in read]
    records = int(sum(len(f) for f in frames))
    del read  # the frames list is the only reference: dedupe_frames lets go of the raw rows
    result = dedupe_frames(
        frames,
        id_column,
        load_rules(rules, base_dir=Path.cwd()),
        overrides=overrides,
        review=review_threshold,
        auto=auto_threshold,
        names=tuple(str(p) for p in inputs),
        release=True,
    )
    from audit.fsio import output_errors

    t = time.perf_counter()
    with output_errors(out, config_path=True):
        out.mkdir(parents=True, exist_ok=True)
    with output_errors(out):
        _write_csv(result.pairs, out / "pairs.csv")
        _write_csv(result.clusters, out / "clusters.csv")
    if timings:  # where a run's time goes, for benchmarks (not in the summary: it varies)
        steps = {"read": t_read, **result.stats["timings"], "write": time.perf_counter() - t}
        click.echo("timings: " + json.dumps({k: round(v, 2) for k, v in steps.items()}), err=True)
    bands = result.pairs["band"].value_counts().sort_index().to_dict()
    summary = {
        "mode": "link" if len(inputs) == 2 else "dedupe",
        "records": records,
        "fields": result.mapping,
        "candidate_pairs": result.stats["candidate_pairs"],
        "pairs": {str(k): int(v) for k, v in bands.items()},
        "clusters": int(result.clusters["cluster_id"].nunique()),
        "files": [str(out / "pairs.csv"), str(out / "clusters.csv")],
        "inputs": infos,
        "notes": notes,
    }
    if fmt == "json":
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=True))
        return
    mapped = ", ".join(f"{k}={v}" for k, v in result.mapping.items())
    click.echo(f"{summary['mode']}: {summary['records']:,} records; fields {mapped}")
    shown = ", ".join(f"{k}={v:,}" for k, v in summary["pairs"].items()) or "none"
    click.echo(
        f"  candidate pairs {summary['candidate_pairs']:,}; duplicate pairs {shown}; "
        f"clusters {summary['clusters']:,}"
    )
    for f in summary["files"]:
        click.echo(f"  wrote {f}")
    for n in notes:
        click.echo(f"  note: {n}", err=True)


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    from audit.fsio import atomic_write
    from audit.safe import neutralize_frame

    text = neutralize_frame(frame).to_csv(index=False, lineterminator="\n")
    atomic_write(path, text)  # never a half-written file beside a finished one


COMMANDS: list[click.Command] = [dedupe]
