"""`crm-audit dedupe`: plain CSV in, pairs.csv and clusters.csv out, one-line errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from audit.cli import cli

PEOPLE = [
    # id, first, last, email, phone, street, suburb, postcode
    (
        "a1",
        "Maria",
        "Kowalski",
        "maria.k@example.com",
        "+61 2 9999 0001",
        "4 Bay Rd",
        "Manly",
        "2095",
    ),
    ("a2", "Marie", "Kowalski", "MARIA.K@example.com", None, "4 Bay Road", "Manly", "2095"),
    (
        "a3",
        "Tomas",
        "Herrera",
        "tomas.h@example.net",
        "+61 3 5555 0202",
        "9 Hill St",
        "Geelong",
        "3220",
    ),
    (
        "a4",
        "Ahmed",
        "Siddiqui",
        "ahmed.s@example.org",
        "+61 7 3333 0303",
        "1 Creek Ln",
        "Cairns",
        "4870",
    ),
    (
        "a5",
        "Yuki",
        "Tanaka",
        "yuki.t@example.jp",
        "+61 8 4444 0404",
        "22 Sand Ave",
        "Broome",
        "6725",
    ),
    ("a6", "Liam", "O'Neill", "liam.oneill@example.ie", None, "3 Glen Pl", "Hobart", "7000"),
]


def _write(
    path: Path,
    rows,
    header=(
        "cust_id",
        "given_name",
        "surname",
        "email",
        "phone",
        "address_1",
        "suburb",
        "postcode",
    ),
) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for r in rows:
            w.writerow(["" if v is None else v for v in r])
    return path


def test_one_file_dedupes_and_writes_pairs_and_clusters(runner, tmp_path):
    src = _write(tmp_path / "people.csv", PEOPLE)
    before = src.read_bytes()
    out = tmp_path / "out"
    res = runner.invoke(cli, ["dedupe", str(src), "--id-column", "cust_id", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "first_name=given_name" in res.stdout and "wrote" in res.stdout
    pairs = pd.read_csv(out / "pairs.csv", dtype=str)
    assert list(pairs.columns[:4]) == ["id_l", "id_r", "score", "band"]
    assert any(c.startswith("sim_") for c in pairs.columns)
    assert [tuple(x) for x in pairs[["id_l", "id_r"]].to_numpy()] == [("a1", "a2")]
    assert pairs.band.iloc[0] in ("auto", "review")
    clusters = pd.read_csv(out / "clusters.csv", dtype=str)
    assert list(clusters.columns) == ["cluster_id", "id"]
    assert sorted(clusters.id) == ["a1", "a2"] and clusters.cluster_id.nunique() == 1
    assert src.read_bytes() == before  # inputs are never written


def test_two_files_link_with_field_override(runner, tmp_path):
    left = _write(tmp_path / "crm.csv", PEOPLE[:3])
    right_rows = [
        ("b1", "Tomas", "Herrera", "tomas.h@example.net", None, "9 Hill St", "Geelong", "3220"),
        ("b2", "Ahmed", "Siddiqui", "ahmed.s@example.org", None, "1 Creek Ln", "Cairns", "4870"),
    ]
    right = _write(
        tmp_path / "shop.csv",
        right_rows,
        header=(
            "cust_id",
            "given_name",
            "surname",
            "E-Mail Address",
            "phone",
            "address_1",
            "suburb",
            "postcode",
        ),
    )
    out = tmp_path / "links"
    res = runner.invoke(
        cli,
        [
            "dedupe",
            str(left),
            str(right),
            "--id-column",
            "cust_id",
            "--out",
            str(out),
            "--field",
            "email=email",
            "--format",
            "json",
        ],
    )
    assert res.exit_code == 0, res.output
    assert '"mode": "link"' in res.stdout
    pairs = pd.read_csv(out / "pairs.csv", dtype=str)
    # a link pair always runs from the first file to the second
    assert set(pairs.id_l) <= {"a1", "a2", "a3"} and set(pairs.id_r) <= {"b1", "b2"}
    assert ("a3", "b1") in {tuple(x) for x in pairs[["id_l", "id_r"]].to_numpy()}


@pytest.mark.parametrize(
    "args, code, fragment",
    [
        (["--id-column", "nope"], 3, "no id column 'nope'"),
        (["--id-column", "cust_id", "--field", "shoe=given_name"], 2, "unknown field 'shoe'"),
        (["--id-column", "cust_id", "--field", "first_name"], 2, "FIELD=COLUMN"),
        (["--id-column", "cust_id", "--field", "first_name=Vorname"], 2, "no column 'Vorname'"),
    ],
)
def test_errors_are_one_line(runner, tmp_path, args, code, fragment):
    src = _write(tmp_path / "p.csv", PEOPLE)
    res = runner.invoke(cli, ["dedupe", str(src), "--out", str(tmp_path / "o"), *args])
    assert res.exit_code == code, res.output
    assert fragment in res.stderr and "Traceback" not in res.output


def test_duplicate_ids_and_empty_file_are_input_errors(runner, tmp_path):
    dup = _write(tmp_path / "dup.csv", [PEOPLE[0], PEOPLE[0]])
    res = runner.invoke(cli, ["dedupe", str(dup), "--id-column", "cust_id", "--out", str(tmp_path)])
    assert res.exit_code == 3 and "appears more than once" in res.stderr
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    res = runner.invoke(
        cli, ["dedupe", str(empty), "--id-column", "cust_id", "--out", str(tmp_path)]
    )
    assert res.exit_code == 3 and "empty" in res.stderr


def test_shuffled_input_gives_identical_files(runner, tmp_path):
    rows = [*PEOPLE, ("a7", "Maria", "Kowalski", None, "+61 2 9999 0001", None, None, None)]
    a = _write(tmp_path / "a.csv", rows)
    b = _write(tmp_path / "b.csv", list(reversed(rows)))
    for src, out in ((a, "oa"), (b, "ob")):
        res = runner.invoke(
            cli, ["dedupe", str(src), "--id-column", "cust_id", "--out", str(tmp_path / out)]
        )
        assert res.exit_code == 0, res.output
    for name in ("pairs.csv", "clusters.csv"):
        assert (tmp_path / "oa" / name).read_bytes() == (tmp_path / "ob" / name).read_bytes()


def test_a_cp949_file_is_read_as_korean_and_every_row_is_accounted_for(runner, tmp_path):
    # Excel on Korean Windows saves plain "CSV" as cp949; names seen in public Korean code
    src = tmp_path / "고객.csv"
    src.write_bytes(
        (
            "cust_id,name,email,phone\n"
            "k1,김민수,minsu@example.com,010-1234-5678\n"
            "k2,김민수,minsu@example.com,010-1234-5678\n"
            "k3,John Smith,john@example.com,010-9999-0000\n"
            "k4,이영희,younghee@example.com,010-2345-6789, met at expo\n"
            "k5,Jane Doe,jane@example.com,010-8888-0000\n"
        ).encode("cp949")
    )
    out = tmp_path / "o"
    res = runner.invoke(
        cli, ["dedupe", str(src), "--id-column", "cust_id", "--out", str(out), "--format", "json"]
    )
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    (info,) = summary["inputs"]
    assert info["encoding"] == "cp949"
    # the ragged row is not silently dropped: it is counted and named
    assert (info["rows_read"], info["rows_used"], info["rows_rejected"]) == (5, 4, 1)
    assert any("line 5" in n and "5 fields where the header has 4" in n for n in summary["notes"])
    assert summary["records"] == 4
    pairs = list(csv.DictReader((out / "pairs.csv").open(encoding="utf-8")))
    assert {(p["id_l"], p["id_r"]) for p in pairs} == {("k1", "k2")}
