"""Real exports, audited one file at a time, against expectations written by reading the files.

The files in tests/fixtures/real/ come from public repositories (see MANIFEST.md there); the
expectations in expectations.yaml were written by a person reading each file, so a pass here says
the tool sees what a user sees, on data nobody made for it. Checks that main does not pass yet
carry `pending: AREA` (the branch fixing it) or `gap:` (nobody's yet) and run as strict xfails.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from audit import RunResult, analyse, config_for_paths

REAL = Path(__file__).parent / "fixtures" / "real"
SPEC = yaml.safe_load((REAL / "expectations.yaml").read_text(encoding="utf-8"))
AS_OF = dt.date.fromisoformat(str(SPEC["as_of"]))
PENDING_AREAS = {"phones", "vendor", "sources", "gate", "matchsafe", "xscript"}


@cache
def audited(name: str) -> RunResult:
    return analyse(config_for_paths([REAL / name], as_of=AS_OF))


def _cases() -> list[Any]:
    cases = []
    for name, spec in SPEC["files"].items():
        for check in spec["checks"]:
            marks = []
            if "pending" in check:
                assert check["pending"] in PENDING_AREAS, check
                reason = f"pending: {check['pending']} -- {check['says']}"
                marks.append(pytest.mark.xfail(strict=True, reason=reason))
            elif "gap" in check:
                reason = f"gap: {check['gap']} -- {check['says']}"
                marks.append(pytest.mark.xfail(strict=True, reason=reason))
            cases.append(pytest.param(name, check, id=f"{name}::{check['id']}", marks=marks))
    return cases


def _row(result: RunResult, entity: str, row: int) -> pd.Series:
    frame = result.records.get(entity)
    assert frame is not None, f"no {entity} records at all"
    hit = frame[frame["source_row"] == row]
    assert len(hit) == 1, f"{len(hit)} {entity} records at row {row}"
    return hit.iloc[0]


def _issues(result: RunResult, rule: str | list[str], row: int | None, entity: str) -> pd.DataFrame:
    rules = [rule] if isinstance(rule, str) else list(rule)
    issues = result.issues[result.issues["rule_id"].isin(rules)]
    if row is not None:
        issues = issues[issues["record_id"] == _row(result, entity, row)["record_id"]]
    return issues


def _number(n: int, spec: dict[str, int], what: str) -> None:
    if "equals" in spec:
        assert n == spec["equals"], f"{what}: {n}, expected {spec['equals']}"
    if "min" in spec:
        assert n >= spec["min"], f"{what}: {n}, expected at least {spec['min']}"
    if "max" in spec:
        assert n <= spec["max"], f"{what}: {n}, expected at most {spec['max']}"


def _pair_bands(result: RunResult, rows: list[int], entity: str = "contacts") -> set[str]:
    a, b = (_row(result, entity, r)["record_id"] for r in rows)
    pairs = result.matches.pairs
    if pairs is None or pairs.empty:
        return set()
    hit = pairs[
        ((pairs["record_id_l"] == a) & (pairs["record_id_r"] == b))
        | ((pairs["record_id_l"] == b) & (pairs["record_id_r"] == a))
    ]
    return set(hit["band"])


@pytest.mark.parametrize(("name", "check"), _cases())
def test_real_export(name: str, check: dict[str, Any]) -> None:
    result = audited(name)
    says = check["says"]
    if "ingest" in check:
        spec = check["ingest"]
        files = result.ingest.files
        if "entity" in spec:
            files = files[files["entity"] == spec["entity"]]
            assert len(files) == 1, f"{says}: read as {list(result.ingest.files['entity'])}"
        info = files.iloc[0]
        for key, column in (("read", "rows_read"), ("ingested", "rows_ingested")):
            if key in spec:
                assert info[column] == spec[key], f"{says}: {key} {info[column]}"
        if "rejected" in spec:
            assert files["rows_rejected"].sum() == spec["rejected"], says
        if "profile" in spec:
            assert info["profile"] == spec["profile"], f"{says}: profile {info['profile']}"
        if "encoding" in spec:
            got = str(info["encoding"]).lower().replace("_", "-")
            assert got in [e.lower().replace("_", "-") for e in spec["encoding"]], got
    elif "finding" in check:
        spec = check["finding"]
        entity = spec.get("entity", "contacts")
        found = _issues(result, spec["rule"], spec.get("row"), entity)
        assert len(found) > 0, f"{says}: no {spec['rule']} finding"
    elif "no_finding" in check:
        spec = check["no_finding"]
        entity = spec.get("entity", "contacts")
        found = _issues(result, spec["rule"], spec.get("row"), entity)
        assert found.empty, f"{says}: {found[['rule_id', 'value']].to_dict('records')}"
    elif "count" in check:
        spec = check["count"]
        rules = [spec["rule"]] if isinstance(spec["rule"], str) else spec["rule"]
        n = int(result.issues["rule_id"].isin(rules).sum())
        _number(n, spec, says)
    elif "value" in check:
        spec = check["value"]
        got = _row(result, spec.get("entity", "contacts"), spec["row"])[spec["column"]]
        if spec.get("empty"):
            assert got is None or pd.isna(got) or got == "", f"{says}: {got!r}"
        if "equals" in spec:
            assert got == spec["equals"], f"{says}: {got!r}"
        if "contains" in spec:
            assert isinstance(got, str) and spec["contains"] in got, f"{says}: {got!r}"
    elif "pair" in check:
        spec = check["pair"]
        bands = _pair_bands(result, spec["rows"])
        assert bands & set(spec["band"]), f"{says}: bands {bands or 'none'}"
    elif "no_pair" in check:
        spec = check["no_pair"]
        bands = _pair_bands(result, spec["rows"])
        assert not bands & set(spec["band"]), f"{says}: bands {bands}"
    elif "pairs" in check:
        pairs = result.matches.pairs
        _number(0 if pairs is None else len(pairs), check["pairs"], says)
    else:
        raise AssertionError(f"unknown check {check}")


def test_every_file_has_expectations_and_a_manifest_row() -> None:
    """A corpus file nobody wrote expectations for tests nothing; one not in the manifest has no
    known origin or licence."""
    data = sorted(
        p.name for p in REAL.iterdir() if p.is_file() and p.suffix not in {".md", ".yaml"}
    )
    manifest = (REAL / "MANIFEST.md").read_text(encoding="utf-8")
    assert sorted(SPEC["files"]) == data
    for name in data:
        assert f"| {name} |" in manifest, name
    assert len(data) >= 12
