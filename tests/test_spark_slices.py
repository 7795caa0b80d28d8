"""Contacts normalized in row slices give the whole sources' rows and findings (issue #12).

The Spark engine cuts contacts by rows, so a source's facts (its inferred phone region, the
finding for a source whose numbers mostly fail) come from a first pass and from every slice's
tallies, merged. Here the real exports of tests/fixtures/real, all read as one workspace, are
cut into slices that split their sources, and normalized the way the engine does it, with the
same public functions, without Spark (tests/test_spark.py runs it on Spark).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from audit import config_for_paths, schema
from audit.normalize import (
    EVIDENCE_COLUMNS,
    PhoneTally,
    SourceFacts,
    contact_evidence,
    contact_regions,
    merge_by_source,
    normalize,
    phone_summaries,
)
from audit.normalize.dates import infer_dayfirst

REAL = Path(__file__).parent / "fixtures" / "real"


@pytest.fixture(scope="module")
def real_ingest():
    """Every contact-bearing real export (CSV and vCard), read as one workspace: 13 contact
    sources, none with a phone_region, so each source's region is inferred from its rows."""
    from audit.sources import read_sources
    from audit.sources.readers import Limits

    files = sorted(p for p in REAL.iterdir() if p.suffix in (".csv", ".vcf"))
    cfg = config_for_paths(files, as_of=dt.date(2026, 1, 1))
    ingest = read_sources(
        cfg.sources, base_dir=Path(cfg.base_dir), limits=Limits(**cfg.limits.model_dump())
    )
    args = {"files": ingest.files, "calendar_tz": cfg.kpis.timezone}
    return cfg, ingest.records["contacts"], args


def _in_slices(cfg, contacts: pd.DataFrame, args: dict, size: int, date_order):
    """The engine's way: evidence from every slice, merged and decided; each slice normalized
    with those facts; the slices' phone tallies merged into the source findings; the slices
    that hold a failing source's numbers normalized again, told which sources fail."""
    cuts = [contacts.iloc[i : i + size] for i in range(0, len(contacts), size)]
    cols = [c for c in EVIDENCE_COLUMNS if c in contacts.columns]
    evidence = merge_by_source(contact_evidence(c[cols], cfg.sources) for c in cuts)
    facts = SourceFacts(regions=contact_regions(evidence, cfg.normalize, args["files"]))
    kw = {**args, "date_order": date_order}
    tallies: list[dict[str, PhoneTally]] = [{} for _ in cuts]
    done = [
        normalize({"contacts": c}, cfg.normalize, cfg.sources, facts=facts, tallies=t, **kw)
        for c, t in zip(cuts, tallies, strict=True)
    ]
    summary, failing = phone_summaries(
        merge_by_source(tallies), facts.regions, cfg.normalize.default_region
    )
    told = SourceFacts(regions=facts.regions, failing=failing)
    for i, (c, t) in enumerate(zip(cuts, tallies, strict=True)):
        if any(t[name].failed for name in failing if name in t):
            done[i] = normalize({"contacts": c}, cfg.normalize, cfg.sources, facts=told, **kw)
    rows = pd.concat([d[0]["contacts"] for d in done])
    issues = schema.conform_issues(pd.concat([*summary, *(d[1] for d in done)], ignore_index=True))
    return rows, issues, facts, failing


@pytest.mark.parametrize("size", [5, 68])
def test_sources_cut_into_slices_give_the_whole_sources_rows_and_findings(
    real_ingest, size: int
) -> None:
    cfg, contacts, args = real_ingest
    orders: dict[tuple[str, str, str], bool] = {}

    def whole_order(entity: str, column: str, zone: str, texts: list[str]) -> bool:
        orders[(entity, column, zone)] = infer_dayfirst(texts)
        return orders[(entity, column, zone)]

    want, want_issues = normalize(
        {"contacts": contacts}, cfg.normalize, cfg.sources, date_order=whole_order, **args
    )
    # a date column's order is a fact of the whole column too (its own test: test_spark.py)
    got, got_issues, facts, failing = _in_slices(
        cfg, contacts, args, size, lambda e, c, z, texts: orders[(e, c, z)]
    )

    # what the whole sources say, as a user reads it in the findings
    source_level = want_issues[want_issues["record_id"].isna()]
    inferred = source_level[source_level["rule_id"].eq("normalize.phone.region_inferred")]
    assert inferred["evidence"].str.startswith("source=zh_company_directory;").any()
    assert "valid as CN" in " ".join(inferred["evidence"])
    assert facts.regions["zh_company_directory"].region == "CN"
    region = source_level[source_level["rule_id"].eq("normalize.phone.region")]
    assert region["evidence"].str.startswith("source=vcard_android;").tolist() == [True]
    assert failing == frozenset({"vcard_android"})
    # ... from sources that the slices cut apart
    slice_of = pd.Series(range(len(contacts)), index=contacts.index) // size
    spans = slice_of.groupby(contacts["source"].astype(object)).nunique()
    assert spans["zh_company_directory"] > 1 and spans["vcard_android"] > 1

    pd.testing.assert_frame_equal(got, want["contacts"], check_exact=True)
    assert got_issues.to_csv(index=False) == want_issues.to_csv(index=False)


def test_a_failing_sources_rows_are_told_by_the_source_finding_in_every_slice(
    real_ingest,
) -> None:
    """Without the failing sources (the first run of a slice), a slice writes each invalid
    number of that source; told them, it leaves them to the one source finding."""
    cfg, contacts, args = real_ingest
    android = contacts[contacts["source"].eq("vcard_android")]
    cols = [c for c in EVIDENCE_COLUMNS if c in android.columns]
    regions = contact_regions(contact_evidence(android[cols], cfg.sources), cfg.normalize)
    half = android.iloc[:3]

    def invalid(facts: SourceFacts) -> int:
        _, issues = normalize({"contacts": half}, cfg.normalize, cfg.sources, facts=facts, **args)
        assert not issues["record_id"].isna().any()  # no source finding from a slice
        return int(issues["rule_id"].eq("normalize.phone.invalid").sum())

    assert invalid(SourceFacts(regions)) > 0
    assert invalid(SourceFacts(regions, failing=frozenset({"vcard_android"}))) == 0
