"""Score stage: hand-computed scores from a small checked table, findings and duplicates."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from audit.config import Thresholds
from audit.model import Matches
from audit.schema import empty_issues
from audit.score import score
from tests.factories import make_contacts, make_frame

EMPTY_MATCHES = Matches(
    pairs=pd.DataFrame(columns=["record_id_l", "record_id_r", "score", "band", "rule_id"]),
    clusters=pd.DataFrame(columns=["cluster_id", "record_id", "is_survivor", "band"]),
)


def checked(*rows: tuple[str, str, str, str, str, int, int]) -> pd.DataFrame:
    cols = ["rule_id", "entity", "field", "dimension", "severity", "n_checked", "n_failed"]
    out = pd.DataFrame(list(rows), columns=cols)
    out["status"] = ["ok" if r[5] > 0 else ("errored" if r[5] < 0 else "skipped") for r in rows]
    return out


def issues(*rows: tuple[str, str, str, str, str, str]) -> pd.DataFrame:
    cols = ["record_id", "entity", "field", "rule_id", "dimension", "severity"]
    out = pd.concat([empty_issues(), pd.DataFrame(list(rows), columns=cols)], ignore_index=True)
    out["message"] = "m"
    return out


def ten_contacts() -> pd.DataFrame:
    return make_contacts(
        email=[f"p{i}@x.com" for i in range(10)],
        owner=["ann"] * 5 + ["bob"] * 5,
        extra=[json.dumps({"Fav colour": "red"})] + [json.dumps({})] * 9,
        updated_at=[f"2026-01-{i + 10}" for i in range(10)],
    )


CHECKED = checked(
    ("contacts.email.valid", "contacts", "email", "validity", "error", 10, 2),
    ("contacts.phone.valid", "contacts", "phone", "validity", "warning", 10, 0),
    ("contacts.email.required", "contacts", "email", "completeness", "error", 10, 5),
    ("deals.amount.required", "deals", "amount", "completeness", "error", 0, 0),
)
ISSUES = issues(
    ("t:1", "contacts", "email", "contacts.email.valid", "validity", "error"),
    ("t:6", "contacts", "email", "contacts.email.valid", "validity", "error"),
    *[
        (f"t:{i}", "contacts", "email", "contacts.email.required", "completeness", "error")
        for i in (2, 3, 7, 8, 9)
    ],
)


def test_dimension_and_overall_scores_with_weights() -> None:
    cfg = Thresholds(weights={"completeness": 2})
    sc = score({"contacts": ten_contacts()}, ISSUES, EMPTY_MATCHES, cfg, checked=CHECKED)
    dims = sc.by_dimension.set_index("dimension")
    # 2 of 10 rows have an invalid email; the phone rule passing everywhere does not dilute it
    assert dims.loc["validity", "score"] == pytest.approx(0.8)
    assert (dims.loc["validity", "n_failed"], dims.loc["validity", "n_checked"]) == (2, 10)
    assert dims.loc["completeness", "score"] == pytest.approx(0.5)
    assert dims.loc["uniqueness", "score"] == pytest.approx(1.0)  # no duplicates found
    assert dims.loc["freshness", "status"] == "not_measured"
    assert pd.isna(dims.loc["freshness", "score"])
    assert dims.loc["freshness", "note"] == "n/a: no rule checks it on the entities read: contacts"
    # (0.5 x 2 + 0.8 + 1.0) / 4: unmeasured dimensions take no weight
    assert sc.overall == pytest.approx(0.7)


def test_rule_table_keeps_every_rule_with_its_status() -> None:
    sc = score({"contacts": ten_contacts()}, ISSUES, EMPTY_MATCHES, Thresholds(), checked=CHECKED)
    rules = sc.by_rule.set_index("rule_id")
    assert rules.loc["contacts.email.valid", "pass_rate"] == pytest.approx(0.8)
    assert rules.loc["deals.amount.required", "status"] == "skipped"
    assert rules.loc["match.duplicate.records", "origin"] == "match"


def test_errored_check_is_not_counted_as_a_pass() -> None:
    chk = checked(
        ("contacts.email.valid", "contacts", "email", "validity", "error", -1, 0),
        ("contacts.email.required", "contacts", "email", "completeness", "error", 10, 0),
    )
    sc = score(
        {"contacts": ten_contacts()}, empty_issues(), EMPTY_MATCHES, Thresholds(), checked=chk
    )
    dims = sc.by_dimension.set_index("dimension")
    assert dims.loc["validity", "status"] == "errored"
    assert dims.loc["validity", "note"] == (
        "n/a: its checks errored (contacts.email.valid), so the result is unknown"
    )
    assert pd.isna(dims.loc["validity", "score"])
    assert sc.by_rule.set_index("rule_id").loc["contacts.email.valid", "status"] == "errored"


def test_a_dimension_whose_rules_found_no_column_is_na_with_the_reason() -> None:
    chk = checked(
        ("contacts.email.required", "contacts", "email", "completeness", "error", 10, 0),
        ("contacts.email.bounced", "contacts", "email", "freshness", "error", 0, 0),
    )
    sc = score(
        {"contacts": ten_contacts()}, empty_issues(), EMPTY_MATCHES, Thresholds(), checked=chk
    )
    fresh = sc.by_dimension.set_index("dimension").loc["freshness"]
    assert (fresh["status"], fresh["note"]) == (
        "not_measured",
        "n/a: its 1 rules found nothing to check: their columns are missing or empty in the data",
    )


def test_findings_of_other_stages_become_pseudo_rules() -> None:
    iss = issues(("t:4", "contacts", "phone", "normalize.phone.unparseable", "validity", "warning"))
    sc = score({"contacts": ten_contacts()}, iss, EMPTY_MATCHES, Thresholds(), checked=None)
    rule = sc.by_rule.set_index("rule_id").loc["normalize.phone.unparseable"]
    assert (rule["n_checked"], rule["n_failed"], rule["origin"]) == (10, 1, "issues")
    assert sc.by_dimension.set_index("dimension").loc["validity", "score"] == pytest.approx(0.9)


def test_duplicates_lower_uniqueness_per_excess_record() -> None:
    clusters = pd.DataFrame(
        {
            "cluster_id": ["c1", "c1", "c1", "c2", "c2"],
            "record_id": ["t:1", "t:2", "t:3", "t:4", "t:5"],
            "is_survivor": [True, False, False, True, False],
            "band": ["auto", "auto", "auto", "no", "no"],
        }
    )
    pairs = pd.DataFrame(
        {
            "record_id_l": ["t:1", "t:1"],
            "record_id_r": ["t:2", "t:3"],
            "score": [0.99, 0.97],
            "band": ["auto", "auto"],
        }
    )
    sc = score(
        {"contacts": ten_contacts()},
        empty_issues(),
        Matches(pairs=pairs, clusters=clusters),
        Thresholds(),
        checked=None,
    )
    dims = sc.by_dimension.set_index("dimension")
    assert dims.loc["uniqueness", "score"] == pytest.approx(0.8)  # 2 excess of 10
    rec = sc.by_record.set_index("record_id")
    assert rec.loc["t:2", "duplicate_risk"] == pytest.approx(0.01)
    assert rec.loc["t:10", "duplicate_risk"] == pytest.approx(1.0)
    src = sc.by_source.set_index(["source", "dimension"])
    assert src.loc[("t", "uniqueness"), "score"] == pytest.approx(0.8)


def test_record_and_owner_scores_show_the_worst_rep() -> None:
    iss = issues(
        ("t:6", "contacts", "email", "contacts.email.valid", "validity", "error"),
        ("t:7", "contacts", "email", "contacts.email.valid", "validity", "error"),
        ("t:8", "contacts", "last_activity_at", "contacts.activity.stale", "freshness", "warning"),
    )
    chk = checked(
        ("contacts.email.valid", "contacts", "email", "validity", "error", 10, 2),
        ("contacts.activity.stale", "contacts", "last_activity_at", "freshness", "warning", 10, 1),
    )
    sc = score({"contacts": ten_contacts()}, iss, EMPTY_MATCHES, Thresholds(), checked=chk)
    rec = sc.by_record.set_index("record_id")
    assert rec.loc["t:6", "email_health"] == 0.0
    assert rec.loc["t:6", "validity"] == 0.0  # failed the one validity rule
    assert rec.loc["t:8", "freshness"] == 0.5
    assert rec.loc["t:1", "score"] == pytest.approx(1.0)
    assert (rec.loc["t:6", "n_errors"], rec.loc["t:8", "n_warnings"]) == (1, 1)
    owners = sc.by_owner
    assert owners["owner"].tolist() == ["bob", "ann"]  # worst first
    assert owners.iloc[0]["n_records"] == 5
    assert owners.iloc[0]["weakest"] in ("validity", "email_health")


def test_a_record_component_is_clean_warned_or_failed_however_many_rules_check_it() -> None:
    chk = checked(
        *[
            (f"contacts.email.c{i}", "contacts", "email", "validity", "error", 10, 0)
            for i in range(9)
        ],
        ("contacts.email.valid", "contacts", "email", "validity", "error", 10, 1),
        ("contacts.phone.valid", "contacts", "phone", "validity", "warning", 10, 1),
    )
    iss = issues(
        ("t:1", "contacts", "email", "contacts.email.valid", "validity", "error"),
        ("t:2", "contacts", "phone", "contacts.phone.valid", "validity", "warning"),
    )
    sc = score({"contacts": ten_contacts()}, iss, EMPTY_MATCHES, Thresholds(), checked=chk)
    rec = sc.by_record.set_index("record_id")["validity"]
    # one failed rule of eleven is still an invalid record, not a 91% valid one
    assert (rec["t:1"], rec["t:2"], rec["t:3"]) == (0.0, 0.5, 1.0)


def test_field_inventory_covers_canonical_and_unmapped_columns() -> None:
    deals = make_frame("deals", amount=["10", None], owner=["ann", "ann"], source="crm")
    sc = score(
        {"contacts": ten_contacts(), "deals": deals},
        ISSUES,
        EMPTY_MATCHES,
        Thresholds(),
        checked=CHECKED,
        kpi_needs={"email_reachability": ["contacts.email"], "cac": ["deals.amount?"]},
    )
    inv = sc.inventory.set_index(["entity", "field"])
    fav = inv.loc[("contacts", "Fav colour")]
    assert (fav["kind"], fav["n_filled"], fav["fill_rate"]) == ("extra", 1, 0.1)
    assert fav["sources"] == "t"
    assert fav["latest_update"].startswith("2026-01-10")
    email = inv.loc[("contacts", "email")]
    assert email["used_by_kpis"] == "email_reachability"
    assert email["used_by_rules"] == "contacts.email.required, contacts.email.valid"
    assert email["latest_update"].startswith("2026-01-19")
    assert inv.loc[("deals", "amount"), "fill_rate"] == 0.5
    assert inv.loc[("deals", "amount"), "used_by_kpis"] == "cac"
    assert inv.loc[("contacts", "phone"), "n_filled"] == 0
    field = sc.by_field.set_index(["entity", "field"]).loc[("contacts", "email")]
    assert field["fill_rate"] == 1.0
    assert field["validity"] == pytest.approx(0.8)


def test_no_records_give_an_empty_scorecard_not_a_crash() -> None:
    sc = score({}, empty_issues(), EMPTY_MATCHES, Thresholds(), checked=None)
    assert pd.isna(sc.overall)  # n/a, not 0.0
    assert sc.by_record.empty and sc.inventory.empty
    assert set(sc.by_dimension["status"]) == {"not_measured"}


def test_info_rules_are_listed_but_do_not_move_scores() -> None:
    chk = checked(
        ("contacts.email.valid", "contacts", "email", "validity", "error", 10, 2),
        ("contacts.email.hint", "contacts", "email", "validity", "info", 10, 9),
    )
    sc = score(
        {"contacts": ten_contacts()}, empty_issues(), EMPTY_MATCHES, Thresholds(), checked=chk
    )
    assert "contacts.email.hint" in set(sc.by_rule["rule_id"])
    assert sc.by_dimension.set_index("dimension").loc["validity", "score"] == pytest.approx(0.8)


def test_field_inventory_counts_unmapped_columns_per_row() -> None:
    # ten contacts from two sources; five share one `extra` text, the others vary: a value
    # that is empty text or null is not filled, a key never filled still gets its row, a list
    # is one value, and a dict cell (a JSON source's) counts like its text
    extra = [json.dumps({"Tier": "gold", "Note": ""})] * 5 + [
        json.dumps({"Tier": "silver", "Note": None}),
        json.dumps({"Tier": "", "Tags": ["a", "b"]}),
        json.dumps({"Tags": ["a", "b"]}),
        None,
        {"Tier": "gold", "Tags": ["c"]},
    ]
    contacts = make_contacts(
        email=[f"p{i}@x.com" for i in range(10)],
        extra=extra,
        updated_at=[f"2026-01-{i + 10}" for i in range(10)],
    )
    contacts["source"] = ["a"] * 5 + ["b"] * 5
    sc = score({"contacts": contacts}, ISSUES, EMPTY_MATCHES, Thresholds(), checked=CHECKED)
    inv = sc.inventory[sc.inventory["kind"].eq("extra")].set_index("field")
    assert list(inv.index) == ["Note", "Tags", "Tier"]
    assert inv.loc["Tier", ["n_filled", "n_distinct", "sources"]].tolist() == [7, 2, "a, b"]
    assert inv.loc["Tier", "latest_update"].startswith("2026-01-19")
    assert inv.loc["Tags", ["n_filled", "n_distinct", "sources"]].tolist() == [3, 2, "b"]
    assert inv.loc["Note", ["n_filled", "n_distinct", "sources"]].tolist() == [0, 0, ""]
    assert pd.isna(inv.loc["Note", "latest_update"])


def test_a_failing_records_source_is_its_last_rows() -> None:
    # a record id read twice (within an entity, or in two entities) keeps its last row's source
    from audit.score import _source_of, _source_of_py

    records = {
        "contacts": pd.DataFrame({"record_id": ["x", "y", "x"], "source": ["s1", "s2", "s3"]}),
        "deals": pd.DataFrame({"record_id": ["y", "z"], "source": ["t1", "t2"]}),
    }
    rids = pd.Series(["x", "y", "z", "absent"], dtype=object).to_numpy()
    assert _source_of(records, rids).tolist() == ["s3", "t1", "t2", None]
    assert _source_of_py(records, rids).tolist() == ["s3", "t1", "t2", None]  # ids Arrow refuses


@pytest.mark.parametrize("ids", ["text", "numbers"])
def test_record_scores_count_a_repeated_id_on_each_of_its_rows(ids: str) -> None:
    """A record id read twice (the same export pasted twice) carries its findings and its
    duplicate risk on both rows, whether the ids are text or other objects."""
    contacts = ten_contacts()
    rid = ["t:1", "t:1", *[f"t:{i}" for i in range(3, 11)]]
    contacts["record_id"] = rid if ids == "text" else [70, 70, *range(3, 11)]
    key = "t:1" if ids == "text" else "70"
    iss = issues(
        (key, "contacts", "email", "contacts.email.valid", "validity", "error"),
        (key, "contacts", "phone", "contacts.phone.valid", "validity", "warning"),
        ("t:99", "contacts", "email", "contacts.email.valid", "validity", "error"),
    )
    chk = checked(
        ("contacts.email.valid", "contacts", "email", "validity", "error", 10, 2),
        ("contacts.phone.valid", "contacts", "phone", "validity", "warning", 10, 1),
    )
    pairs = pd.DataFrame(
        {
            "record_id_l": [key, "t:3" if ids == "text" else "3"],
            "record_id_r": ["t:5" if ids == "text" else "5", "t:4" if ids == "text" else "4"],
            "score": [0.9, 0.2],
            "band": ["auto", "no"],
            "rule_id": "r",
        }
    )
    matches = Matches(pairs=pairs, clusters=EMPTY_MATCHES.clusters)
    sc = score({"contacts": contacts}, iss, matches, Thresholds(), checked=chk)
    rec = sc.by_record
    both = rec[rec["record_id"] == key]
    assert len(both) == 2
    assert both["n_errors"].tolist() == [1, 1] and both["n_warnings"].tolist() == [1, 1]
    assert both["validity"].tolist() == [0.0, 0.0]
    assert both["duplicate_risk"].tolist() == pytest.approx([0.1, 0.1])
    other = rec.set_index("record_id")
    five, four = ("t:5", "t:4") if ids == "text" else ("5", "4")
    assert other.loc[five, "duplicate_risk"] == pytest.approx(0.1)
    assert other.loc[four, "duplicate_risk"] == 1.0  # its pair is not a duplicate
    assert int(rec["n_errors"].sum()) == 2  # the finding on an unknown id lands nowhere


@pytest.mark.parametrize("odd_cell", [None, "{not json"])
def test_field_inventory_counts_unmapped_text_columns_as_text(odd_cell: str | None) -> None:
    # the common case, every unmapped value text (read by Arrow's JSON reader; one unreadable
    # cell sends the entity through json.loads instead): a time written two ways is two values,
    # not one instant; empty text and null are not filled; a blank or unreadable cell fills
    # nothing; the same text in many rows is one value
    extra = [json.dumps({"Seen": "2026-01-01", "Tier": "gold"})] * 4 + [
        json.dumps({"Seen": "2026-01-01T00:00:00", "Tier": ""}),
        json.dumps({"Seen": None, "Tier": "銀", "Note": "x"}),
        "   ",
        odd_cell,
        None,
        json.dumps({"Tier": "gold"}),
    ]
    contacts = make_contacts(email=[f"p{i}@x.com" for i in range(10)], extra=extra)
    contacts["source"] = ["a"] * 5 + ["b"] * 5
    sc = score({"contacts": contacts}, ISSUES, EMPTY_MATCHES, Thresholds(), checked=CHECKED)
    inv = sc.inventory[sc.inventory["kind"].eq("extra")].set_index("field")
    assert list(inv.index) == ["Note", "Seen", "Tier"]
    assert inv.loc["Seen", ["n_filled", "n_distinct", "sources"]].tolist() == [5, 2, "a"]
    assert inv.loc["Tier", ["n_filled", "n_distinct", "sources"]].tolist() == [6, 2, "a, b"]
    assert inv.loc["Note", ["n_filled", "n_distinct", "sources"]].tolist() == [1, 1, "b"]


def test_owner_means_of_the_compact_components_are_the_float64_means() -> None:
    """The findings' flags are held as float32 (1, 0.5, 0 exactly), but an owner's mean of
    them is the mean a person would compute: 1/3 of ann's records are clean, not 0.33333334."""
    iss = issues(
        ("t:1", "contacts", "email", "contacts.email.valid", "validity", "error"),
        ("t:2", "contacts", "email", "contacts.email.valid", "validity", "error"),
    )
    chk = checked(("contacts.email.valid", "contacts", "email", "validity", "error", 10, 2))
    contacts = ten_contacts()
    contacts["owner"] = ["ann"] * 3 + ["bob"] * 7
    sc = score({"contacts": contacts}, iss, EMPTY_MATCHES, Thresholds(), checked=chk)
    assert sc.by_record["validity"].dtype == "float32"
    ann = sc.by_owner.set_index("owner").loc["ann"]
    assert ann["validity"] == 1 / 3  # exactly the float64 mean
    assert (ann["n_errors"], ann["n_records"]) == (2, 3)
    assert sc.by_owner["n_errors"].dtype == "int64"


