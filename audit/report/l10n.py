"""The run's own words in the report language: findings, gate reasons, KPI titles.

Stages write English (run.json and the `message` column are what scripts grep); here, at the
report layer, the stored English is put into `output.language` with the message catalogue
(`audit.messages`) and the translations written beside each rule in its pack. The issues table
keeps `message` in English and gains `message_<language>` (e.g. `message_ko`) beside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from audit.errors import ConfigError
from audit.messages import RuleTexts, has_key, localize, localize_finding, msg


def rule_texts(config: Mapping[str, Any] | None) -> dict[str, dict[str, str]]:
    """rule id -> {language: message template} of the run's rule packs (run.json's config).

    A run folder read back on another machine may not find its custom packs; its findings
    then fall back to the catalogue, and to English.
    """
    from audit.config import parse_config
    from audit.validate.rulepack import load_rules

    if not config:
        return {}
    try:
        cfg = parse_config(dict(config), base_dir=Path(str(config.get("base_dir") or ".")))
        rules = load_rules(cfg.rules, base_dir=Path(cfg.base_dir))
    except (ConfigError, OSError, ValueError):
        return {}
    return {r.id: {"en": r.message, **dict(r.translations)} for r in rules if r.translations}


def message_column(language: str) -> str:
    return f"message_{language}"


def localize_issues(issues: pd.DataFrame, language: str, texts: RuleTexts) -> pd.DataFrame:
    """`issues` with `message_<language>` after `message` (each distinct message once)."""
    if language == "en" or issues.empty or not {"rule_id", "message"} <= set(issues.columns):
        return issues
    col = message_column(language)
    keys = issues["rule_id"].astype("object").fillna("").astype(str)
    msgs = issues["message"].astype("object")
    pairs = pd.MultiIndex.from_arrays([keys, msgs.fillna("")])
    codes, uniques = pd.factorize(pairs)
    done = [localize_finding(r, m, language, texts) if m else m for r, m in uniques]
    out = issues.drop(columns=[col], errors="ignore").copy()
    values = pd.Series(done, dtype=object).to_numpy()[codes]
    values = pd.Series(values, index=out.index, dtype=object).where(msgs.notna(), None)
    out.insert(list(out.columns).index("message") + 1, col, values)
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
