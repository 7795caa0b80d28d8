"""Match stage: what a user checks in duplicates.csv and clusters.csv.

Every case sits on top of a few hundred unrelated background contacts, so the unsupervised
weights are learned from a realistic mix rather than from five hand-made rows.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit import schema
from audit.config import MatchConfig, NormalizeConfig
from audit.errors import ConfigError
from audit.match import match
from audit.match.blocking import Codes, block_pairs, candidate_pairs
from audit.match.rules import BlockingRule, load_rules
from audit.normalize import normalize
from tests.factories import make_contacts

sys.path.insert(0, str(Path(__file__).resolve().parent / "benchmarks"))
from crm_synth import generate

CFG = MatchConfig()


def _background(n: int = 400) -> pd.DataFrame:
    raw, _ = generate(n, seed=7)
    raw = raw.assign(record_id=["bg:" + r for r in raw["record_id"]], source="bg")
    return raw


@lru_cache(maxsize=4)
def _background_normalized(n: int) -> pd.DataFrame:
    return _normalized(schema.conform(_background(n), "contacts"))


def _normalized(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.assign(source_file="t.csv", source_row=1, extra="{}")
    records, _ = normalize({"contacts": frame}, NormalizeConfig())
    return records["contacts"]


def _run(cases: dict[str, list[object]], *, bg: int = 400, shuffle: int | None = None):
    both = pd.concat(
        [_normalized(make_contacts(**cases)), _background_normalized(bg)], ignore_index=True
    )
    if shuffle is not None:
        both = both.sample(frac=1, random_state=shuffle).reset_index(drop=True)
    return match(both, CFG)


def _pair(m, a: str, b: str) -> pd.Series | None:
    lo, hi = min(a, b), max(a, b)
    hit = m.pairs[(m.pairs.record_id_l == lo) & (m.pairs.record_id_r == hi)]
    return None if hit.empty else hit.iloc[0]


def _cluster_of(m, rid: str) -> str | None:
    hit = m.clusters[m.clusters.record_id == rid]
    return None if hit.empty else hit.cluster_id.iloc[0]


def test_exact_email_duplicate_is_auto_with_explanation_and_issue():
    m = _run(
        {
            "first_name": ["Alice", "alice", "Zed"],
            "last_name": ["Wong", "WONG", "Quill"],
            "email": ["alice.wong@example.org", "Alice.Wong@Example.org", "zq@nowhere.net"],
            "phone": ["+1 415 555 0101", None, "+1 212 555 0199"],
        }
    )
    p = _pair(m, "t:1", "t:2")
    assert p is not None and p.band == "auto" and p.score >= 0.95
    assert p.rule_id == "match.exact.email"
    assert p.sim_email == 1.0 and p.w_email > 0
    assert "email exact" in p.why and "phone" not in p.why  # null is not a mismatch
    assert _cluster_of(m, "t:1") == _cluster_of(m, "t:2") is not None
    assert _cluster_of(m, "t:3") is None
    issue = m.issues[m.issues.record_id.isin(["t:1", "t:2"])]
    assert list(issue.rule_id) == ["match.duplicate.probable"]
    assert issue.dimension.iloc[0] == "uniqueness"
    assert "t:" in issue.evidence.iloc[0] and "score" in issue.evidence.iloc[0]


def test_household_members_and_same_name_strangers_are_not_auto():
    m = _run(
        {
            # a household: same surname, address, home phone; different people
            "first_name": ["Oliver", "Grace", "Daniel", "Daniel"],
            "last_name": ["Pemberton", "Pemberton", "Okafor", "Okafor"],
            "email": ["oliver.p@mail.com", "gracep@web.com", "d.okafor@corp.com", "dan@ok.net"],
            "phone": ["+1 503 555 0142", "+1 503 555 0142", "+1 303 555 0100", "+1 702 555 0111"],
            "address": ["12 Elm Street", "12 Elm St", "4 Oak Road", "99 Pine Ave"],
            "postal_code": ["97201", "97201", "80202", "89101"],
            "city": ["Portland", "Portland", "Denver", "Las Vegas"],
        }
    )
    for a, b in (("t:1", "t:2"), ("t:3", "t:4")):
        p = _pair(m, a, b)
        assert p is None or p.band != "auto", (a, b, p)


def test_cjk_names_width_order_and_spacing_match():
    m = _run(
        {
            "full_name": ["佐藤 花子", None, "김민준", None, "Smith John", None],
            "first_name": [None, "花子", None, "민준", None, "John"],
            "last_name": [None, "佐藤", None, "김", None, "Smith"],
            "email": [
                "hanako@example.jp",
                "hanako@example.jp",
                None,
                None,
                "jsmith@acme.io",
                "jsmith@acme.io",
            ],
            "phone": [None, None, "+82 10-1234-5678", "＋８２ １０ １２３４ ５６７８", None, None],
        }
    )
    for a, b in (("t:1", "t:2"), ("t:3", "t:4"), ("t:5", "t:6")):
        p = _pair(m, a, b)
        assert p is not None and p.band in ("auto", "review"), (a, b)
        assert p.sim_given == 1.0 and p.sim_family == 1.0


def test_nickname_and_company_legal_form_are_close():
    m = _run(
        {
            "first_name": ["Robert", "Bob"],
            "last_name": ["Lindqvist", "Lindqvist"],
            "company": ["株式会社トヨタ", "トヨタ(株)"],
            "phone": ["+81 3 1234 5678", "+81 3 1234 5678"],
        }
    )
    p = _pair(m, "t:1", "t:2")
    assert p is not None
    assert "given nickname" in p.why
    assert p.sim_company == 1.0


def test_switchboard_phone_alone_does_not_merge_people():
    n = 12
    first = ["Ava", "Ben", "Cara", "Dev", "Eli", "Fay", "Gus", "Hal", "Ivy", "Jo", "Kai", "Lu"]
    last = ["North", "East", "South", "West", "Hill", "Dale", "Ford", "Marsh", "Reed", "Lake"]
    m = _run(
        {
            "first_name": first,
            "last_name": [*last, "Stone", "Brook"][:n],
            "phone": ["+1 650 555 0000"] * n,
            "company": ["Initech Inc"] * n,
        }
    )
    ours = m.pairs[
        m.pairs.record_id_l.str.startswith("t:") & m.pairs.record_id_r.str.startswith("t:")
    ]
    assert ours.empty, ours[["record_id_l", "record_id_r", "score", "why"]]


def test_clusters_do_not_chain_and_ids_are_deterministic():
    # 1~2 by email, 2~3 by phone, but 1 and 3 are different people: no cluster holds both
    m = _run(
        {
            "first_name": ["Nora", "Nora", "Victor"],
            "last_name": ["Castellano", "Castellano", "Brandt"],
            "email": ["nora.c@example.com", "nora.c@example.com", "vb@other.org"],
            "phone": [None, "+1 617 555 0123", "+1 617 555 0123"],
        }
    )
    c1, c3 = _cluster_of(m, "t:1"), _cluster_of(m, "t:3")
    assert c1 is not None and c1 != c3
    for cid, grp in m.clusters.groupby("cluster_id"):
        ids = sorted(grp.record_id)
        for x_pos, x in enumerate(ids):
            for y in ids[x_pos + 1 :]:
                p = _pair(m, x, y)
                assert p is not None and p.band in ("auto", "review"), (cid, x, y)
    assert all(c.startswith("c") and len(c) == 13 for c in m.clusters.cluster_id)
    assert m.clusters.groupby("cluster_id").is_survivor.sum().eq(1).all()


def test_shuffled_rows_give_identical_pairs_and_clusters():
    cases = {
        "first_name": ["Ines", "Inés", "Omar"],
        "last_name": ["Duarte", "Duarte", "Haddad"],
        "email": ["ines.d@example.pt", "INES.D@example.pt", "omar@h.io"],
    }
    a = _run(cases, bg=300)
    b = _run(cases, bg=300, shuffle=3)
    pd.testing.assert_frame_equal(a.pairs, b.pairs)
    pd.testing.assert_frame_equal(a.clusters, b.clusters)
    pd.testing.assert_frame_equal(a.issues, b.issues)


def test_same_person_across_sources_and_external_id_within_a_source():
    sheet = make_contacts(
        first_name=["Lena", "Paul"],
        last_name=["Moreau", "Kim"],
        email=["lena.moreau@example.fr", None],
        external_id=["S1", "C9"],
        source="sheet",
    )
    stripe = make_contacts(
        first_name=["Léna", "Paul"],
        last_name=["Moreau", "Kim"],
        email=["lena.moreau@example.fr", None],
        external_id=["cus_1", "C9"],
        source="stripe",
    )
    again = make_contacts(first_name=["P."], last_name=["Kim"], external_id=["C9"], source="sheet")
    again["record_id"] = ["sheet:3"]
    frame = pd.concat([sheet, stripe, again, schema.conform(_background(300), "contacts")])
    frame = frame.assign(source_file="x.csv", source_row=1, extra="{}").reset_index(drop=True)
    records, _ = normalize({"contacts": frame}, NormalizeConfig())
    m = match(records["contacts"], CFG)
    p = _pair(m, "sheet:1", "stripe:1")
    assert p is not None and p.band == "auto"
    ext = _pair(m, "sheet:2", "sheet:3")
    assert ext is not None and ext.rule_id == "match.exact.external_id" and ext.score == 1.0
    # the same external id in two different sources is not by itself the same record
    cross = _pair(m, "sheet:2", "stripe:2")
    assert cross is None or cross.rule_id != "match.exact.external_id"


def test_blocking_counts_before_comparing_and_skips_over_frequent_keys():
    key = np.array([0, 0, 0, 1, 1, -1, 2, 2, 2, 2, 2])
    a, b, counts = block_pairs(key, max_block=4)
    assert counts == {"pairs": 4, "skipped_keys": 1, "skipped_pairs": 10}
    assert sorted(zip(a.tolist(), b.tolist(), strict=True)) == [(0, 1), (0, 2), (1, 2), (3, 4)]
    feats = pd.DataFrame({"email": ["x", "x", None, "y"], "phone": ["1", None, "1", "1"]})
    rules = [
        BlockingRule(id="email", keys=["email"]),
        BlockingRule(id="phone", keys=["phone"], max_block=2),
    ]
    i, j, stats = candidate_pairs(Codes(feats), rules)
    assert list(zip(i.tolist(), j.tolist(), strict=True)) == [(0, 1)]
    assert stats["phone"]["skipped_keys"] == 1 and stats["phone"]["skipped_pairs"] == 3


def test_stats_and_empty_input():
    m = _run({"first_name": ["Ann"], "last_name": ["Lee"]}, bg=200)
    for key in ("candidate_pairs", "candidate_pairs_by_rule", "comparisons", "timings"):
        assert key in m.stats
    assert m.stats["candidate_pairs"] >= m.stats["pairs_review_or_better"]
    empty = match(make_contacts(0), CFG)
    assert empty.pairs.empty and empty.clusters.empty and empty.issues.empty
    assert match(None, CFG).pairs.empty


def test_bad_match_rules_are_a_config_error(tmp_path):
    bad = tmp_path / "rules.yaml"
    bad.write_text("blocking:\n  - {id: x, keys: [shoe_size]}\ncomparisons: []\n")
    with pytest.raises(ConfigError, match="shoe_size"):
        load_rules(str(bad))
    with pytest.raises(ConfigError, match="unknown match rules"):
        load_rules("nope.nothing")


def test_golden_proposals_made_in_slices_equal_one_call(monkeypatch):
    import audit.match as stage

    cases = {
        "first_name": ["Ines", "Ines", "Omar", "Omar"],
        "last_name": ["Duarte", "Duarte", "Haddad", "Haddad"],
        "email": ["ines.d@example.pt", "ines.d@example.pt", "omar@h.io", "omar@h.io"],
    }
    whole = _run(cases, bg=300)
    monkeypatch.setattr(stage, "GOLDEN_SLICE", 1)
    sliced = _run(cases, bg=300)
    assert whole.golden["cluster_id"].nunique() >= 2
    # same values (a slice where a column is all empty may carry it with another dtype)

    def plain(f: pd.DataFrame) -> pd.DataFrame:
        f = f.astype(object)
        return f.where(f.notna(), None)

    pd.testing.assert_frame_equal(plain(whole.golden), plain(sliced.golden))
    pd.testing.assert_frame_equal(whole.clusters, sliced.clusters)


def test_tiny_input_still_finds_an_exact_duplicate():
    # two rows only: the weights fall back on prior pseudo-counts instead of "all agree"
    m = match(make_contacts(email=["a@b.com", "A@B.com"], first_name=["Ann", "Ann"]), CFG)
    assert len(m.pairs) == 1 and m.pairs.band.iloc[0] == "auto"
    assert match(make_contacts(email=["a@b.com"]), CFG).pairs.empty


def test_same_name_at_one_street_counts_the_street_too_but_one_town_does_not():
    """A household's surname, street, postcode and city are one fact (they share all of them);
    with the same full name at the same street they are more evidence about one person. The
    same full name in the same town at another street stays one fact (namesakes)."""
    from audit.match.fellegi_sunter import FieldWeights, Model
    from audit.match.rules import Comparison, Group

    def fw(field: str, kind: str) -> FieldWeights:
        k = {"given_name": 5, "name": 4, "text": 5}[kind]
        m, u = np.full(k, 0.1), np.full(k, 0.1)
        m[-1], u[-1] = 0.8, 0.8 / 2**8  # exact agreement: +8 bits
        return FieldWeights(Comparison(field=field, kind=kind, group=grp[field]), m, u)

    grp = {"given": "identity", "family": "household", "address": "household", "city": "household"}
    fields = [
        fw("given", "given_name"),
        fw("family", "name"),
        fw("address", "text"),
        fw("city", "text"),
    ]
    same = {"given": "exact", "family": "exact", "address": "close"}
    model = Model(
        fields=fields,
        groups={"identity": Group(), "household": Group(rest=0.0, same=same, rest_same=0.5)},
        prior=0.5,
    )
    eight = np.full(3, 8.0, np.float32)
    contrib = {
        "given": eight,
        "family": eight,
        "address": np.array([8, 8, -2], np.float32),
        "city": eight,
    }
    levels = {  # one person at one street; same street typed another way; namesakes in town
        "given": np.array([4, 4, 4]),
        "family": np.array([3, 3, 3]),
        "address": np.array([4, 3, 1]),
        "city": np.array([4, 4, 4]),
    }
    bits = model.combine(contrib, 3, levels)
    assert bits.tolist() == [24.0, 24.0, 14.0]  # 8 + 8 + 0.5 x (8 + 8); namesakes: 8 + 8 - 2
    # without the same given name (household members) the street counts once, as before
    other = dict(levels, given=np.array([1, 1, 1]))
    assert model.combine(contrib, 3, other).tolist() == [16.0, 16.0, 14.0]


def test_group_lift_on_an_unknown_level_is_a_config_error(tmp_path):
    text = (Path(__file__).resolve().parents[1] / "rules/match/contacts.default.yaml").read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("address: close}", "address: closest}"), encoding="utf-8")
    with pytest.raises(ConfigError, match="no level 'closest'"):
        load_rules(str(bad))


def test_a_missing_or_swapped_first_name_is_not_a_different_person():
    # the guard against two clearly different first names must not fire when one record has
    # no first name (its full name is the surname alone, as CRMs compose it) or when the two
    # names are written in swapped order with a slip
    m = _run(
        {
            "first_name": ["Rodney", None, "Levi", "Weler"],
            "last_name": ["Hicks", "Hicks", "Weber", "Levi"],
            "full_name": ["Rodney Hicks", "Hicks", None, None],
            "email": ["rodney.hicks76@mail.com"] * 2 + ["lweber@web.de"] * 2,
            "phone": ["+1 503 555 0142", "+1 503 555 0142", "+49 30 1234567", "+49 30 1234567"],
            "address": [None, None, "Hauptstr. 5", "Hauptstr. 5"],
            "city": [None, None, "Berlin", "Berlin"],
        }
    )
    for a, b in (("t:1", "t:2"), ("t:3", "t:4")):
        p = _pair(m, a, b)
        assert p is not None and "different first names" not in p.why, (a, b, p)
        assert p.band == "auto", (a, b, p.why)