def test_per_record_scores_file_holds_float64_components_and_text_entities(
    tmp_path: Path,
) -> None:
    """In memory the table is compact (entity a categorical, flags float32, counts int32, ids
    Arrow text); its Parquet file holds text, float64 and int64, the same values."""
    from dataclasses import replace

    from audit.report import load_run, write_report
    from tests.factories import hostile_run_result

    deals = make_frame("deals", amount=["10", None], owner=["ann", None], source="crm")
    iss = issues(
        ("t:3", "contacts", "email", "contacts.email.valid", "validity", "error"),
        ("t:4", "contacts", "phone", "contacts.phone.valid", "validity", "warning"),
    )
    chk = checked(
        ("contacts.email.valid", "contacts", "email", "validity", "error", 10, 1),
        ("contacts.phone.valid", "contacts", "phone", "validity", "warning", 10, 1),
    )
    sc = score(
        {"contacts": ten_contacts(), "deals": deals}, iss, EMPTY_MATCHES, Thresholds(), checked=chk
    )
    rec = sc.by_record
    assert isinstance(rec["entity"].dtype, pd.CategoricalDtype)
    assert rec["record_id"].dtype == "str" and rec["n_errors"].dtype == "int32"
    assert rec["record_id"].tolist() == sorted(rec["record_id"])
    result = hostile_run_result()
    result = replace(result, scorecard=replace(result.scorecard, by_record=rec))
    write_report(result, tmp_path / "r", ["json"])
    back = load_run(tmp_path / "r").tables["scores/by_record"]
    assert back["entity"].tolist() == rec["entity"].astype(str).tolist()
    assert back["entity"].value_counts().to_dict() == {"contacts": 10, "deals": 2}
    assert pd.api.types.is_string_dtype(back["entity"])
    for c in ("score", "validity", "completeness", "email_health", "freshness"):
        assert back[c].dtype == "float64"
        assert back[c].tolist() == pytest.approx(rec[c].tolist(), nan_ok=True, abs=0)
    assert back["n_errors"].dtype == "int64" and back["n_warnings"].dtype == "int64"
    on = back.set_index("record_id")
    assert (on.loc["t:3", "validity"], on.loc["t:4", "validity"]) == (0.0, 0.5)
    assert on.loc["t:3", "n_errors"] == 1 and on.loc["t:4", "n_warnings"] == 1
    deal_owners = back.loc[back["entity"] == "deals", "owner"]
    assert deal_owners.iloc[0] == "ann" and pd.isna(deal_owners.iloc[1])


