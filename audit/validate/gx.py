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
import logging
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .engine import RuleRun
from .kinds import KINDS

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
        kind = KINDS.get(rule.kind)
        compiled = kind.gx(rule) if kind.gx is not None and rule.field in frame.columns else None
        if compiled is not None:
            name, kwargs = compiled
            entry["columns"][rule.field] = frame[rule.field]
        else:
            col = flag_column(rule.id)
            flag = (~run.outcome.failed).astype("boolean")
            if run.outcome.checked is not None:
                flag[~run.outcome.checked.to_numpy(bool)] = pd.NA
            entry["columns"][col] = flag.astype(object).where(flag.notna(), None)
            name, kwargs = "ExpectColumnValuesToBeInSet", {"column": col, "value_set": [True]}
        entry["expectations"].append((rule, name, kwargs))
    return plan


def run_contract(
    runs: list[RuleRun],
    records: dict[str, pd.DataFrame],
    *,
    docs_dir: str | Path | None = None,
    as_of: dt.date | None = None,
    spark_frame: Callable[[pd.DataFrame], Any] | None = None,
) -> dict[str, Any]:
    """Run the compiled suite per entity (SUMMARY results) and return a JSON-able summary.

    With `spark_frame` (a pandas frame -> Spark frame function, the Spark engine's) the suite
    runs on GX's Spark datasource over each entity's frame turned into a Spark frame: the
    same expectations, the same summary.
    """
    plan = compile_suite(runs, records)
    if not plan:
        return {"engine": "great_expectations", "success": True, "results": [], "entities": {}}
    gx = _gx()
    import great_expectations.expectations as gxe
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
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
    if spark_frame is None:
        source = context.data_sources.add_pandas("crm_audit")
    else:
        source = context.data_sources.add_spark("crm_audit")
    run_time = dt.datetime.combine(as_of or dt.date(2000, 1, 1), dt.time(), dt.UTC)
    results: list[dict[str, Any]] = []
    entities: dict[str, Any] = {}
    engine_failed = {r.rule.id: r.n_failed for r in runs}
    for entity in sorted(plan):
        entry = plan[entity]
        frame = pd.DataFrame(entry["columns"])
        # rows in record_id order, so the sample of unexpected values GX reports does not
        # depend on the order the input rows came in
        ids = records[entity]["record_id"].astype("str").fillna("")
        frame = frame.iloc[np.argsort(ids.to_numpy(dtype=object), kind="stable")]
        frame = frame.reset_index(drop=True)
        batch_def = source.add_dataframe_asset(entity).add_batch_definition_whole_dataframe("all")
        suite = context.suites.add(gx.ExpectationSuite(name=f"crm_audit.{entity}"))
        suite.add_expectation(gxe.ExpectTableRowCountToBeBetween(min_value=1))
        for rule, name, kwargs in entry["expectations"]:
            cls = getattr(gxe, name)
            suite.add_expectation(
                cls(
                    **kwargs,
                    meta={"rule_id": rule.id, "severity": rule.severity},
                    description=f"{rule.id}: {rule.message}",
                )
            )
        vd = context.validation_definitions.add(
            gx.ValidationDefinition(name=f"crm_audit.{entity}", data=batch_def, suite=suite)
        )
        res = vd.run(
            batch_parameters={"dataframe": frame if spark_frame is None else spark_frame(frame)},
            result_format="SUMMARY",
            run_id=RunIdentifier(run_name="crm-audit", run_time=run_time),
        )
        entities[entity] = {
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
            results.append(row)
    docs_index = None
    if docs_dir is not None:
        context.build_data_docs(site_names=["crm_audit"])
        docs_index = str(Path(docs_dir).resolve() / "index.html")
    results.sort(key=lambda r: (r["entity"], r["rule_id"] or "", r["expectation"]))
    mismatches = [r["rule_id"] for r in results if r.get("agrees") is False]
    return {
        "engine": "great_expectations",
        "version": gx.__version__,
        "success": all(e["success"] for e in entities.values()),
        "entities": entities,
        "results": results,
        "agrees_with_engine": not mismatches,
        "mismatches": mismatches,
        "docs": docs_index,
    }


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
