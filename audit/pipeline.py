"""run(cfg) -> RunResult: the only module that imports every stage.

Short and boring on purpose: each stage takes plain data and returns plain data, so any of them
can be run, tested and benchmarked alone. Wall-clock time is read here (run id, timings) and
nowhere inside a stage, which keeps stage outputs deterministic.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import json
import os
import secrets
import warnings
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from audit import beside, history, review_store
from audit.beside import Beside, memory_to_spare
from audit.config import (
    KpiConfig,
    PipelineConfig,
    dump_config,
    parse_config,
    with_business_timezone,
)
from audit.fsio import CleanupWarning, output_errors, owning
from audit.gate import gate
from audit.heapmem import fix_mmap_threshold
from audit.kpis import ISSUE_READS, kpi_needs, kpi_stage, withhold
from audit.match import match
from audit.match.memory import MatchMemory
from audit.model import Progress, RunResult, no_progress, stage_done, timed
from audit.normalize import normalize
from audit.report import sweep_stale_runs, write_report
from audit.schema import conform_issues, empty_issues, issues_as_text
from audit.score import score
from audit.sources import read_sources, sources_for_paths
from audit.sources.readers import Limits
from audit.validate import validate


def make_run_id(cfg: PipelineConfig, now: dt.datetime | None = None) -> str:
    """Time-ordered, naming the config, and unique: '20260131T090512-1a2b3c-9f04e1'.

    The random tail keeps two runs of one config started in the same second apart (also when
    they write to different folders but share a history); `reserve_run_dir` makes it certain.
    """
    now = now or dt.datetime.now(dt.UTC)
    digest = hashlib.sha1(json.dumps(dump_config(cfg), sort_keys=True).encode()).hexdigest()[:6]
    return f"{now:%Y%m%dT%H%M%S}-{digest}-{secrets.token_hex(3)}"


def reserve_run_dir(
    cfg: PipelineConfig, out_root: Path, owner: contextlib.ExitStack | None = None
) -> tuple[str, Path]:
    """A new run id whose folder this process created (exclusive mkdir): no two runs share one.

    The folder stays empty (so readers refuse it) until the finished run is renamed over it.
    With `owner`, the folder's owner lock is taken first and kept on that stack, so a later
    run sweeping the output folder knows the reservation is alive (`fsio.sweep_stale`).
    """
    for _ in range(100):
        run_id = make_run_id(cfg)
        lock = owning(out_root / run_id) if owner is not None else contextlib.nullcontext()
        held = contextlib.ExitStack()
        held.enter_context(lock)
        try:
            os.mkdir(out_root / run_id)
        except FileExistsError:
            held.close()
            continue
        if owner is not None:
            owner.push(held.pop_all())
        return run_id, out_root / run_id
    raise FileExistsError(f"{out_root}: could not find a free run id")  # pragma: no cover


def preflight(cfg: PipelineConfig, *, out_root: Path | None = None) -> None:
    """Check everything the config names before any work: a mistake found after the sources
    were read and matched costs the user minutes and says less than one line up front.

    Raises ConfigError (exit 2) naming the key: unknown KPI ids or parameters, rule packs,
    match rules or survivorship rules that are missing or invalid, an output folder that is a
    file or cannot be written.
    """
    from audit.errors import ConfigError
    from audit.kpis import KPIS, selected
    from audit.kpis.catalogue import param_problems
    from audit.match.rules import load_rules as load_match_rules
    from audit.match.survivorship import load_rules as load_survivorship
    from audit.report import WRITERS
    from audit.validate.rulepack import load_rules as load_rule_packs

    base = Path(cfg.base_dir)
    try:
        selected(cfg.kpis)
    except ConfigError as e:
        raise ConfigError(f"kpis.include: {e}") from None
    for kpi_id, given in cfg.kpis.params.items():
        if kpi_id not in KPIS:
            try:
                KPIS.get(kpi_id)
            except ConfigError as e:
                raise ConfigError(f"kpis.params: {e}") from None
        if not isinstance(given, dict):
            raise ConfigError(f"kpis.params.{kpi_id}: give a mapping of parameter: value.")
        problems = param_problems(KPIS.get(kpi_id), given)
        if problems:
            raise ConfigError(f"kpis.params.{kpi_id}: {'; '.join(problems)}.")
    for name in cfg.output.formats:
        try:
            WRITERS.get(name)
        except ConfigError as e:
            raise ConfigError(f"output.formats: {e}") from None
    load_rule_packs(cfg.rules, base_dir=base)
    load_match_rules(cfg.match.rules, base_dir=base)
    load_survivorship(cfg.match.survivorship, base_dir=base)
    if cfg.engine == "spark":
        from audit.spark import INSTALL_HINT, missing

        reason = missing()
        if reason:
            raise ConfigError(f"engine: spark cannot run here: {reason}; {INSTALL_HINT}.")
    if out_root is not None:
        where = "--out" if out_root != cfg.resolve(cfg.output.dir) else "output.dir"
        probe = out_root
        try:
            while not probe.exists() and probe.parent != probe:
                probe = probe.parent
        except OSError:
            return  # a name the OS refuses (too long, ...): run() says so in one line
        if not probe.is_dir():
            raise ConfigError(
                f"{where}: {probe} is a file, not a folder; choose a folder for the run folders."
            )
        if not os.access(probe, os.W_OK | os.X_OK):
            read_only = bool(os.statvfs(probe).f_flag & os.ST_RDONLY)
            why = "is on a read-only file system" if read_only else "cannot be written to"
            raise ConfigError(f"{where}: {probe} {why}; choose a folder you can write to.")


class _PandasStages:
    """The stages that an engine may run elsewhere, on this machine with pandas."""

    read_sources = staticmethod(read_sources)
    match = staticmethod(match)
    parquet = None  # the report writes one Parquet file per table
    normalize = staticmethod(functools.partial(normalize, release=True))
    validate = staticmethod(validate)

    def close(self) -> None:
        pass


def _stages(cfg: PipelineConfig, spark: Any | None) -> Any:
    if cfg.engine == "pandas" and spark is None:
        return _PandasStages()
    from audit.spark.stages import SparkStages

    return SparkStages(cfg.spark, spark)


def lean_memory() -> None:
    """Keep the resident size near what the run holds: large blocks go back to the system when
    freed, and Arrow-backed columns allocate from the C library's malloc, as numpy's arrays do.

    glibc serves a block over its mmap threshold (128 KiB) with a mapping of its own and returns
    it on free, but it raises that threshold to the size of every mapped block freed, up to
    32 MiB: after the first large frame is dropped, the stages' column-sized temporaries come
    from the heap, whose free pages stay resident under every later stage. Fixing the threshold
    keeps it at 128 KiB (MALLOC_MMAP_THRESHOLD_ in the environment wins).

    pyarrow's own pool (mimalloc) keeps the pages it freed for itself, where numpy cannot reuse
    them, and the other way round; a run moves text between the two all the time (object <->
    Arrow). A pool chosen with ARROW_DEFAULT_MEMORY_POOL is kept.

    Both together, at 100k contacts: a peak of 1,687 MB instead of 1,847, and 270-370 MB less
    resident after match, score and KPIs; match takes 1.4-1.9 CPU-s more (a fresh mapping per
    large temporary), the whole run's CPU is within noise. Both settings are process-wide:
    `run` and `analyse` make them.
    """
    fix_mmap_threshold()
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())


def analyse(
    cfg: PipelineConfig,
    *,
    progress: Progress = no_progress,
    run_id: str | None = None,
    memory: MatchMemory | None = None,
    spark: Any | None = None,
) -> RunResult:
    """Run every stage in memory and return the result (nothing written).

    `memory` is what the decisions store remembers (reviewers' pair decisions, the previous
    run's clusters); without it matching starts from zero. `spark` (a SparkSession) runs the
    heavy stages on it, as `engine: spark` does on a session of its own.
    """
    preflight(cfg)
    lean_memory()
    stages = _stages(cfg, spark)
    try:
        return _analyse(cfg, stages, progress=progress, run_id=run_id, recall=lambda: memory)
    finally:
        stages.close()


def _analyse(
    cfg: PipelineConfig,
    stages: Any,
    *,
    progress: Progress,
    run_id: str | None,
    recall: Callable[[], MatchMemory | None],
) -> RunResult:
    """The stages in order. `recall` gives the match stage its memory when match starts: a
    repeat run's store holds the previous run's clusters (a record id per clustered record),
    which need not sit beside the sources, normalize and validate, nor after match."""
    cfg = with_business_timezone(cfg)
    as_of = cfg.as_of or dt.datetime.now(dt.UTC).date()
    timings: dict[str, float] = {}
    progress("sources")
    with timed("sources", timings):
        ingest = stages.read_sources(
            cfg.sources,
            base_dir=Path(cfg.base_dir),
            limits=Limits(**cfg.limits.model_dump()),
            not_read=cfg.not_read,
        )
    read = int(ingest.counts["rows_read"].sum()) if "rows_read" in ingest.counts else 0
    stage_done(progress, "sources", read, timings["sources"])
    progress("normalize")
    # The raw frames (all text, as read) are normalize's input only: every row lives on typed
    # in `records`, and at 1M contacts the raw text is gigabytes held to the end of the report.
    raw, ingest = ingest.records, replace(ingest, records={})
    with timed("normalize", timings):
        records, norm_issues = stages.normalize(
            raw,
            cfg.normalize,
            cfg.sources,
            files=ingest.files,
            calendar_tz=cfg.kpis.timezone,
        )
    del raw
    n_records = sum(len(f) for f in records.values())
    stage_done(progress, "normalize", n_records, timings["normalize"])
    progress("validate")
    with timed("validate", timings):
        validation = stages.validate(
            records,
            cfg.rules,
            as_of=as_of,
            stale_after_days=cfg.stale_after_days,
            base_dir=Path(cfg.base_dir),
        )
    stage_done(progress, "validate", n_records, timings["validate"])
    progress("match")
    with timed("match", timings):
        matches = stages.match(
            records.get("contacts"),
            cfg.match,
            cfg.sources,
            pd.concat([norm_issues, validation.issues], ignore_index=True),
            memory=recall(),
        )
    contacts = records.get("contacts")
    stage_done(progress, "match", 0 if contacts is None else len(contacts), timings["match"])
    # The KPIs read the records, findings and duplicates, not the scores: they are computed in
    # a forked child beside the findings' conforming, score and gate, on the second core
    # (`kpis_beside`). The child reads the stages' own findings, in no order, so it starts now.
    pieces = [ingest.issues, norm_issues, validation.issues, matches.issues]
    # From here on every finding lives in `pieces`, then in `issues` alone: the stages' own
    # copies would double the largest frame of the run (one row per finding) until the report
    # is written.
    del norm_issues
    validation = replace(validation, issues=empty_issues())
    matches = replace(matches, issues=empty_issues())
    side = Beside(
        kpis_beside,
        records,
        pieces,
        matches,
        cfg.kpis,
        as_of,
        name="KPIs",
        fork=isinstance(stages, _PandasStages)  # a Spark session's sockets are not the child's
        and contacts is not None
        and len(contacts) >= beside.FORK_MIN_ROWS
        and memory_to_spare(),  # else here, after the gate: no second process's pages
    )
    try:
        issues = conform_issues(pd.concat(pieces, ignore_index=True))
        pieces[:] = [issues]  # the stages' frames let go; a child lost later reruns from this
        progress("score")
        needs = kpi_needs(cfg.kpis)
        with timed("score", timings):
            scorecard = score(
                records,
                issues,
                matches,
                cfg.thresholds,
                checked=validation.checked,
                kpi_needs=needs,
            )
        with timed("gate", timings):
            verdict = gate(scorecard, cfg.thresholds, needs)
    except BaseException:
        side.cancel()
        raise
    stage_done(progress, "score", n_records, timings["score"] + timings["gate"])
    progress("kpis")
    with timed("kpis", timings):
        if side.forked:
            kpis, kpi_extras = kpis_given(side.result(), verdict)
        else:  # nothing computed yet: the stage with the verdict, no breakdowns for a failed gate
            kpis, kpi_extras = kpi_stage(
                records,
                issues,
                matches,
                cfg.kpis,
                as_of=as_of,
                passed=verdict.passed,
                withheld=verdict.withheld_kpis,
            )
    stage_done(progress, "kpis", n_records, timings["kpis"])
    return RunResult(
        run_id=run_id or make_run_id(cfg),
        as_of=as_of,
        config=cfg,
        ingest=ingest,
        records=records,
        issues=issues,
        matches=matches,
        scorecard=scorecard,
        verdict=verdict,
        kpis=kpis,
        timings=timings,
        extras={"validation": validation, **kpi_extras},
    )


def kpis_beside(
    records: dict[str, pd.DataFrame],
    issues: list[pd.DataFrame],
    matches: Any,
    cfg: KpiConfig,
    as_of: dt.date,
) -> tuple[pd.DataFrame | None, dict[str, object]]:
    """The KPI stage before the gate has spoken: computed as if it passed, nothing withheld.

    Only the breakdowns and the withheld KPIs depend on the verdict (`kpis_given` applies
    it), so the stage needs neither score nor gate and can run beside them. When the gate
    fails the breakdowns were computed for nothing, on the core score does not use.

    `issues` are the stages' findings as they handed them over, not yet conformed: the KPIs
    read which records have which findings, never their order, so the child need not wait
    for `conform_issues` (about 2.5 s at 1M contacts) to sort the whole table, and gets only
    the columns the stage reads (`ISSUE_READS`): the findings' text would be a new Python
    string per cell in the child, each landing on a page it shares with this process.
    """
    return kpi_stage(
        records, issues_as_text(issues, ISSUE_READS), matches, cfg, as_of=as_of, passed=True
    )


def kpis_given(
    computed: tuple[pd.DataFrame | None, dict[str, object]], verdict: Any
) -> tuple[pd.DataFrame | None, dict[str, object]]:
    """`kpis_beside`'s answer once the verdict is known: what `kpi_stage` with the verdict
    returns (no KPIs and no breakdowns when the gate failed; the withheld KPIs blanked)."""
    table, extras = computed
    if not verdict.passed or table is None:
        return None, {k: v for k, v in extras.items() if k != "breakdowns"}
    return withhold(table, verdict.withheld_kpis or {}), extras


def run(
    cfg: PipelineConfig,
    *,
    out: Path | None = None,
    progress: Progress = no_progress,
    run_id: str | None = None,
    spark: Any | None = None,
) -> RunResult:
    """Run every stage, write the run folder and record the run in the history.

    `spark`: an existing SparkSession to run the heavy stages on (a notebook's, a cluster
    job's); it is left running. `engine: spark` in the config starts and stops one instead.

    Example:
        from audit import load_config, run
        result = run(load_config("configs/example.yaml"))
        print(result.scorecard.overall, result.verdict.passed)
    """
    out_root = Path(out if out is not None else cfg.resolve(cfg.output.dir))
    preflight(cfg, out_root=out_root)
    lean_memory()
    reserved = None
    owner = contextlib.ExitStack()  # this run's owner lock, held until its folder is in place
    try:
        with output_errors(out_root, config_path=True):
            out_root.mkdir(parents=True, exist_ok=True)
            if run_id is None:
                run_id, reserved = reserve_run_dir(cfg, out_root, owner)
            else:
                owner.enter_context(owning(out_root / run_id))
    except BaseException:
        owner.close()
        raise
    _sweep(out_root)
    hist_path = cfg.resolve(cfg.history.path) if cfg.history.path else out_root / "history.sqlite"
    store = review_store.store_path(hist_path)
    stages = None
    try:
        # the engine stays up through the report: with Spark it writes the large tables
        stages = _stages(cfg, spark)
        result = _analyse(
            cfg,
            stages,
            progress=progress,
            run_id=run_id,
            recall=lambda: (
                review_store.load_memory(store, before=run_id) if cfg.history.enabled else None
            ),
        )
        run_dir = out_root / result.run_id
        progress("report")
        with timed("report", result.timings):
            history_rows = []
            if cfg.history.enabled:
                history_rows = history.previous(hist_path, limit=10, before=result.run_id)
                result.extras["changes"] = _changes(store, result)
                result.extras["decisions"] = review_store.learn(store)
            result.extras["history"] = history_rows
            from audit.merge.review import write_review

            write_report(
                result, run_dir, cfg.output.formats, review=write_review, parquet=stages.parquet
            )
        stage_done(
            progress,
            "report",
            sum(len(f) for f in result.records.values()) + len(result.issues),
            result.timings["report"],
        )
    except BaseException:
        if reserved is not None and reserved.is_dir() and not any(reserved.iterdir()):
            reserved.rmdir()  # the reservation only: nothing of this run is left behind
        raise
    finally:
        owner.close()
        if stages is not None:
            stages.close()
    if cfg.history.enabled:
        history.record(hist_path, result)
        c = result.matches.clusters
        hashes = result.matches.cluster_hashes
        review_store.record_run(
            store,
            result.run_id,
            run_dir,
            list(
                zip(
                    c["cluster_id"].astype(str),
                    c["record_id"].astype(str),
                    c["decision"].astype(str) if "decision" in c else [""] * len(c),
                    strict=True,
                )
            ),
            [""] * len(c) if hashes is None else hashes.to_pylist(),
            result.matches.stats.get("memory") or {},
        )
    return _with_dir(result, run_dir)


def _sweep(out_root: Path) -> None:
    """Clean up after runs that were killed here, never a live one's (`fsio.sweep_stale`)."""
    swept = sweep_stale_runs(out_root)
    if swept:
        more = "; ..." if len(swept) > 1 else ""
        warnings.warn(
            f"{out_root}: cleaned up after {len(swept)} interrupted run(s) whose process is "
            f"gone ({swept[0]}{more}).",
            CleanupWarning,
            stacklevel=3,
        )


def _changes(store: Path, result: RunResult) -> dict[str, object] | None:
    """The change report against the previous run in the store; None on a first run."""
    from audit.changes import compute_changes
    from audit.errors import AuditError
    from audit.report import load_run

    prev = review_store.previous_run(store, before=result.run_id)
    if prev is None:
        return None
    prev_id, prev_dir = prev
    try:
        # only what compute_changes reads: the whole previous run would sit beside this one's
        folder = load_run(prev_dir, only=("issues", "clusters"))
    except AuditError as e:
        return {"previous_run_id": prev_id, "unavailable": f"previous run folder unreadable: {e}"}
    return compute_changes(folder.run, folder.tables, result)


def _with_dir(result: RunResult, run_dir: Path) -> RunResult:
    return replace(result, run_dir=run_dir)


def config_for_paths(paths: list[Path], *, as_of: dt.date | None = None) -> PipelineConfig:
    """A default config for exports given directly on the command line (auto-detected).

    A folder becomes one source per file, as `crm-audit init` writes it, so per-source scores
    and survivorship priorities work the same with or without a config.
    """
    sources, not_read = sources_for_paths(paths)
    cfg = parse_config(
        {"sources": sources, "as_of": as_of},
        source="<command line>",
        base_dir=Path.cwd(),
    )
    cfg._not_read = not_read
    return cfg
