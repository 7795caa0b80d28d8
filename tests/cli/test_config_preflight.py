"""A config is checked completely before any work: every mistake is one line and exit 2.

Each case is a config a user could plausibly write (a typo, a wrong unit, a hostile file); the
expected fragment is the part of the message that tells them what to fix.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from audit.cli import cli

HEAD = "version: 1\nas_of: 2026-10-31\nsources:\n  - name: s\n    path: c.csv\n"

CASES = [
    ("    timezone: Mars/Olympus\n", "unknown time zone 'Mars/Olympus'"),
    ("    phone_region: XX\n", "unknown phone region 'XX'"),
    ("    delimiter: ';;'\n", "a delimiter is one character"),
    ("    header_row: -1\n", "header_row counts from 1"),
    ("normalize:\n  timezone: Nowhere/City\n", "normalize.timezone"),
    ("normalize:\n  default_region: ZZ\n", "unknown phone region 'ZZ'"),
    ("kpis:\n  params:\n    churn_rate: {bogus: 1}\n", "kpis.params.churn_rate: unknown parameter"),
    ("kpis:\n  params:\n    clv: {variant: lifetime}\n", "variant: 'lifetime' is not one of"),
    ("kpis:\n  params:\n    clv: {lifespan_years: -2}\n", "lifespan_years: give a positive number"),
    ("kpis:\n  params:\n    same_day_closed_cases: {timezone: Seoul}\n", "unknown time zone"),
    ("kpis:\n  params:\n    chrn_rate: {a: 1}\n", "Did you mean 'churn_rate'?"),
    ("kpis:\n  include: [nps, csatt]\n", "kpis.include"),
    ("thresholds:\n  weights: {validity: -3}\n", "thresholds.weights.validity"),
    ("thresholds:\n  dimensions: {completeness: 80}\n", "thresholds.dimensions.completeness"),
    ("thresholds:\n  rules: {contacts.email.valid: 7}\n", "less than or equal to 1"),
    ("match:\n  survivorship: nope/missing\n", "survivorship rules 'nope/missing'"),
    ("match:\n  rules: nope\n", "match rules"),
    ("rules:\n  params: {contacts.email.inactive: {days: -5}}\n", "days"),
    ("output:\n  dir: c.csv\n", "is a file, not a folder"),
]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "c.csv").write_text("First Name,Email\nJane,jane@example.com\n", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("tail, fragment", CASES, ids=[c[1][:40] for c in CASES])
def test_config_mistakes_are_one_line_and_exit_2(
    runner: CliRunner, folder: Path, tail: str, fragment: str
) -> None:
    cfg = folder / "c.yaml"
    cfg.write_text(HEAD + tail, encoding="utf-8")
    result = runner.invoke(cli, ["run", str(cfg)])
    assert result.exit_code == 2, result.output
    assert fragment in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2
    assert not (folder / "reports").exists()  # refused before any work or any output


def test_as_of_out_of_range(runner: CliRunner, folder: Path) -> None:
    cfg = folder / "c.yaml"
    cfg.write_text(HEAD.replace("2026-10-31", "9999-12-31"), encoding="utf-8")
    result = runner.invoke(cli, ["run", str(cfg)])
    assert result.exit_code == 2
    assert "as_of 9999-12-31 is out of range" in result.stderr


def test_yaml_alias_bomb_is_refused_fast(runner: CliRunner, folder: Path) -> None:
    # 502 bytes of nested aliases expand to ~387M items with a plain safe_load
    levels = ["    a: &a [1,1,1,1,1,1,1,1,1]"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=False):
        levels.append(f"    {name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    cfg = folder / "bomb.yaml"
    cfg.write_text(HEAD + "kpis:\n  params:\n" + "\n".join(levels) + "\n", encoding="utf-8")
    start = time.perf_counter()
    result = runner.invoke(cli, ["run", str(cfg)])
    assert time.perf_counter() - start < 5
    assert result.exit_code == 2
    assert "aliases" in result.stderr and "line 9" in result.stderr  # the first *a


def test_deeply_nested_yaml_is_refused(runner: CliRunner, folder: Path) -> None:
    cfg = folder / "deep.yaml"
    cfg.write_text(HEAD + "kpis:\n  params:\n    x: " + "[" * 6000 + "]" * 6000 + "\n")
    result = runner.invoke(cli, ["run", str(cfg)])
    assert result.exit_code == 2
    assert "nested deeper than" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_tab_delimiter_is_accepted(runner: CliRunner, folder: Path) -> None:
    (folder / "t.tsv").write_text("First Name\tEmail\nJane\tjane@example.com\n", encoding="utf-8")
    cfg = folder / "c.yaml"
    cfg.write_text(
        "version: 1\nas_of: 2026-10-31\nsources:\n  - name: s\n    path: t.tsv\n"
        "    delimiter: tab\nthresholds:\n  overall: 0\n",
        encoding="utf-8",
    )
    result = runner.invoke(cli, ["audit", str(cfg), "--out", str(folder / "out")])
    assert result.exit_code in (0, 1), result.stderr