def test_per_record_sources_and_owners_are_categories_each_records_own(tmp_path: Path) -> None:
    """The source and the owner of each record, held as categoricals (a few distinct values
    over millions of rows), are the record's own, in memory and in the file; a missing owner
    and an entity with no owner column stay missing."""
    import pyarrow.parquet as pq

    from audit.report import write_report
    from tests.factories import hostile_run_result

    contacts = make_contacts(
        email=[f"p{i}@x.com" for i in range(4)], owner=["ann", None, "김지현", "ann"]
    )
    contacts["source"] = ["crm", "crm", "inbox", "crm"]
    subs = make_frame("subscriptions", amount=["10", "20"], source="stripe")
    deals = make_frame("deals", amount=["5"], owner=["bob"], source="crm_deals")
    records = {"contacts": contacts, "subscriptions": subs, "deals": deals}
    sc = score(records, empty_issues(), EMPTY_MATCHES, Thresholds())
    rec = sc.by_record.set_index("record_id")
    assert isinstance(rec["owner"].dtype, pd.CategoricalDtype)
    assert isinstance(rec["source"].dtype, pd.CategoricalDtype)
    for frame in records.values():
        mine = rec.loc[frame["record_id"].tolist()]
        assert mine["source"].astype(str).tolist() == frame["source"].astype(str).tolist()
        owners = frame["owner"].tolist() if "owner" in frame else [None] * len(frame)
        assert [None if pd.isna(o) else o for o in mine["owner"]] == [
            None if pd.isna(o) else o for o in owners
        ]
    assert sc.by_owner.set_index("owner")["n_records"].to_dict() == {
        "ann": 2,
        "bob": 1,
        "김지현": 1,
    }
    from dataclasses import replace

    result = replace(hostile_run_result(), scorecard=sc)
    write_report(result, tmp_path / "r", ["json"])
    back = pq.read_table(tmp_path / "r" / "scores/by_record.parquet").to_pandas()
    back = back.set_index("record_id")
    owner = back["owner"].astype(object).where(back["owner"].notna(), None)
    assert owner.loc[["t:1", "t:2", "t:3", "t:4", "crm_deals:1"]].tolist() == [
        "ann",
        None,
        "김지현",
        "ann",
        "bob",
    ]
    assert back["owner"].isna().sum() == 3  # t:2 and the two subscriptions
    assert back.loc[["t:1", "t:3", "stripe:2"], "source"].tolist() == ["crm", "inbox", "stripe"]


