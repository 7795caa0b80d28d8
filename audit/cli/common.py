"""Options, progress and summaries shared by the commands."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from audit.config import PipelineConfig, load_config
from audit.errors import ConfigError
from audit.model import RunResult

F = TypeVar("F", bound=Callable[..., Any])


def output_options(f: F) -> F:
    """--out DIR, --format text|json and --progress/--no-progress."""
    f = click.option(
        "--progress/--no-progress",
        "show_progress",
        default=None,
        help="A line per stage on stderr with rows/s (default: on when stderr is a terminal; "
        "never with --format json).",
    )(f)
    f = click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help="Summary on stdout as text, or as JSON for machines.",
    )(f)
    f = click.option(
        "--out",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Folder for run folders (default: output.dir of the config, or ./reports).",
    )(f)
    return f


def target_options(f: F) -> F:
    """TARGETS... (a config, or export files/folders) and --as-of."""
    f = click.option(
        "--as-of",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        default=None,
        help="Reference date for freshness and KPIs (default: as_of of the config, or today).",
    )(f)
    f = click.argument(
        "targets",
        nargs=-1,
        required=True,
        type=click.Path(exists=True, path_type=Path),
    )(f)
    return f


def resolve_targets(targets: tuple[Path, ...], as_of: dt.datetime | None) -> PipelineConfig:
    """One YAML config, or export files and folders to audit with the defaults."""
    configs = [t for t in targets if t.suffix.lower() in (".yaml", ".yml")]
    if configs:
        if len(targets) > 1:
            raise ConfigError("give either one config file or export files/folders, not both.")
        cfg = load_config(configs[0])
        if as_of is not None:
            cfg = cfg.model_copy(update={"as_of": as_of.date()})
        return cfg
    from audit.pipeline import config_for_paths

    return config_for_paths(list(targets), as_of=as_of.date() if as_of else None)


class StageProgress:
    """One line per pipeline stage on stderr: stage, rows, rows/s and time since the start.

    On by default only when stderr is a terminal (a cron log should not fill with it), or
    asked for with --progress; never with --format json, whose reader wants stdout alone and
    an uncluttered stderr for errors. A plain line per stage rather than a bar: the stages
    differ in cost by 100x, so a bar over stages would say little about time left.
    """

    def __init__(self, enabled: bool | None = None, fmt: str = "text") -> None:
        self.tty = sys.stderr.isatty()
        self.enabled = (self.tty if enabled is None else enabled) and fmt != "json"
        self._t0 = time.perf_counter()
        self._open = False

    def __enter__(self) -> StageProgress:
        self._t0 = time.perf_counter()
        return self

    def __call__(self, stage: str) -> None:
        """A stage starts: on a terminal its name shows until its line replaces it."""
        if self.enabled and self.tty:
            sys.stderr.write(f"\rcrm-audit: {stage} ...")
            sys.stderr.flush()
            self._open = True

    def done(self, stage: str, rows: int, seconds: float) -> None:
        if not self.enabled:
            return
        line = stage_line(stage, rows, seconds, time.perf_counter() - self._t0, peak_rss_mb())
        sys.stderr.write(("\r\x1b[K" if self._open else "") + line + "\n")
        sys.stderr.flush()
        self._open = False

    def __exit__(self, *exc: object) -> None:
        if self._open:  # a stage that ended in an error: keep the error on its own line
            sys.stderr.write("\n")
            sys.stderr.flush()
            self._open = False


def peak_rss_mb() -> float | None:
    """This process's peak resident memory so far, in MB (None where the OS does not say).

    A peak, not the current size: printed after each stage, the first stage whose figure jumps
    is the one that set the run's memory high-water mark.
    """
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return None
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / (1024 * 1024) if sys.platform == "darwin" else kb / 1024


def stage_line(
    stage: str, rows: int, seconds: float, elapsed: float, peak_mb: float | None = None
) -> str:
    """'crm-audit: validate  98,765 rows  12,345 rows/s  8.0 s  (elapsed 61.2 s, peak 812 MB)'."""
    rate = f"{rows / seconds:>10,.0f} rows/s" if seconds > 0 else f"{'':>10} rows/s"
    peak = f", peak {peak_mb:,.0f} MB" if peak_mb is not None else ""
    return (
        f"crm-audit: {stage:<9} {rows:>11,} rows {rate} {seconds:>7.1f} s"
        f"  (elapsed {elapsed:.1f} s{peak})"
    )


def summary_data(result: RunResult) -> dict[str, Any]:
    """The machine-readable summary printed by --format json (keys documented in the README)."""
    from audit.next_steps import next_steps

    sc = result.scorecard
    dims: dict[str, Any] = {}
    floors = result.config.thresholds.floors()
    ent = sc.by_entity
    if not sc.by_dimension.empty and "dimension" in sc.by_dimension:
        for row in sc.by_dimension.to_dict("records"):
            dim = str(row["dimension"])
            mine = ent[ent["dimension"].eq(dim)] if "dimension" in ent else ent
            dims[dim] = {
                "by_entity": {
                    str(e): _num(s) for e, s in zip(mine["entity"], mine["score"], strict=True)
                },
                "score": _num(row.get("score")),
                "status": str(row.get("status") or ""),
                "n_checked": int(row.get("n_checked", 0) or 0),
                "n_failed": int(row.get("n_failed", 0) or 0),
                "floor": floors.get(dim),
                "note": str(row.get("note") or "") or None,
            }
    by_dim_issues = (
        result.issues.groupby("dimension", dropna=False).size().sort_index().to_dict()
        if len(result.issues)
        else {}
    )
    pairs = result.matches.pairs
    bands = pairs["band"].value_counts().sort_index().to_dict() if "band" in pairs else {}
    kpis = []
    if result.kpis is not None and len(result.kpis):
        kpis = [
            {
                "kpi_id": r["kpi_id"],
                "value": _num(r.get("value")),
                "unit": r.get("unit"),
                "status": r.get("status") or "ok",
            }
            for r in result.kpis.to_dict("records")
        ]
    n_records = {e: len(f) for e, f in sorted(result.records.items())}
    iss = result.issues
    not_read = []
    if len(iss):
        files = iss[iss["rule_id"].isin(["source.file.unreadable", "source.file.skipped"])]
        for r in files.sort_values(["rule_id", "value"]).to_dict("records"):
            kind = "unreadable" if r["rule_id"] == "source.file.unreadable" else "skipped"
            not_read.append({"file": r["value"], "kind": kind, "message": r["message"]})
    return {
        "run_id": result.run_id,
        "run_dir": str(result.run_dir) if result.run_dir else None,
        "as_of": result.as_of.isoformat(),
        "records": n_records,
        "score": _num(sc.overall),
        "score_note": None
        if _num(sc.overall) is not None
        else "n/a: no dimension was measured on the records read",
        "dimensions": dims,
        "bounces": _bounces(result),
        "issues": {
            "total": len(result.issues),
            "by_dimension": {str(k): int(v) for k, v in by_dim_issues.items()},
        },
        "duplicates": {
            "pairs": {str(k): int(v) for k, v in bands.items()},
            "clusters": int(result.matches.clusters["cluster_id"].nunique())
            if "cluster_id" in result.matches.clusters
            else 0,
        },
        "gate": {
            "passed": result.verdict.passed,
            "reasons": list(result.verdict.reasons),
            "warnings": list(result.verdict.warnings),
            "withheld_kpis": dict(result.verdict.withheld_kpis),
            "quick_wins": list(result.verdict.quick_wins),
        },
        "kpis": kpis,
        "not_read": not_read,
        "changes": result.extras.get("changes"),
        "decisions": result.extras.get("decisions"),
        "next_steps": next_steps(result),
    }


def _bounces(result: RunResult) -> dict[str, Any]:
    """Bounced recipients read from inbox exports: the dead addresses are what a user acts on."""
    from audit.report.run_folder import bounces
    from audit.safe import mask_email

    b = bounces(result.records)
    kind = b["classification"].astype("object").fillna("").astype(str)
    dead = sorted({str(r) for r in b.loc[kind.eq("hard"), "recipient"].dropna()})
    if result.config.output.redact:
        dead = sorted({mask_email(a) for a in dead})
    return {
        "messages": len(b),
        "hard": int(kind.eq("hard").sum()),
        "soft": int(kind.eq("soft").sum()),
        "dead_addresses": dead,
    }


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if f != f else round(f, 4)


def _pad(text: str, width: int) -> str:
    """`text` padded to `width` terminal columns (a Hangul, kana or hanzi takes two)."""
    import unicodedata

    cols = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, width - cols)


def echo_summary(result: RunResult, fmt: str) -> None:
    """The compact terminal summary, in output.language (the JSON summary stays English)."""
    from audit.changes import lines as change_lines
    from audit.kpis.catalogue import format_value
    from audit.labels import labels
    from audit.messages import band_name, entity_name, list_separator, localize, msg
    from audit.next_steps import next_steps
    from audit.review_store import learning_lines

    data = summary_data(result)
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True))
        return
    lang = result.config.output.language

    def m(key: str, **params: Any) -> str:
        return msg(key, lang, **params)

    def head(key: str) -> str:
        return "  " + _pad(m(key), 12) + " "

    def dim_name(d: str) -> str:
        return localize(d, lang)

    sep = list_separator(lang)
    recs = sep.join(
        m("term.n_entity", n=n, entity=entity_name(e, lang)) for e, n in data["records"].items()
    ) or m("term.no_records")
    click.echo(m("term.header", run=data["run_id"], as_of=data["as_of"]))
    click.echo(head("term.records") + recs)
    # a file that could not be read must not go unnoticed behind exit 0
    for f in data["not_read"]:
        if f["kind"] == "unreadable":
            click.echo(head("term.not_read") + localize(f["message"], lang))
    skipped = [f["file"] for f in data["not_read"] if f["kind"] == "skipped"]
    if skipped:
        shown = ", ".join(skipped[:5]) + (" ..." if len(skipped) > 5 else "")
        click.echo(head("term.skipped") + m("term.files", n=len(skipped), files=shown))
    score = data["score"]
    note = localize(str(data["score_note"]), lang) if data["score_note"] else ""
    click.echo(head("term.quality") + (f"{score:.1%}" if score is not None else note))
    for dim, d in data["dimensions"].items():
        name = _pad(dim_name(dim), 13) + " "
        if d["score"] is None:
            why = localize(d["note"], lang) if d["note"] else m("term.not_measured")
            click.echo(f"    {name}{'n/a':>7}  ({why.removeprefix('n/a: ')})")
            continue
        floor = m("term.floor", floor=f"{d['floor']:.0%}") if d["floor"] else m("term.no_floor")
        per = {e: s for e, s in d["by_entity"].items() if s is not None}
        weakest = ""
        if len(per) > 1:
            e = min(per, key=lambda k: (per[k], k))
            weakest = list_separator(lang, "; ") + m(
                "term.weakest", entity=entity_name(e, lang), score=f"{per[e]:.1%}"
            )
        fails = m("term.rows_fail", n_failed=d["n_failed"], n_checked=d["n_checked"])
        click.echo(f"    {name}{d['score']:>7.1%}  {_pad(floor, 10)} ({fails}{weakest})")
    click.echo(
        head("term.issues")
        + str(data["issues"]["total"])
        + "".join(f"  {dim_name(k)}={v}" for k, v in data["issues"]["by_dimension"].items())
    )
    b = data["bounces"]
    if b["messages"]:
        dead = b["dead_addresses"]
        shown = ", ".join(dead[:10]) + (
            m("term.and_more", n=len(dead) - 10) if len(dead) > 10 else ""
        )
        click.echo(
            head("term.bounces")
            + m(
                "term.bounce_counts",
                n=b["messages"],
                hard=b["hard"],
                soft=b["soft"],
                dead=len(dead),
            )
            + (f": {shown}" if dead else "")
        )
    dup = data["duplicates"]
    bands = sep.join(f"{band_name(k, lang)}={v}" for k, v in dup["pairs"].items())
    click.echo(
        head("term.duplicates")
        + m("term.clusters_pairs", clusters=dup["clusters"], bands=bands or m("term.none"))
    )
    gate = data["gate"]
    lab = labels(lang)
    click.echo(head("term.gate") + (lab["passed"] if gate["passed"] else lab["failed"]))
    for r in gate["reasons"]:
        click.echo(f"    - {localize(r, lang)}")
    for k, why in gate["withheld_kpis"].items():
        click.echo("    " + m("term.withheld", kpi=k, why=localize(why, lang)))
    if not gate["passed"] and gate["quick_wins"]:
        click.echo("  " + m("term.quick_wins"))
        for w in gate["quick_wins"]:
            click.echo(f"    - {localize(w, lang)}")
    shown_kpis = [k for k in data["kpis"] if k["value"] is not None]
    if shown_kpis:
        click.echo("  " + m("term.kpis"))
        for k in shown_kpis:
            click.echo(f"    {k['kpi_id']:<30} {format_value(k['value'], k['unit'])}")
    missing = [k["kpi_id"] for k in data["kpis"] if k["value"] is None]
    if missing:
        click.echo(
            head("term.no_value") + m("term.n_kpis", n=len(missing), kpis=", ".join(missing))
        )
    changes = data["changes"]
    if changes:
        since = m("term.since", run=changes["previous_run_id"])
        if changes.get("unavailable"):
            click.echo(f"  {since} {localize(str(changes['unavailable']), lang)}")
        else:
            click.echo(f"  {since}")
            for line in change_lines(changes, language=lang):
                click.echo(f"    {line}")
    for line in learning_lines(data["decisions"], lang):
        click.echo(head("term.decisions") + line)
    if data["run_dir"]:
        click.echo(head("term.report") + str(Path(data["run_dir"]) / "summary.html"))
    steps = next_steps(result, language=lang) if lang != "en" else data["next_steps"]
    if steps:
        click.echo("  " + m("term.next"))
        for step in steps:
            click.echo(f"    - {step}")
