"""Golden-record proposal: master by priority, per-field rules, provenance, losing values kept."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from audit.config import SourceConfig
from audit.errors import ConfigError
from audit.match.survivorship import (
    field_rules,
    golden_columns,
    load_rules,
    propose_golden,
    provenance,
)
from tests.factories import make_contacts


def _ts(*values: str | None) -> pd.Series:
    return pd.to_datetime(pd.Series(list(values), dtype="object"), utc=True)


def one_cluster(n: int, cid: str = "c1") -> pd.DataFrame:
    return pd.DataFrame({"cluster_id": [cid] * n, "record_id": [f"t:{i + 1}" for i in range(n)]})


def golden_of(contacts: pd.DataFrame, clusters: pd.DataFrame, **kw) -> dict:
    g = propose_golden(contacts, clusters, kw.pop("sources", []), **kw)
    assert len(g) == 1
    return g.iloc[0].to_dict()


def test_master_by_priority_list_reports_the_deciding_criterion() -> None:
    # t:2 is the most complete: it wins although t:1 is more recent
    c = make_contacts(
        email=["a@x.com", "a@x.com"],
        company=[None, "Acme"],
        updated_at=_ts("2025-01-01", "2020-01-01"),
    )
    g = golden_of(c, one_cluster(2))
    assert (g["survivor_id"], g["survivor_rule"]) == ("t:2", "most_complete")

    # equal completeness: most recent activity decides (last_activity_at, then updated_at)
    c = make_contacts(
        email=["a@x.com", "a@x.com"],
        updated_at=_ts("2020-01-01", "2025-01-01"),
    )
    assert golden_of(c, one_cluster(2))["survivor_id"] == "t:2"
    assert golden_of(c, one_cluster(2))["survivor_rule"] == "most_recent_activity"

    # then the oldest created record, then source priority, then the smallest record id
    c = make_contacts(email=["a@x.com"] * 2, created_at=_ts("2022-01-01", "2019-01-01"))
    assert golden_of(c, one_cluster(2))["survivor_rule"] == "oldest_created"
    assert golden_of(c, one_cluster(2))["survivor_id"] == "t:2"

    a = make_contacts(email=["a@x.com"], source="crm")
    b = make_contacts(email=["a@x.com"], source="sheet")
    both = pd.concat([a, b], ignore_index=True)
    cl = pd.DataFrame({"cluster_id": ["k", "k"], "record_id": ["crm:1", "sheet:1"]})
    srcs = [SourceConfig(name="crm", path="x"), SourceConfig(name="sheet", path="y", priority=5)]
    g = golden_of(both, cl, sources=srcs)
    assert (g["survivor_id"], g["survivor_rule"]) == ("sheet:1", "source_priority")
    g = golden_of(both, cl)
    assert (g["survivor_id"], g["survivor_rule"]) == ("crm:1", "record_id")


def test_field_rules_and_provenance() -> None:
    c = make_contacts(
        full_name=["Kim Minjun", "김민준", "Kim Min-jun Jr."],
        email=["mj@a.kr", None, "minjun@b.kr"],
        phone=["010-1111-2222", "+82 10-3333-4444", None],
        mobile=[None, None, "010-5555-6666"],
        company=["Old Co", "New Co", None],
        created_at=_ts("2021-01-01", "2018-05-05", "2023-01-01"),
        updated_at=_ts("2024-01-01", "2025-06-01", "2022-01-01"),
        last_activity_at=_ts("2025-12-01", None, "2024-01-01"),
        email_key=["mj@a.kr", None, "minjun@b.kr"],
        email_domain=["a.kr", None, "b.kr"],
    )
    g = golden_of(c, one_cluster(3))
    assert g["survivor_id"] == "t:1"  # the most complete (7 non-empty fields)
    assert g["full_name"] == "Kim Min-jun Jr."  # longest
    assert g["email"] == "mj@a.kr"  # master
    assert (g["email_key"], g["email_domain"]) == ("mj@a.kr", "a.kr")  # follow the email
    assert g["phone"] == "+82 10-3333-4444"  # most recently updated record with a phone
    assert g["company"] == "New Co"
    assert g["created_at"] == pd.Timestamp("2018-05-05", tz="UTC")  # earliest
    assert g["last_activity_at"] == pd.Timestamp("2025-12-01", tz="UTC")  # latest
    assert g["alternate_emails"] == "minjun@b.kr"
    assert g["alternate_phones"] == "010-1111-2222"  # golden phone and mobile not repeated
    assert g["mobile"] == "010-5555-6666"
    prov = provenance(g)
    assert prov["full_name"] == ["t:3", "longest"]
    assert prov["email_key"] == ["t:1", "follows:email"]
    # every non-empty golden value names the record it came from, and is that record's value
    by_id = c.set_index("record_id")
    for field, (rid, _rule) in prov.items():
        assert by_id.at[rid, field] == g[field]
    assert set(prov) == {f for f in by_id.columns if f in g and pd.notna(g[f])} - {
        "source",
        "record_id",
        "source_file",
        "source_row",
        "extra",
    }


def test_singletons_and_unknown_records_are_skipped() -> None:
    c = make_contacts(email=["a@x", "b@x", "c@x"])
    cl = pd.DataFrame(
        {
            "cluster_id": ["c1", "c1", "c2", "c3", "c3"],
            "record_id": ["t:1", "t:2", "t:3", "t:9", "t:3"],
        }
    )
    g = propose_golden(c, cl, [])
    assert list(g["cluster_id"]) == ["c1"]
    assert list(g.columns) == golden_columns()
    empty = propose_golden(c, cl.iloc[0:0], [])
    assert empty.empty and list(empty.columns) == golden_columns()


def test_deterministic_when_rows_are_shuffled() -> None:
    n = 60
    c = make_contacts(
        full_name=[f"Name {i % 7}" + "x" * (i % 3) for i in range(n)],
        email=[f"p{i % 9}@x.com" if i % 4 else None for i in range(n)],
        phone=[f"+1 555 01{i % 5:02d}" if i % 3 else None for i in range(n)],
        updated_at=_ts(*[f"2024-01-{1 + i % 5:02d}" for i in range(n)]),
    )
    cl = pd.DataFrame(
        {"cluster_id": [f"c{i % 11:02d}" for i in range(n)], "record_id": c["record_id"]}
    )
    a = propose_golden(c, cl, [])
    b = propose_golden(c.sample(frac=1, random_state=3), cl.sample(frac=1, random_state=4), [])
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 11


def test_custom_rules_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(
        "version: 1\n"
        "master: [source_priority, oldest_created]\n"
        "default: most_recent\n"
        "fields:\n"
        "  company: {rule: preferred_source, sources: [stripe]}\n"
        "  owner: {rule: combine, separator: ' | '}\n",
        encoding="utf-8",
    )
    a = make_contacts(company=["Sheet Co"], owner=["kim"], source="sheet")
    b = make_contacts(company=["Stripe Co"], owner=["lee"], source="stripe")
    both = pd.concat([a, b], ignore_index=True)
    cl = pd.DataFrame({"cluster_id": ["k", "k"], "record_id": ["sheet:1", "stripe:1"]})
    g = golden_of(both, cl, rules=path)
    assert g["company"] == "Stripe Co"
    assert g["owner"] == "kim | lee"
    assert provenance(g, load_rules(path))["owner"] == [["sheet:1", "stripe:1"], "combine"]


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("fields:\n  emial: master\n", "(fields.emial): not a canonical contacts column"),
        ("fields:\n  email: newest\n", "fields.email"),
        ("master: [loudest]\n", "master.0"),
        ("fields:\n  company: preferred_source\n", "preferred_source needs a `sources` list"),
        ("bogus: 1\n", "bogus"),
    ],
)
def test_rules_errors_name_file_and_key(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_rules(path)
    assert str(path) in str(e.value) and fragment in str(e.value)


def test_shipped_rules_load() -> None:
    rules = load_rules()
    assert rules.master[0] == "most_complete"
    assert rules.rule_for("email").keep_losing_as == "alternate_emails"
    assert rules.rule_for("owner").rule == "master"


def test_name_parts_come_with_their_full_name() -> None:
    # "longest" per part would give first_name Minjun and last_name Minjun
    c = make_contacts(
        full_name=["Kim Minjun", "Minjun Kim"],
        first_name=["Kim", "Minjun"],
        last_name=["Minjun", "Kim"],
        email=["a@x.com", None],
    )
    g = golden_of(c, one_cluster(2))
    assert (g["full_name"], g["first_name"], g["last_name"]) == ("Kim Minjun", "Kim", "Minjun")
    prov = provenance(g)
    assert prov["first_name"] == ["t:1", "follows:full_name"]


def test_address_parts_stay_together_and_follows_chain() -> None:
    c = make_contacts(
        address=["1 Main St", "221B Baker Street"],
        city=["Springfield", None],
        postal_code=["12345", "NW1 6XE"],
        country=["US", "GB"],
        country_code=["US", "GB"],
        email=["a@x.com", "a@x.com"],
        company=["Acme", None],
    )
    g = golden_of(c, one_cluster(2))
    assert g["address"] == "221B Baker Street"  # longest
    assert (g["postal_code"], g["country"], g["country_code"]) == ("NW1 6XE", "GB", "GB")
    assert g["city"] == "Springfield"  # the winner has none: filled from the master


def test_golden_from_names_only_values_not_taken_from_the_survivor() -> None:
    """golden.csv stays small: the survivor's values and each field's rule are implied, and
    `provenance` gives back the full {field: [record, rule]} also from the CSV text."""
    c = make_contacts(
        full_name=["Kim Minjun", "Kim Min-jun Jr."],
        email=["mj@a.kr", "mj@a.kr"],
        last_activity_at=[pd.Timestamp("2025-01-01", tz="UTC"), None],
    )
    g = golden_of(c, one_cluster(2))
    assert g["survivor_id"] == "t:1"
    assert json.loads(g["golden_from"]) == {"full_name": "t:2"}
    text = {k: "" if v is None or v != v else str(v) for k, v in g.items()}  # read back as CSV
    for row in (g, text):
        prov = provenance(row)
        assert prov["full_name"] == ["t:2", "longest"] and prov["email"] == ["t:1", "master"]
        assert set(prov) == {f for f in field_rules() if text.get(f)}
        assert "mobile" not in prov  # empty golden values have no source
