"""The run's own words in the report language: findings, gate reasons, KPI titles.

Stages write English (run.json and the `message` column are what scripts grep); here, at the
report layer, the stored English is put into `output.language` with the message catalogue
(`audit.messages`) and the translations written beside each rule in its pack. The issues table
keeps `message` and `suggestion` in English and gains `message_<language>` and
`suggestion_<language>` (e.g. `message_ko`) beside them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from audit.errors import ConfigError
from audit.messages import (
    RuleTexts,
    has_key,
    localize,
    localize_finding,
    localize_suggestion,
    msg,
)


def rule_texts(config: Mapping[str, Any] | None) -> tuple[RuleTexts, RuleTexts]:
    """rule id -> {language: template} of the messages and of the suggestions of the run's
    rule packs (run.json's config).

    A run folder read back on another machine may not find its custom packs; its findings
    then fall back to the catalogue, and to English.
    """
    from audit.config import parse_config
    from audit.validate.rulepack import load_rules

    if not config:
        return {}, {}
    try:
        cfg = parse_config(dict(config), base_dir=Path(str(config.get("base_dir") or ".")))
        rules = load_rules(cfg.rules, base_dir=Path(cfg.base_dir))
    except (ConfigError, OSError, ValueError):
        return {}, {}
    messages = {r.id: {"en": r.message, **dict(r.translations)} for r in rules if r.translations}
    suggestions = {
        r.id: {"en": r.suggestion or "", **dict(r.suggestion_translations)}
        for r in rules
        if r.suggestion_translations
    }
    return messages, suggestions


def message_column(language: str, column: str = "message") -> str:
    return f"{column}_{language}"


def localize_issues(
    issues: pd.DataFrame,
    language: str,
    texts: RuleTexts,
    suggestions: RuleTexts | None = None,
) -> pd.DataFrame:
    """`issues` with `message_<language>` after `message` and `suggestion_<language>` after
    `suggestion` (each distinct text translated once)."""
    if language == "en" or issues.empty or not {"rule_id", "message"} <= set(issues.columns):
        return issues
    out = issues.copy()
    keys = issues["rule_id"].astype("object").fillna("").astype(str)
    for column, fn, templates in (
        ("message", localize_finding, texts),
        ("suggestion", localize_suggestion, suggestions or {}),
    ):
        if column not in out.columns:
            continue
        col = message_column(language, column)
        src = issues[column].astype("object")
        codes, uniques = pd.factorize(pd.MultiIndex.from_arrays([keys, src.fillna("")]))
        done = [fn(r, t, language, templates) if t else t for r, t in uniques]
        values = pd.Series(done, dtype=object).to_numpy()[codes]
        values = pd.Series(values, index=out.index, dtype=object).where(src.notna(), None)
        out = out.drop(columns=[col], errors="ignore")
        out.insert(list(out.columns).index(column) + 1, col, values)
    return out


def localize_verdict(verdict: Mapping[str, Any], language: str) -> dict[str, Any]:
    """The gate's reasons, warnings, quick wins and withheld KPIs' reasons in `language`."""
    if language == "en" or not verdict:
        return dict(verdict)
    out = dict(verdict)
    for key in ("reasons", "warnings", "quick_wins"):
        out[key] = [localize(str(t), language) for t in verdict.get(key) or []]
    out["withheld_kpis"] = {
        k: localize(str(v), language) for k, v in (verdict.get("withheld_kpis") or {}).items()
    }
    return out


def localize_kpi_frame(frame: pd.DataFrame, language: str) -> pd.DataFrame:
    """KPI titles, notes and raw-vs-clean causes in `language` (kpi_id stays as it is)."""
    if language == "en" or frame.empty or "kpi_id" not in frame.columns:
        return frame
    out = frame.copy()
    if "title" in out.columns:
        out["title"] = [
            msg(f"kpi.{k}", language) if has_key(f"kpi.{k}") else t
            for k, t in zip(out["kpi_id"], out["title"], strict=True)
        ]
    for col in ("note", "cause"):
        if col in out.columns:
            out[col] = [localize(v, language) if isinstance(v, str) else v for v in out[col]]
    return out