def test_redaction_reaches_categorical_owners_and_sources_of_the_per_record_file(
    tmp_path: Path,
) -> None:
    """An owner or a source that is an email or a phone is masked in the per-record file as in
    every other file, though the table holds them as categoricals."""
    import pyarrow.parquet as pq

    from audit.report import write_report
    from tests.factories import hostile_run_result

    owners = ["kim.jiwoo@acme.kr", "kate.lee@acme.kr", "010-9876-5432", None]
    contacts = make_contacts(email=[f"p{i}@x.com" for i in range(4)], owner=owners)
    contacts["source"] = ["inbox kim.jiwoo@acme.kr"] * 2 + ["crm"] * 2
    sc = score({"contacts": contacts}, empty_issues(), EMPTY_MATCHES, Thresholds())
    assert isinstance(sc.by_record["owner"].dtype, pd.CategoricalDtype)
    from dataclasses import replace

    result = replace(hostile_run_result(), scorecard=sc)
    write_report(result, tmp_path / "r", ["json"], redact=True)
    table = pq.read_table(tmp_path / "r" / "scores/by_record.parquet")
    text = "|".join(str(v) for c in table.columns for v in c.to_pylist())
    for raw in ("kim.jiwoo@acme.kr", "kate.lee@acme.kr", "9876-5432"):
        assert raw not in text
    back = table.to_pandas().set_index("record_id").loc[["t:1", "t:2", "t:3", "t:4"]]
    assert back["owner"].astype(object).where(back["owner"].notna(), None).tolist() == [
        "k***@acme.kr",
        "k***@acme.kr",
        "010-****-5432",
        None,
    ]
    assert back["source"].tolist() == ["inbox k***@acme.kr"] * 2 + ["crm"] * 2


