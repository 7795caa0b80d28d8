"""The match stage's late steps (golden proposals, uniqueness findings, content hashes) give
what their plain definitions give, on data we did not make (FEBRL 3: 5,000 records, 2,000 of
them duplicates of others), whatever order the contacts arrive in."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit import schema
from audit.config import MatchConfig
from audit.match import _hashes_at, _score_notes, match
from audit.match.memory import content_hashes
from audit.match.survivorship import load_rules, propose_golden, propose_golden_at

sys.path.insert(0, str(Path(__file__).resolve().parent / "benchmarks"))
from febrl import read_febrl

from tests.conftest import SHARED_DATA


@pytest.fixture(scope="module")
def febrl_contacts() -> pd.DataFrame:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    d = read_febrl(SHARED_DATA / "febrl" / "dataset3.csv")
    street = (d["street_number"].fillna("") + " " + d["address_1"].fillna("")).str.strip()
    frame = pd.DataFrame(
        {
            "record_id": "febrl:" + d["rec_id"],
            "source": "febrl",
            "source_file": "dataset3.csv",
            "source_row": np.arange(2, len(d) + 2),
            "first_name": d["given_name"],
            "last_name": d["surname"],
            "address": street.replace("", None),
            "city": d["suburb"],
            "postal_code": d["postcode"],
            "region": d["state"],
        }
    )
    # shuffled: the stage puts the records in record_id order itself
    return schema.conform(frame.sample(frac=1, random_state=7), "contacts")


@pytest.fixture(scope="module")
def febrl_match(febrl_contacts: pd.DataFrame):
    return match(febrl_contacts, MatchConfig())


def test_golden_proposals_are_those_of_the_public_function(febrl_contacts, febrl_match) -> None:
    m = febrl_match
    assert len(m.golden) > 500  # FEBRL 3 holds about 1,500 duplicated people
    expected = propose_golden(febrl_contacts, m.clusters)
    pd.testing.assert_frame_equal(m.golden, expected)


def test_golden_at_known_rows_in_any_order(febrl_contacts, febrl_match) -> None:
    cl = febrl_match.clusters
    at = pd.Index(febrl_contacts["record_id"]).get_indexer(cl["record_id"])
    cid = cl["cluster_id"].to_numpy(dtype=object)
    rid = cl["record_id"].to_numpy(dtype=object)
    rules = load_rules()
    a = propose_golden_at(febrl_contacts, at, cid, rid, [], rules)
    mixed = np.random.default_rng(5).permutation(len(at))
    b = propose_golden_at(febrl_contacts, at[mixed], cid[mixed], rid[mixed], [], rules)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, propose_golden(febrl_contacts, cl))


def test_each_finding_names_its_survivor_and_the_pair_score(febrl_match) -> None:
    m = febrl_match
    cl = m.clusters
    survivor = cl[cl["is_survivor"]].set_index("cluster_id")["record_id"]
    score = {
        (a, b): s
        for a, b, s in zip(
            m.pairs["record_id_l"], m.pairs["record_id_r"], m.pairs["score"], strict=True
        )
    }
    rows = []
    for cid, rid, band in cl.loc[
        ~cl["is_survivor"], ["cluster_id", "record_id", "band"]
    ].itertuples(index=False):
        s = survivor[cid]
        sc = score.get((min(rid, s), max(rid, s)))
        note = "" if sc is None else f" (score {sc:.3f})"
        auto = band == "auto"
        rows.append(
            (
                rid,
                "match.duplicate.probable" if auto else "match.duplicate.possible",
                "warning" if auto else "info",
                f"merge into {s}",
                f"cluster {cid}: matches {s}{note}",
            )
        )
    rows.sort()
    got = m.issues[["record_id", "rule_id", "severity", "suggestion", "evidence"]]
    assert [tuple(r) for r in got.itertuples(index=False)] == rows
    assert (m.issues["entity"] == "contacts").all() and m.issues["field"].isna().all()
    assert all(type(v) is str for v in m.issues["evidence"])


def test_score_notes_format_as_python_does() -> None:
    values = [0.0005, 0.0015, 0.9995, 0.12345, 1.0, 0.5, float("nan"), 0.12345, 0.0]
    got = _score_notes(np.array(values)).to_pylist()
    assert got == ["" if v != v else f" (score {v:.3f})" for v in values]
    assert _score_notes(np.zeros(0)).to_pylist() == []


def test_hashes_at_positions_in_record_id_order(febrl_contacts) -> None:
    used = [c for c in ("record_id", "source", "first_name", "last_name", "address", "city")]
    order = np.argsort(febrl_contacts["record_id"].to_numpy(dtype=object), kind="stable")
    positions = np.random.default_rng(2).choice(len(order), 3000, replace=False)
    got = _hashes_at(febrl_contacts, used, order, positions)
    want = content_hashes(febrl_contacts[used].iloc[order[positions]])
    assert got.tolist() == want


def test_golden_from_quotes_record_ids_that_need_json_escapes() -> None:
    import json

    from tests.factories import make_contacts

    c = make_contacts(
        full_name=["Ann Lee", "Ann Lee", "Ann Lee"],
        email=["ann@x.com", None, None],
        phone=[None, "+1 555 0100", None],
        company=[None, None, "Acme"],
    )
    odd = ['t:"1"', "t:\\2", "t:\x013"]
    c["record_id"] = odd
    cl = pd.DataFrame({"cluster_id": ["c1"] * 3, "record_id": odd})
    g = propose_golden(c, cl)
    taken = json.loads(g.loc[0, "golden_from"])
    survivor = g.loc[0, "survivor_id"]
    # equally complete: the smallest id ('\x01' sorts first) is the survivor, and the email
    # and phone come from the two records holding them
    assert survivor == "t:\x013"
    assert (taken["email"], taken["phone"]) == ('t:"1"', "t:\\2")
    assert g.loc[0, "merged_record_ids"] == "; ".join(sorted(odd))
