"""The same rule packs as a Great Expectations suite: the dataset-level contract.

The only module that imports great_expectations (lazily: the import costs about 3 s). Kinds GX
has built-ins for compile to them (`Kind.gx`); every other rule reaches the suite as a flag
column computed by the engine (True passed, False failed, missing = not checked) checked with
ExpectColumnValuesToBeInSet([True]). That keeps the suite free of custom expectation classes
(no global metric registry, nothing lost when a suite is reloaded) and makes GX's unexpected
counts directly comparable with the engine's n_failed, rule by rule.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import os
import queue
import signal
import threading
import warnings
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from audit.columnwise import fork_child, stop_child

from .engine import RuleRun
from .kinds import KINDS, Outcome

FLAG_PREFIX = "flag__"


def flag_column(rule_id: str) -> str:
    return FLAG_PREFIX + rule_id.replace(".", "__")


def _gx() -> Any:
    # Analytics off before the import (older 1.x read it at import time); no network either way.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    for name in (
        "great_expectations",
        "great_expectations.core",
        "great_expectations.data_context",
    ):
        logging.getLogger(name).setLevel(logging.ERROR)
    with warnings.catch_warnings():
        # GX imports pyspark when it is installed (the spark extra); pyspark 4.x warns that
        # pandas 3 is not fully supported, which concerns its own engine, not this contract
        warnings.filterwarnings("ignore", "PySpark does not yet fully support", FutureWarning)
        import great_expectations as gx

    return gx


def compile_suite(runs: list[RuleRun], records: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Per entity: the frame GX will see and the (rule_id, expectation class, kwargs) list."""
    plan: dict[str, Any] = {}
    for run in runs:
        rule = run.rule
        if run.outcome is None or rule.entity not in records:
            continue  # skipped or errored rules are reported by the engine, not by GX
        frame = records[rule.entity]
        entry = plan.setdefault(rule.entity, {"columns": {}, "expectations": []})
        compiled = _builtin(rule, frame)
        if compiled is not None:
            name, kwargs = compiled
            entry["columns"][rule.field] = frame[rule.field]
        else:
            col = flag_column(rule.id)
            flag = (~run.outcome.failed).astype("boolean")
            if run.outcome.checked is not None:
                flag[~run.outcome.checked.to_numpy(bool)] = pd.NA
            # a nullable boolean column (2 bytes a row): GX filters the whole batch frame once
            # per expectation, and taking rows of object columns touches every Python object
            entry["columns"][col] = flag
            name, kwargs = "ExpectColumnValuesToBeInSet", {"column": col, "value_set": [True]}
        entry["expectations"].append((rule, name, kwargs))
    return plan


def _builtin(rule: Any, frame: pd.DataFrame) -> tuple[str, dict[str, Any]] | None:
    """The GX built-in expectation `rule` compiles to on `frame` (None: a flag column)."""
    kind = KINDS.get(rule.kind)
    return kind.gx(rule) if kind.gx is not None and rule.field in frame.columns else None


def run_contract(
    runs: list[RuleRun],
    records: dict[str, pd.DataFrame],
    *,
    docs_dir: str | Path | None = None,
    as_of: dt.date | None = None,
    spark_frame: Callable[[pd.DataFrame], Any] | None = None,
) -> dict[str, Any]:
    """Run the compiled suite per entity (BASIC results; SUMMARY with Data Docs) and return a
    JSON-able summary.

    With `spark_frame` (a pandas frame -> Spark frame function, the Spark engine's) the suite
    runs on GX's Spark datasource over each entity's frame turned into a Spark frame: the
    same expectations, the same summary.
    """
    plan = compile_suite(runs, records)
    if not plan:
        return {"engine": "great_expectations", "success": True, "results": [], "entities": {}}
    failed = {r.rule.id: r.n_failed for r in runs}
    return _execute(plan, records, failed, docs_dir, as_of, spark_frame)


def _execute(
    plan: dict[str, Any],
    records: dict[str, pd.DataFrame],
    engine_failed: dict[str, int],
    docs_dir: str | Path | None,
    as_of: dt.date | None,
    spark_frame: Callable[[pd.DataFrame], Any] | None = None,
) -> dict[str, Any]:
    session = _Session(docs_dir, as_of, spark_frame)
    for entity in sorted(plan):
        session.run(entity, plan[entity], records, engine_failed)
    return session.finish()


