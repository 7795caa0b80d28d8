"""The demo's planted values are held out from the detectors' own tables.

A demo that plants `mailinator.com` because the disposable-domain rule lists it scores 1.000 by
construction and measures nothing. These tests fail when a planted disposable domain, role
mailbox, mistyped domain, placeholder or nickname is one a detector ships, and when a held-out
list loses its citation of the public source it was taken from.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pandas as pd
import pytest
import yaml

from audit.demo import generate_workspace
from audit.demo import names as nm

REPO = Path(__file__).resolve().parents[1]
TABLES = REPO / "audit" / "validate" / "data"
HELDOUT = REPO / "audit" / "demo" / "data"


def _lines(path: Path) -> list[str]:
    return [x for x in path.read_text(encoding="utf-8").splitlines() if x and x[0] != "#"]


def _first_words(path: Path) -> set[str]:
    return {x.split()[0].casefold() for x in _lines(path)}


DISPOSABLE = _first_words(TABLES / "disposable_domains.txt")
ROLES = _first_words(TABLES / "role_locals.txt")
TYPOS = _first_words(TABLES / "typo_domains.txt")
PLACEHOLDERS = yaml.safe_load((TABLES / "placeholders.yaml").read_text(encoding="utf-8"))
NICK_TABLE = yaml.safe_load((REPO / "rules" / "match" / "nicknames.yaml").read_text("utf-8"))
NICK_PAIRS = {frozenset((k.casefold(), v.casefold())) for k, vs in NICK_TABLE.items() for v in vs}


def _fold(v: object) -> str:
    # YAML reads a bare `null` entry as None: the table's author meant the word
    text = "null" if v is None else str(v)
    return unicodedata.normalize("NFKC", text).casefold().strip()


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.DataFrame]:
    ws = generate_workspace(tmp_path_factory.mktemp("heldout") / "ws", size=1000, seed=7)
    read = {"dtype": str, "keep_default_na": False}
    return (
        pd.read_csv(ws.truth_dir / "problems.csv", **read),
        pd.read_csv(ws.truth_dir / "entities.csv", **read),
    )


def _kind(prob: pd.DataFrame, kind: str) -> list[str]:
    values = prob.loc[prob["problem_kind"] == kind, "detail"].tolist()
    assert values, f"nothing planted as {kind}"
    return values


def test_every_heldout_list_cites_a_public_source_at_a_commit() -> None:
    files = sorted(HELDOUT.glob("heldout_*.txt"))
    assert {f.name for f in files} >= {
        "heldout_disposable_domains.txt",
        "heldout_role_locals.txt",
        "heldout_typo_domains.txt",
        "heldout_nicknames.txt",
    }
    for f in files:
        head = f.read_text(encoding="utf-8")
        assert re.search(r"# Source: \S+/\S+ .* @ [0-9a-f]{40}", head.replace("\n#  ", " ")), f
        assert re.search(r"\((MIT|CC0-1\.0|Apache-2\.0)", head), f
        assert len(_lines(f)) >= 10, f


def test_heldout_lists_share_nothing_with_the_detector_tables() -> None:
    assert not {d.casefold() for d in nm.DISPOSABLE_DOMAINS} & DISPOSABLE
    assert not {r.casefold() for r in nm.ROLE_LOCALS} & ROLES
    typos = {t.casefold() for ts in nm.TYPO_DOMAINS.values() for t in ts}
    assert not typos & TYPOS
    # problems.make_duplicates re-types a first name only through nm.NICKNAMES
    pairs = {frozenset((g.casefold(), n.casefold())) for g, n in nm.NICKNAMES.items()}
    assert pairs and not pairs & NICK_PAIRS


def test_planted_stale_addresses_are_not_from_the_detector_tables(planted) -> None:
    prob, _ = planted
    for email in _kind(prob, "email_disposable"):
        assert email.rpartition("@")[2].casefold() not in DISPOSABLE, email
    for email in _kind(prob, "email_role"):
        assert email.partition("@")[0].casefold() not in ROLES, email
    for email in _kind(prob, "email_typo_domain"):
        assert email.rpartition("@")[2].casefold() not in TYPOS, email


def test_planted_placeholders_are_not_from_the_placeholder_table(planted) -> None:
    prob, _ = planted
    texts = {_fold(v) for v in PLACEHOLDERS["text"]}
    emails = {_fold(v) for v in PLACEHOLDERS["email"]}
    domains = {_fold(v) for v in PLACEHOLDERS["email_domains"]}
    digits = {str(v) for v in PLACEHOLDERS["phone_digits"]}
    rows = prob[prob["problem_kind"] == "placeholder"]
    assert set(rows["field"]) >= {"email", "phone"}
    for field, value in zip(rows["field"], rows["detail"], strict=True):
        v = _fold(value)
        if field == "phone":
            assert re.sub(r"\D", "", v) not in digits, value
        elif field == "email":
            assert v not in emails and v.rpartition("@")[2] not in domains, value
        else:
            assert v not in texts, value


def test_generated_placeholder_shapes_never_hit_the_table() -> None:
    """Every shape the generators can produce, not only the ones one seed happened to draw."""
    from audit.demo.problems import placeholder_phone, placeholder_text

    texts = {_fold(v) for v in PLACEHOLDERS["text"]}
    digits = {str(v) for v in PLACEHOLDERS["phone_digits"]}
    for k in range(1000):
        r = k / 1000
        assert _fold(placeholder_text(r)) not in texts, r
        for region in ("US", "KR", "JP", "CN"):
            assert re.sub(r"\D", "", placeholder_phone(region, r)) not in digits, (region, r)


def test_inactivity_is_planted_on_both_sides_of_the_threshold(planted) -> None:
    prob, _ = planted
    kinds = set(prob["problem_kind"])
    assert {"email_inactive", "email_near_inactive"} <= kinds