@pytest.mark.parametrize("seed", range(6))
def test_duplicate_counts_on_codes_are_the_groupby_counts(seed: int) -> None:
    """The duplicate rule's count (records beyond one per cluster, each record counted once,
    a missing id not at all) and the records a merge would remove (the flagged survivor
    stays, else the smallest id) match their pandas definitions on clusters with repeated
    ids, missing ids, bands and clusters without a survivor."""
    import numpy as np

    from audit.score.rules import duplicate_excess, duplicate_extras

    rng = np.random.default_rng(seed)
    n = 400
    ids = pd.Series([f"s:{i}" for i in rng.integers(0, 250, n)], dtype="str")
    ids[rng.random(n) < 0.05] = None
    cl = pd.DataFrame(
        {
            "cluster_id": pd.Series([f"c{i}" for i in rng.integers(0, 90, n)], dtype="str"),
            "record_id": ids,
            "band": rng.choice(["auto", "review", "no"], n),
            "is_survivor": rng.random(n) < 0.3,
        }
    )
    matches = Matches(pairs=EMPTY_MATCHES.pairs, clusters=cl, golden=EMPTY_MATCHES.golden)
    dup = cl[cl["band"].isin(["auto", "review"])]
    sizes = dup.groupby("cluster_id")["record_id"].nunique()
    assert duplicate_excess(matches, with_members=False)[0] == int((sizes[sizes > 1] - 1).sum())
    assert duplicate_excess(matches)[0] == int((sizes[sizes > 1] - 1).sum())
    expected = set()
    for _, group in dup.groupby("cluster_id"):  # row by row: a flagged row, else the min id
        flagged = group["is_survivor"].to_numpy()
        stays = flagged if flagged.any() else (group["record_id"] == group["record_id"].min())
        expected |= set(group.loc[~np.asarray(stays, bool), "record_id"].dropna())
    assert {i for i in duplicate_extras(matches) if isinstance(i, str)} == expected