class _Session:
    """One GX context for a run: a suite and a validation per entity, then the summary.

    Entities may come in any order (the worker runs each as soon as its rules are done); the
    summary is the same, since it lists them by name.
    """

    def __init__(
        self,
        docs_dir: str | Path | None,
        as_of: dt.date | None,
        spark_frame: Callable[[pd.DataFrame], Any] | None = None,
    ) -> None:
        self.gx = _gx()
        self.spark_frame = spark_frame
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context = self.gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        if docs_dir is not None:
            docs = Path(docs_dir).resolve()
            docs.mkdir(parents=True, exist_ok=True)
            context.add_data_docs_site(
                site_name="crm_audit",
                site_config={
                    "class_name": "SiteBuilder",
                    "store_backend": {
                        "class_name": "TupleFilesystemStoreBackend",
                        "base_directory": str(docs),
                    },
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                },
            )
        self.context, self.docs_dir = context, docs_dir
        if spark_frame is None:
            self.source = context.data_sources.add_pandas("crm_audit")
        else:
            self.source = context.data_sources.add_spark("crm_audit")
        self.run_time = dt.datetime.combine(as_of or dt.date(2000, 1, 1), dt.time(), dt.UTC)
        self.results: list[dict[str, Any]] = []
        self.entities: dict[str, Any] = {}

    def run(
        self,
        entity: str,
        entry: dict[str, Any],
        records: dict[str, pd.DataFrame],
        engine_failed: dict[str, int],
    ) -> None:
        """Validate one entity's compiled suite (`compile_suite(...)[entity]`)."""
        gx = self.gx
        import great_expectations.expectations as gxe
        from great_expectations.core.run_identifier import RunIdentifier

        frame = pd.DataFrame(entry["columns"])
        # rows in record_id order, so the sample of unexpected values GX reports does not
        # depend on the order the input rows came in
        ids = records[entity]["record_id"].astype("str").fillna("")
        frame = frame.iloc[_order(ids)]
        frame = frame.reset_index(drop=True)
        if self.spark_frame is None:
            frame = _cheap_to_filter(frame, entry["expectations"])
        batch_def = self.source.add_dataframe_asset(entity).add_batch_definition_whole_dataframe(
            "all"
        )
        expectations = [gxe.ExpectTableRowCountToBeBetween(min_value=1)]
        for rule, name, kwargs in entry["expectations"]:
            cls = getattr(gxe, name)
            expectations.append(
                cls(
                    **kwargs,
                    meta={"rule_id": rule.id, "severity": rule.severity},
                    description=f"{rule.id}: {rule.message}",
                )
            )
        # the suite is stored once with every expectation: adding them one by one to a stored
        # suite writes the whole suite again each time (GX's store), quadratic in the rules
        suite = self.context.suites.add(
            gx.ExpectationSuite(name=f"crm_audit.{entity}", expectations=expectations)
        )
        vd = self.context.validation_definitions.add(
            gx.ValidationDefinition(name=f"crm_audit.{entity}", data=batch_def, suite=suite)
        )
        res = vd.run(
            batch_parameters={
                "dataframe": frame if self.spark_frame is None else self.spark_frame(frame)
            },
            # SUMMARY adds the unexpected rows' index list and value counts (a filter of the
            # whole frame each): the summary below reads none of them; Data Docs show them
            result_format="BASIC" if self.docs_dir is None else "SUMMARY",
            run_id=RunIdentifier(run_name="crm-audit", run_time=self.run_time),
        )
        self.entities[entity] = {
            "success": bool(res.success),
            "statistics": {k: _plain(v) for k, v in res.statistics.items()},
            "rows": len(frame),
        }
        for r in res.results:
            cfg = r.expectation_config
            rid = (cfg.meta or {}).get("rule_id")
            info = r.exception_info or {}
            raised = bool(info.get("raised_exception")) or any(
                isinstance(v, dict) and v.get("raised_exception") for v in info.values()
            )
            out = r.result or {}
            row = {
                "rule_id": rid,
                "entity": entity,
                "expectation": cfg.type,
                "column": cfg.kwargs.get("column"),
                "success": bool(r.success),
                "errored": raised,
                "element_count": _plain(out.get("element_count")),
                "unexpected_count": _plain(out.get("unexpected_count")),
                "unexpected_percent": _plain(out.get("unexpected_percent")),
                "partial_unexpected": [
                    _shown(v) for v in (out.get("partial_unexpected_list") or [])[:5]
                ],
                "flag_column": str(cfg.kwargs.get("column", "")).startswith(FLAG_PREFIX),
            }
            if rid is not None:
                row["engine_n_failed"] = engine_failed.get(rid)
                row["agrees"] = row["unexpected_count"] == engine_failed.get(rid)
            self.results.append(row)

    def finish(self) -> dict[str, Any]:
        """Data docs (if asked for) and the JSON-able summary."""
        docs_index = None
        if self.docs_dir is not None:
            self.context.build_data_docs(site_names=["crm_audit"])
            docs_index = str(Path(self.docs_dir).resolve() / "index.html")
        results = sorted(
            self.results, key=lambda r: (r["entity"], r["rule_id"] or "", r["expectation"])
        )
        entities = {name: self.entities[name] for name in sorted(self.entities)}
        mismatches = [r["rule_id"] for r in results if r.get("agrees") is False]
        return {
            "engine": "great_expectations",
            "version": self.gx.__version__,
            "success": all(e["success"] for e in entities.values()),
            "entities": entities,
            "results": results,
            "agrees_with_engine": not mismatches,
            "mismatches": mismatches,
            "docs": docs_index,
        }


