"""The KPI stage in one pass: each view typed once, each KPI computed once, same tables as the
separate public functions give."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from audit.config import load_config
from audit.kpis import (
    clean_records,
    compute_breakdowns,
    compute_kpis,
    kpi_impact,
    kpi_stage,
)
from audit.kpis.inputs import Frames, as_text
from audit.model import RunResult
from audit.pipeline import analyse
from tests.factories import demo_config


@pytest.fixture(scope="module")
def demo_run(small_demo: Path) -> RunResult:
    return analyse(load_config(demo_config(small_demo)))


def test_stage_gives_the_tables_of_the_separate_functions(demo_run: RunResult) -> None:
    r = demo_run
    cfg = r.config.kpis
    withheld = {"nps": "surveys.score validity 0.50 < 0.90", "cac": "spend.amount is missing"}
    kpis, extras = kpi_stage(
        r.records, r.issues, r.matches, cfg, as_of=r.as_of, passed=True, withheld=withheld
    )
    clean, stats = clean_records(r.records, r.issues, r.matches)
    assert extras["clean_stats"] == stats
    pd.testing.assert_frame_equal(
        kpis, compute_kpis(clean, cfg, as_of=r.as_of, withheld=withheld), check_exact=True
    )
    pd.testing.assert_frame_equal(
        extras["impact"],
        kpi_impact(r.records, clean, cfg, r.as_of, stats=stats),
        check_exact=True,
    )
    separate = compute_breakdowns(clean, cfg, as_of=r.as_of)
    assert list(extras["breakdowns"]) == list(separate)
    for name, frame in separate.items():
        pd.testing.assert_frame_equal(extras["breakdowns"][name], frame, check_exact=True)
    # the demo measures something: a table of no_data rows would compare equal too
    assert (kpis["status"] == "ok").sum() >= 10
    assert set(kpis.loc[kpis["kpi_id"].isin(withheld), "status"]) == {"withheld"}
    assert kpis.set_index("kpi_id").loc["nps", "note"] == withheld["nps"]
    assert pd.isna(kpis.set_index("kpi_id").loc["cac", "value"])  # withheld: no value shown


def test_gate_failed_stage_has_impact_but_no_kpis(demo_run: RunResult) -> None:
    r = demo_run
    kpis, extras = kpi_stage(
        r.records, r.issues, r.matches, r.config.kpis, as_of=r.as_of, passed=False
    )
    assert kpis is None
    assert set(extras) == {"impact", "clean_stats"}
    assert len(extras["impact"]) == len(compute_kpis(r.records, r.config.kpis, as_of=r.as_of))


def test_clean_view_keeps_frames_it_does_not_change(demo_run: RunResult) -> None:
    """Frames with nothing to merge, drop or re-point are the same objects (their typed view
    is shared with the raw one), and the records as read are left as they were."""
    r = demo_run
    before = {e: f.copy() for e, f in r.records.items()}
    clean, _ = clean_records(r.records, r.issues, r.matches)
    assert clean["deal_stages"] is r.records["deal_stages"]
    assert clean["contacts"] is not r.records["contacts"]
    for entity, frame in before.items():
        pd.testing.assert_frame_equal(r.records[entity], frame)


def test_cleaned_view_lends_only_the_typed_frames_both_views_hold(demo_run: RunResult) -> None:
    """Once the cleaned view is done, what the raw view may borrow is the typed frames of the
    entities cleaning left as they were: a changed entity is typed again from the raw rows."""
    r = demo_run
    clean, _ = clean_records(r.records, r.issues, r.matches)
    frames = Frames(clean)
    typed_stages, typed_contacts = frames["deal_stages"], frames["contacts"]
    shared = frames.sharing(r.records)
    raw = Frames(r.records, like=shared)
    assert raw["deal_stages"] is typed_stages
    assert raw["contacts"] is not typed_contacts
    assert len(raw["contacts"]) == len(r.records["contacts"]) > len(typed_contacts)


def test_text_as_typed_strips_blanks_and_shares_clean_columns() -> None:
    messy = pd.Series([" a ", "", None, "b", "  "], dtype="str")
    got = as_text(messy)
    assert got.tolist()[0] == "a" and got.tolist()[3] == "b"
    assert got.isna().tolist() == [False, True, True, False, True]
    clean = pd.Series(["a", None, "b c"], dtype="str")
    same = as_text(clean)
    pd.testing.assert_series_equal(same, clean)
    # normalized text is already typed: the KPI view holds the records' own buffers, no copy
    before = [c.buffers()[2].address for c in clean.array.__arrow_array__().chunks]
    after = [c.buffers()[2].address for c in same.array.__arrow_array__().chunks]
    assert before == after


def test_a_kpi_of_entities_cleaning_left_alone_is_computed_once(
    demo_run: RunResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    """email_list_growth_rate reads only the email events, which cleaning never changes: its
    raw value is the cleaned one, computed once; a KPI of the contacts runs on both views."""
    import dataclasses

    from audit.kpis import KPIS

    r = demo_run
    calls: dict[str, int] = {}

    def counted(kpi_id: str) -> None:
        spec = KPIS.get(kpi_id)

        def fn(*args: object) -> object:
            calls[kpi_id] = calls.get(kpi_id, 0) + 1
            return spec.fn(*args)  # type: ignore[arg-type]

        monkeypatch.setitem(KPIS._entries, kpi_id, dataclasses.replace(spec, fn=fn))

    counted("email_list_growth_rate")
    counted("email_reachability")
    _, extras = kpi_stage(
        r.records, r.issues, r.matches, r.config.kpis, as_of=r.as_of, passed=False
    )
    assert calls == {"email_list_growth_rate": 1, "email_reachability": 2}
    impact = extras["impact"].set_index("kpi_id")
    assert impact.loc["email_list_growth_rate", "cause"] in {"no change", "no data"}
