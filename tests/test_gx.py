"""The Great Expectations contract runs the same packs and agrees with the engine, rule by rule."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path

import pandas as pd
import pytest

from audit.config import NormalizeConfig, RulesConfig
from audit.normalize import normalize
from audit.validate import gx, validate
from tests.factories import make_frame
from tests.test_validate import planted

pytestmark = pytest.mark.gx

AS_OF = dt.date(2026, 1, 31)


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory):
    frames, _ = planted(120)
    frames["deals"] = make_frame(
        "deals",
        amount=["100", "-5", None],
        probability=["0.5", "1.5", None],
        is_closed=["true", "true", "false"],
        closed_at=["2026-01-10", None, None],
        contact_id=["x", "y", None],
    )
    frames["surveys"] = make_frame("surveys", survey_type=["nps", "xyz"], score=["9", "11"])
    recs, _ = normalize(frames, NormalizeConfig(), [])
    tmp = tmp_path_factory.mktemp("gx")
    docs = tmp / "docs"
    (tmp / "extra.yaml").write_text(
        "pack: extra\nentity: contacts\nrules:\n"
        "  - id: contacts.email_key.unique\n    kind: unique\n    field: email_key\n"
        "    dimension: uniqueness\n    message: shared\n",
        encoding="utf-8",
    )
    cfg = RulesConfig(packs=[*RulesConfig().packs, str(tmp / "extra.yaml")], gx_docs=str(docs))
    return validate(recs, cfg, as_of=AS_OF, stale_after_days=730), docs


def test_gx_unexpected_counts_equal_engine_failures_for_every_rule(result) -> None:
    v, _ = result
    contract = v.contract
    by_rule = {r["rule_id"]: r for r in contract["results"] if r["rule_id"]}
    ran = v.checked[v.checked["status"].isin(["ok", "empty"])]
    assert set(by_rule) == set(ran["rule_id"])
    for _, row in ran.iterrows():
        gx_row = by_rule[row["rule_id"]]
        assert not gx_row["errored"], row["rule_id"]
        assert gx_row["unexpected_count"] == row["n_failed"], row["rule_id"]
    assert contract["agrees_with_engine"] and contract["mismatches"] == []


def test_gx_fit_kinds_compile_to_builtin_expectations(result) -> None:
    v, _ = result
    types = {r["rule_id"]: r["expectation"] for r in v.contract["results"] if r["rule_id"]}
    assert types["contacts.email.required"] == "expect_column_values_to_not_be_null"
    assert types["contacts.phone.e164"] == "expect_column_values_to_match_regex"
    assert types["contacts.email_key.unique"] == "expect_column_values_to_be_unique"
    assert types["deals.amount.non_negative"] == "expect_column_values_to_be_between"
    assert types["surveys.survey_type.known"] == "expect_column_values_to_be_in_set"
    flag = {r["rule_id"]: r["flag_column"] for r in v.contract["results"] if r["rule_id"]}
    assert flag["contacts.email.valid"] and flag["contacts.phone.valid"]
    assert flag["contacts.external_id.unique"]  # unique within source: no GX built-in
    assert not flag["contacts.email.required"]


def test_contract_is_json_and_docs_are_written(result) -> None:
    v, docs = result
    text = json.dumps(v.contract, sort_keys=True)
    assert json.loads(text)["engine"] == "great_expectations"
    assert v.contract["success"] is False  # planted problems fail the suite
    assert (Path(docs) / "index.html").is_file()
    assert v.contract["docs"] == str(Path(docs).resolve() / "index.html")


def test_skipped_rules_are_not_sent_to_gx(result) -> None:
    v, _ = result
    skipped = set(v.checked.loc[v.checked["status"] == "skipped", "rule_id"])
    assert skipped  # tickets, orders, subscriptions are absent
    sent = {r["rule_id"] for r in v.contract["results"]}
    assert not skipped & sent


def test_contract_does_not_depend_on_row_order() -> None:
    frames, _ = planted(60)
    out = []
    for seed in (None, 4):
        fr = (
            frames
            if seed is None
            else {k: f.sample(frac=1, random_state=seed) for k, f in frames.items()}
        )
        recs, _ = normalize(fr, NormalizeConfig(), [])
        v = validate(recs, RulesConfig(packs=["contacts.core"]), as_of=AS_OF)
        out.append(json.dumps(v.contract, sort_keys=True))
    assert out[0] == out[1]


def _contract_both_ways(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[dict, dict]:
    """The contract run in this process, then in the worker beside the rules."""
    frames, _ = planted(120)
    recs, _ = normalize(frames, NormalizeConfig(), [])
    cfg = RulesConfig(gx_docs=str(tmp_path / "docs"))
    here = validate(recs, cfg, as_of=AS_OF, stale_after_days=730)
    monkeypatch.setattr(gx, "FORK_MIN_ROWS", 0)  # 120 contacts: force the worker
    monkeypatch.setenv("CRM_AUDIT_WORKERS", "2")
    beside = validate(recs, cfg, as_of=AS_OF, stale_after_days=730)
    pd.testing.assert_frame_equal(here.issues, beside.issues)
    return here.contract, beside.contract


def test_the_contract_run_beside_the_rules_is_the_one_run_in_process(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    serve = gx._serve

    def serve_and_say(*args: object) -> None:  # runs in the worker: leaves a mark on disk
        (tmp_path / "worker-ran").touch()
        serve(*args)

    monkeypatch.setattr(gx, "_serve", serve_and_say)
    here, beside = _contract_both_ways(monkeypatch, tmp_path)
    assert (tmp_path / "worker-ran").is_file()
    assert here["results"] and not here["success"]  # planted problems fail the suite
    assert json.dumps(beside, sort_keys=True) == json.dumps(here, sort_keys=True)
    assert (tmp_path / "docs" / "index.html").is_file()


def test_a_contract_worker_that_dies_costs_time_not_the_contract(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(gx, "_serve", lambda *args: os._exit(3))
    here, beside = _contract_both_ways(monkeypatch, tmp_path)
    assert json.dumps(beside, sort_keys=True) == json.dumps(here, sort_keys=True)


def test_small_data_runs_the_contract_in_process() -> None:
    frames, _ = planted(30)
    recs, _ = normalize(frames, NormalizeConfig(), [])
    c = gx.Contract(recs)
    try:
        assert not c.forked
    finally:
        c.close()


def test_text_and_flags_read_as_categoricals_give_gx_the_same_answers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """GX filters its batch frame about twice per expectation, so text and flag columns reach it
    as categoricals (taken by their codes). Its answers must be those it gives on the columns
    as they are: counts, and the unexpected values it shows, for odd text as well."""
    frames, _ = planted(120)
    contacts = frames["contacts"].copy()
    odd = ["nan", "", " ", "None", "＋８１ ９０", "+1 (555) 0100", "null", "Ｎ/Ａ", "👍", None]
    contacts.loc[contacts.index[: len(odd)], "company"] = odd
    contacts.loc[contacts.index[: len(odd)], "job_title"] = odd[::-1]
    frames["contacts"] = contacts
    recs, _ = normalize(frames, NormalizeConfig(), [])
    pack = tmp_path / "odd.yaml"
    pack.write_text(
        "pack: odd\nentity: contacts\nrules:\n"
        "  - id: contacts.company.required\n    kind: required\n    field: company\n"
        "    dimension: completeness\n    message: no company\n"
        "  - id: contacts.company.word\n    kind: matches\n    field: company\n"
        "    params: {pattern: '^[A-Za-z]'}\n    dimension: validity\n    message: odd\n"
        "  - id: contacts.job_title.known\n    kind: in_set\n    field: job_title\n"
        "    params: {values: ['', 'nan', 'None']}\n    dimension: validity\n    message: odd\n",
        encoding="utf-8",
    )
    cfg = RulesConfig(packs=[*RulesConfig().packs, str(pack)], gx=True)
    seen: list[pd.DataFrame] = []
    cheap = gx._cheap_to_filter

    def spy(frame: pd.DataFrame, expectations: list) -> pd.DataFrame:
        out = cheap(frame, expectations)
        seen.append(out)
        return out

    monkeypatch.setattr(gx, "_cheap_to_filter", spy)
    fast = validate(recs, cfg, as_of=AS_OF, stale_after_days=730).contract
    dtypes = {c: str(t) for f in seen for c, t in f.dtypes.items()}
    assert dtypes["company"] == dtypes["job_title"] == dtypes["email"] == "category"
    assert dtypes["flag__contacts__email__valid"] == "category"
    monkeypatch.setattr(gx, "_cheap_to_filter", lambda frame, expectations: frame)
    plain = validate(recs, cfg, as_of=AS_OF, stale_after_days=730).contract
    assert json.dumps(fast, sort_keys=True) == json.dumps(plain, sort_keys=True)
    by_rule = {r["rule_id"]: r for r in fast["results"] if r["rule_id"]}
    # normalize folds the full-width text; "nan" and "None" stay text, blanks become missing
    # only the odd cells have a company; seven of them are text after normalize
    assert by_rule["contacts.company.required"]["unexpected_count"] == len(recs["contacts"]) - 7
    word = by_rule["contacts.company.word"]
    assert (word["unexpected_count"], word["partial_unexpected"]) == (
        3,
        ["+81 90", "+1 (555) 0100", "👍"],
    )
    known = by_rule["contacts.job_title.known"]
    assert known["unexpected_count"] == 5
    assert sorted(known["partial_unexpected"]) == sorted(
        ["👍", "N/A", "null", "+1 (555) 0100", "+81 90"]
    )
    assert fast["agrees_with_engine"]


def test_asking_for_data_docs_does_not_change_the_contract(tmp_path: Path) -> None:
    """Without Data Docs GX skips the unexpected rows' index lists and value counts, which only
    the docs show: the summary (counts, the values shown) is the one a docs run gives."""
    frames, _ = planted(120)
    recs, _ = normalize(frames, NormalizeConfig(), [])
    bare = validate(recs, RulesConfig(), as_of=AS_OF, stale_after_days=730).contract
    docs = RulesConfig(gx_docs=str(tmp_path / "docs"))
    with_docs = validate(recs, docs, as_of=AS_OF, stale_after_days=730).contract
    assert (tmp_path / "docs" / "index.html").is_file()
    assert bare["docs"] is None and with_docs["docs"]
    assert any(r["partial_unexpected"] for r in bare["results"])
    bare.pop("docs"), with_docs.pop("docs")
    assert json.dumps(bare, sort_keys=True) == json.dumps(with_docs, sort_keys=True)


def test_handing_rules_to_the_contract_worker_does_not_wait_for_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The worker reads the flags as they come, while it is still importing GX or validating
    the entity before: the rules of the next entity are not held up (the pipe's buffers hold
    a few hundred KiB; at 100k contacts one entity's flags are megabytes)."""
    import socket

    from audit.validate.engine import run_rule
    from audit.validate.kinds import Context
    from audit.validate.rulepack import load_rules

    frames, _ = planted(12_000)
    recs, _ = normalize(frames, NormalizeConfig(), [])
    ctx = Context(records=recs, as_of=AS_OF, stale_after_days=730)
    runs = [run_rule(r, ctx) for r in load_rules(RulesConfig()) if r.entity == "contacts"]
    flags = sum(f.nbytes for w in gx._flags(runs, recs) for f in w[3:] if f is not None)
    a, b = socket.socketpair()  # what multiprocessing's Pipe is made of
    buffered = a.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) + b.getsockopt(
        socket.SOL_SOCKET, socket.SO_RCVBUF
    )
    a.close(), b.close()
    assert flags > buffered  # more than the pipe can hold unread
    real = gx._gx

    def slow_import() -> object:  # the worker's GX import, made slow
        time.sleep(4)
        return real()

    monkeypatch.setattr(gx, "_gx", slow_import)
    monkeypatch.setenv("CRM_AUDIT_WORKERS", "2")
    contract = gx.Contract(recs, as_of=AS_OF, fork_min_rows=0)
    try:
        assert contract.forked
        start = time.perf_counter()
        contract.submit(runs)
        assert time.perf_counter() - start < 2
        beside = contract.result()
    finally:
        contract.close()
    monkeypatch.setattr(gx, "_gx", real)
    here = gx.run_contract(runs, recs, as_of=AS_OF)
    assert beside["results"] and json.dumps(beside, sort_keys=True) == json.dumps(
        here, sort_keys=True
    )