# Expectations that give the same result on a categorical column as on the text or boolean
# column it was made from: a null test, a regular expression on the text, set membership.
_CATEGORICAL_SAFE = frozenset(
    {
        "ExpectColumnValuesToNotBeNull",
        "ExpectColumnValuesToMatchRegex",
        "ExpectColumnValuesToBeInSet",
    }
)


def _cheap_to_filter(frame: pd.DataFrame, expectations: list[Any]) -> pd.DataFrame:
    """`frame` with its text and boolean columns as categoricals, where only expectations of
    `_CATEGORICAL_SAFE` read them.

    GX's pandas engine filters the whole batch frame, every column, about twice per expectation
    (each map metric drops the rows whose own column is null). Taking rows of an Arrow text
    column copies its bytes, of a nullable boolean its values and mask; a categorical is taken
    as its integer codes. At 100k contacts (28 expectations) that is 1.05 -> 0.53 CPU-s, with
    the same counts and the same unexpected values (the categories are the values).
    """
    readers: dict[str, set[str]] = {}
    for _, name, kwargs in expectations:
        readers.setdefault(kwargs.get("column", ""), set()).add(name)
    cols = {
        c: frame[c].astype("category")
        for c, names in readers.items()
        if c in frame.columns
        and names <= _CATEGORICAL_SAFE
        and (frame[c].dtype == "str" or frame[c].dtype == "boolean")
    }
    if not cols:
        return frame
    frame = frame.copy(deep=False)
    for c, values in cols.items():
        frame[c] = values
    return frame


