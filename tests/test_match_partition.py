"""A part of the records compares pairs exactly as the whole data set does (issue #12).

A distributed engine scores candidate pairs per partition, each on the rows its pairs name. What
only the whole data set knows (value counts, the people sharing a value, which words are family
names) is handed to every partition as global statistics (`ValueCounts`, `ValueFacts`); given
them, a partition must give every pair the score, level and weight the whole gives it.

The people come from tests/benchmarks/data/xscript_names.csv (public lists of Korean, Japanese
and Chinese names with the romanizations people use, not the matcher's tables): each person has
a native-script record and a romanized one, written family name first about a third of the time.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit.config import MatchConfig
from audit.match.blocking import candidate_pairs
from audit.match.compare import Comparer, counted_features
from audit.match.engine import make_scorer
from audit.match.facts import value_counts, value_facts
from audit.match.fellegi_sunter import train
from audit.match.prepare import features
from audit.match.rules import load_rules

sys.path.insert(0, str(Path(__file__).resolve().parent / "benchmarks"))
from bench_match_xscript import generate


@pytest.fixture(scope="module")
def whole():
    people, _ = generate(300, 11)
    data = people.drop(columns=["person"]).sort_values("record_id").reset_index(drop=True)
    rules = load_rules(MatchConfig().rules)
    feats = features(data)
    facts = value_facts(feats, nicknames=rules.nicknames)
    comparer = Comparer(feats, rules.comparisons, rules.nicknames, facts)
    ci, cj, _ = candidate_pairs(comparer.codes, rules.blocking, None)
    n = len(feats)
    model = train(comparer, rules, ci, cj, n * (n - 1) / 2)
    scored = make_scorer(comparer, model, rules).score(ci, cj, detail=True)
    return data, rules, feats, facts, comparer, model, ci, cj, scored


def _part(whole, selected):
    """The rows the selected pairs name, and the pairs as positions among those rows."""
    _, _, feats, _, _, _, ci, cj, _ = whole
    rows = np.unique(np.r_[ci[selected], cj[selected]])
    sub = feats.iloc[rows].reset_index(drop=True)
    return sub, np.searchsorted(rows, ci[selected]), np.searchsorted(rows, cj[selected])


def test_pairs_split_in_two_score_as_on_the_whole_given_the_global_statistics(whole) -> None:
    data, rules, feats, facts, _, model, ci, cj, scored = whole
    counts = value_counts(feats, counted_features(rules.comparisons))
    # one part: the pairs of two romanized records; the other: every pair with a native one
    latin = data["source"].to_numpy() == "crm"
    first = latin[ci] & latin[cj]
    assert 0 < first.sum() < len(ci)
    for selected in (first, ~first):
        sub, a, b = _part(whole, selected)
        comparer = Comparer(sub, rules.comparisons, rules.nicknames, facts, counts=counts)
        got = make_scorer(comparer, model, rules).score(a, b, detail=True)
        assert set(got) == set(scored)
        for key, values in scored.items():
            np.testing.assert_array_equal(got[key], values[selected], err_msg=key)


def test_family_names_are_known_from_the_whole_data_set_not_the_part(whole) -> None:
    """'Chiba Kenji' / 'Chiba Yui' written family first share 'chiba' in the given-name slot:
    that it is a family name (a native record reads 千葉 as Chiba, or most records hold it as
    one) is a fact of the whole data set; the part holding only romanized records would miss it
    and take the shared word for a given name."""
    data, rules, feats, facts, comparer, _, ci, cj, _ = whole
    counts = value_counts(feats, counted_features(rules.comparisons))
    latin = data["source"].to_numpy() == "crm"
    selected = latin[ci] & latin[cj]
    sub, a, b = _part(whole, selected)
    expected = comparer._family_first(ci[selected], cj[selected])
    assert expected.sum() > 0
    on_its_own = Comparer(sub, rules.comparisons, rules.nicknames, facts)._family_first(a, b)
    assert (on_its_own != expected).any()  # counted on the part alone, the answer differs
    given = Comparer(sub, rules.comparisons, rules.nicknames, facts, counts=counts)
    np.testing.assert_array_equal(given._family_first(a, b), expected)


def test_a_part_without_any_value_of_a_field_still_compares(whole) -> None:
    """The romanized records carry no street address; a partition of them alone must still
    score its pairs (the address comparison is null there), not fail on an empty lookup."""
    data, rules, feats, facts, _, model, ci, cj, scored = whole
    counts = value_counts(feats, counted_features(rules.comparisons))
    latin = data["source"].to_numpy() == "crm"
    selected = latin[ci] & latin[cj]
    sub, a, b = _part(whole, selected)
    assert sub["address"].isna().all() and pd.notna(feats["address"]).any()
    comparer = Comparer(sub, rules.comparisons, rules.nicknames, facts, counts=counts)
    got = make_scorer(comparer, model, rules).score(a, b, detail=True)
    assert (got["lv_address"] == 0).all()
    np.testing.assert_array_equal(got["score"], scored["score"][selected])
