"""Property: whatever a reviewer decides, apply accounts for every record and undo is exact."""

from __future__ import annotations

import itertools
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.merge import apply_merge, undo_merge
from tests.test_merge import demo_result, write_run_folder

MEMBERS = {"c1": ["t:1", "t:2", "t:3"], "c2": ["t:4", "t:5"], "c3": ["t:6", "t:7"]}
_counter = itertools.count()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("roundtrip")
    return write_run_folder(demo_result(tmp), tmp / "run")


def decision_for(cid: str) -> st.SearchStrategy[tuple[str, str, list[str]]]:
    members = MEMBERS[cid]
    split = st.lists(st.sampled_from(members), min_size=1, max_size=len(members), unique=True)
    return st.one_of(
        st.just((cid, "", [])),
        st.just((cid, "approve", [])),
        st.just((cid, "reject", [])),
        split.map(lambda off: (cid, "split", sorted(off))),
    )


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.tuples(*(decision_for(c) for c in sorted(MEMBERS))), st.booleans())
def test_apply_then_undo_is_exact(run_dir: Path, decisions, as_xlsx_words: bool) -> None:
    original = (run_dir / "records" / "contacts.csv").read_bytes()
    out = run_dir.parent / f"out{next(_counter)}"
    out.mkdir()
    lines = ["cluster_id,decision,split_off"]
    for cid, word, off in decisions:
        if word:
            shown = word.upper() if as_xlsx_words else word  # reviewers type in any case
            lines.append(f"{cid},{shown},{' '.join(off)}")
    dec = out / "d.csv"
    dec.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = apply_merge(run_dir, dec, out_dir=out / "merged")

    expected_groups = {}
    for cid, word, off in decisions:
        keep = [r for r in MEMBERS[cid] if r not in off] if word in ("approve", "split") else []
        if len(keep) >= 2:
            expected_groups[cid] = keep
    assert res.merged == sorted(expected_groups)
    merged = pd.read_csv(res.contacts, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert len(merged) == 8 - sum(len(g) - 1 for g in expected_groups.values())
    # every input record is either still there or named in a golden row's merged_record_ids
    accounted = set(merged["record_id"])
    for ids in merged["merged_record_ids"]:
        accounted |= set(filter(None, ids.split("; ")))
    assert accounted == {f"t:{i}" for i in range(1, 9)}

    assert undo_merge(res.log).identical
    assert res.contacts.read_bytes() == original
    assert (run_dir / "records" / "contacts.csv").read_bytes() == original  # input untouched