def _order(ids: pd.Series) -> np.ndarray:
    """Stable argsort of the ids. Arrow compares UTF-8 bytes, which orders as Python compares
    code points, in a fraction of the time of sorting a million Python strings."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.sort_indices(pa.array(ids)).to_numpy()


def _shown(v: Any) -> str | None:
    """An unexpected value as text; a missing one as null, whichever datasource (pandas
    gives NaN for a missing text, Spark None)."""
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v):
        return None
    return str(v)


def _plain(v: Any) -> Any:
    """numpy scalars and the like to JSON-able Python values."""
    if v is None or isinstance(v, bool | int | str):
        return v
    if isinstance(v, float):
        return None if v != v else v
    try:
        return v.item()
    except AttributeError:
        return str(v)


# Below this many records the contract runs in this process: a worker's own GX import (about
# 3 s) would cost more than it saves, and small runs (tests, notebooks) share one import.
FORK_MIN_ROWS = 50_000


class Contract:
    """The contract, run beside the rules when the data is large.

    A forked worker imports GX while this process runs the rules, then receives, entity by
    entity as their rules finish, only the engine's flags (two booleans a row per flag rule;
    the data columns it already has from the fork) and validates that entity while this
    process goes on with the next one's rules. Its GX import and
    the frames GX copies never enter this process. The answer is `run_contract`'s: the same
    compile and run, on the same frames. Without fork, with one worker or on small data, it
    simply is `run_contract` in this process; if the worker fails it runs here too.
    """

    def __init__(
        self,
        records: dict[str, pd.DataFrame],
        *,
        docs_dir: str | Path | None = None,
        as_of: dt.date | None = None,
        fork_min_rows: int | None = None,
    ) -> None:
        self._records, self._docs, self._as_of = records, docs_dir, as_of
        self._runs: list[RuleRun] = []
        self._proc: Any = None
        self._conn: Connection | None = None
        least = FORK_MIN_ROWS if fork_min_rows is None else fork_min_rows
        rows = sum(len(f) for f in records.values())
        if rows < least:
            return
        child = fork_child(
            _serve, (records, docs_dir, as_of), name="crm-audit-gx", daemon=True, duplex=True
        )
        if child is not None:
            self._proc, self._conn = child

    @property
    def forked(self) -> bool:
        """Whether a worker process runs the contract."""
        return self._proc is not None

    def submit(self, runs: list[RuleRun]) -> None:
        """Hand over the outcomes of one entity's rules (all of them); the worker validates
        that entity at once."""
        self._runs.extend(runs)
        if self._conn is None:
            return
        try:
            self._conn.send(("entity", _flags(runs, self._records)))
        except OSError:
            self.close()

    def result(self) -> dict[str, Any]:
        """The contract summary, once every rule was submitted (waits for the worker)."""
        if self._conn is not None:
            try:
                self._conn.send(("done", None))
                status, payload = self._conn.recv()
            except (EOFError, OSError):
                status, payload = "lost", None
            finally:
                self.close()
            if status == "ok":
                return payload
        return run_contract(self._runs, self._records, docs_dir=self._docs, as_of=self._as_of)

    def close(self) -> None:
        """Stop the worker if it still runs (an error elsewhere in validate)."""
        stop_child(self._proc, self._conn)
        self._proc, self._conn = None, None


_Wired = tuple[Any, int, bool, "np.ndarray | None", "np.ndarray | None"]


def _flags(runs: list[RuleRun], records: dict[str, pd.DataFrame]) -> list[_Wired]:
    """What the worker needs of each run: the rule, n_failed, whether it has an outcome
    (skipped and errored rules stay out of the contract) and, for a rule that becomes a flag
    column, its failed/checked masks (a built-in expectation reads the data column itself)."""
    out: list[_Wired] = []
    for r in runs:
        o = r.outcome
        frame = records.get(r.rule.entity)
        if o is None or frame is None or _builtin(r.rule, frame) is not None:
            out.append((r.rule, r.n_failed, o is not None, None, None))
            continue
        checked = None if o.checked is None else o.checked.to_numpy(dtype=bool)
        out.append((r.rule, r.n_failed, True, o.failed.to_numpy(dtype=bool), checked))
    return out


def _unwired(wired: _Wired, records: dict[str, pd.DataFrame]) -> RuleRun:
    """A RuleRun holding what compile_suite reads, from `_flags`'s tuple."""
    rule, n_failed, has_outcome, failed, checked = wired
    outcome = None
    if has_outcome and failed is None:  # a built-in: compile_suite reads no mask
        outcome = Outcome(failed=pd.Series(dtype=bool))
    elif has_outcome:
        index = records[rule.entity].index
        outcome = Outcome(
            failed=pd.Series(failed, index=index),
            checked=None if checked is None else pd.Series(checked, index=index),
        )
    return RuleRun(rule, "ok", None, outcome, 0, n_failed)


def _drain(conn: Connection) -> queue.SimpleQueue[tuple[str, Any]]:
    """The parent's messages, read as soon as they arrive by a thread of this worker.

    A pipe holds 64 KiB: without it the parent's `submit` would wait, with the next entity's
    rules not started, until this worker had imported GX and validated the entity before (at
    100k contacts 5.8 s of a 14 s stage). The reader ends after "done"; a closed pipe
    arrives as ("lost", None).
    """
    inbox: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()

    def read() -> None:
        try:
            while True:
                message = conn.recv()
                inbox.put(message)
                if message[0] == "done":
                    return
        except (EOFError, OSError):
            inbox.put(("lost", None))

    threading.Thread(target=read, name="crm-audit-gx-inbox", daemon=True).start()
    return inbox


def _serve(
    conn: Connection,
    records: dict[str, pd.DataFrame],
    docs_dir: str | Path | None,
    as_of: dt.date | None,
) -> None:
    """The worker: import GX, validate each entity whose flags arrive, then send the summary
    back (what `run_contract` gives for all the runs at once)."""
    gc.freeze()  # what the fork inherited is never collected here: leave its pages shared
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's; it stops this one
    inbox = _drain(conn)
    try:
        _gx()
        import great_expectations.expectations  # noqa: F401

        session: _Session | None = None
        while True:
            what, got = inbox.get()
            if what == "lost":
                raise EOFError("the validate stage went away")
            if what == "done":
                break
            runs = [_unwired(w, records) for w in got]
            plan = compile_suite(runs, records)
            engine_failed = {r.rule.id: r.n_failed for r in runs}
            for entity in sorted(plan):
                session = session or _Session(docs_dir, as_of)
                session.run(entity, plan[entity], records, engine_failed)
        summary = (
            session.finish()
            if session is not None
            else {"engine": "great_expectations", "success": True, "results": [], "entities": {}}
        )
        reply: tuple[str, Any] = ("ok", summary)
    except Exception as e:  # the parent runs it again and sees the error itself
        reply = ("error", f"{type(e).__name__}: {e}")
    try:
        conn.send(reply)
    except OSError:
        pass
    finally:
        conn.close()
