"""A CSV's cells stay Arrow text from the reader to the records (no Python string per cell).

The mapping, the `extra` JSON, the profiles' status and flag rules, the surveys' header rows,
the footers and the record ids used to read a missing cell as None; Arrow text gives NaN there.
Each file here is read twice: as it is (pyarrow's parser, Arrow text) and through the standard
library's csv module (the reader's careful path: Python strings, None for an empty cell), which
shares no code with the Arrow columns. Both readings must give the same records, ids, issues and
file listing. The files are the real exports of tests/fixtures/real, the vendor-shaped exports
of tests/fixtures/sources (the only survey exports), and real exports with what Excel and the
vendors write around empty cells: quoted blanks, whitespace-only cells, a BOM, a totals line.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from audit import config_for_paths
from audit.model import Ingest
from audit.sources import read_sources, read_table
from audit.sources.readers import csv_reader

HERE = Path(__file__).parent
REAL = HERE / "fixtures" / "real"
VENDOR = HERE / "fixtures" / "sources"
AS_OF = dt.date(2026, 10, 31)


def _read(path: Path, monkeypatch: pytest.MonkeyPatch, *, arrow: bool) -> tuple[Ingest, int]:
    """read_sources on one file or folder; (ingest, tables the Arrow parser gave)."""
    fast = csv_reader._fast
    taken = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        table = fast(*args, **kwargs) if arrow else None
        taken.append(table is not None)
        return table

    with monkeypatch.context() as m:
        m.setattr(csv_reader, "_fast", spy)
        cfg = config_for_paths([path], as_of=AS_OF)
        ingest = read_sources(cfg.sources, base_dir=Path(cfg.base_dir), not_read=cfg.not_read)
    return ingest, sum(taken)


def _same_both_ways(
    path: Path, monkeypatch: pytest.MonkeyPatch, *, arrow_read: bool = True
) -> Ingest:
    """The Arrow reading of `path`, checked against the standard library's."""
    arrow, n_arrow = _read(path, monkeypatch, arrow=True)
    plain, _ = _read(path, monkeypatch, arrow=False)
    if arrow_read:
        assert n_arrow, f"{path.name}: pyarrow's parser did not read it; nothing compared"
    assert arrow.records.keys() == plain.records.keys()
    for entity, frame in arrow.records.items():
        pd.testing.assert_frame_equal(frame, plain.records[entity], obj=f"{path.name} {entity}")
    pd.testing.assert_frame_equal(arrow.issues, plain.issues)
    pd.testing.assert_frame_equal(arrow.counts, plain.counts)
    pd.testing.assert_frame_equal(arrow.files, plain.files)
    return arrow


ARROW_READ_REAL = sorted(
    p.name
    for p in REAL.glob("*.csv")
    # a quote that never closes, and rows re-saved with ';': the careful path reads both ways
    if p.name not in ("shopify_customers_pk.csv", "mailchimp_subscribed_resaved.csv")
    and p.name != "zh_company_directory.csv"  # ragged rows: the careful path, both ways
)


@pytest.mark.parametrize("name", ARROW_READ_REAL)
def test_real_export_same_as_read_by_the_standard_library(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest = _same_both_ways(REAL / name, monkeypatch)
    contacts = ingest.records.get("contacts", ingest.records.get("companies"))
    assert contacts is not None and len(contacts)
    # the text reaches the records as Arrow text, missing where the cell was empty
    assert str(contacts["extra"].dtype) == "str"


VENDOR_FILES = sorted(
    str(p.relative_to(VENDOR)) for p in VENDOR.glob("*/*.csv") if p.parent.name != "readers"
)


@pytest.mark.parametrize("rel", VENDOR_FILES)
def test_vendor_export_same_as_read_by_the_standard_library(
    rel: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a few are read the careful way both times (a quoted line break in the header)
    _same_both_ways(VENDOR / rel, monkeypatch, arrow_read=False)


def _rewrite(src: Path, dst: Path, fix: Any, *, encoding: str = "utf-8", **fmt: Any) -> None:
    """`src`'s rows, changed by `fix`, written as a CSV in `encoding` (the source's own)."""
    rows = list(
        csv.reader(io.StringIO(src.read_text(encoding=encoding + "-sig" * (encoding == "utf-8"))))
    )
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n", **fmt).writerows(fix(rows))
    dst.write_bytes(out.getvalue().encode(encoding))


def test_quoted_blank_and_whitespace_only_cells(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every field quoted (`""` for an empty cell, as Salesforce writes), some empty cells
    saved as spaces or a tab (a hand-edited sheet), and cells that JSON must escape."""

    def fix(rows: list[list[str]]) -> list[list[str]]:
        header = rows[0]
        notes = header.index("Contact type")  # unmapped: kept in extra
        for i, row in enumerate(rows[1:], 1):
            for j, v in enumerate(row):
                if not v and (i + j) % 5 == 0:
                    row[j] = " " if (i + j) % 2 else "\t  "
            if i % 7 == 0:
                row[notes] = 'Suite "B" \\ rear\nsecond line \x01'
        return rows

    path = tmp_path / "hubspot_contacts.csv"
    _rewrite(REAL / "hubspot_contacts.csv", path, fix, quoting=csv.QUOTE_ALL)
    ingest = _same_both_ways(path, monkeypatch)
    contacts = ingest.records["contacts"]
    extras = [json.loads(x) for x in contacts["extra"].dropna()]
    # a whitespace-only cell is a value as written (normalize decides it is empty), and a
    # quoted blank is an empty cell: never a key in extra
    assert any(v == " " for x in extras for v in x.values())
    assert not any(v == "" for x in extras for v in x.values())
    assert any(v == 'Suite "B" \\ rear\nsecond line \x01' for x in extras for v in x.values())


def test_bom_and_cjk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A BOM before the header and CJK text, in UTF-8 (as Excel's "CSV UTF-8" saves it)."""
    for name in ("ja_customers_sjis.csv", "zh_outlook_gbk.csv"):
        text = (REAL / name).read_bytes().decode("cp932" if "sjis" in name else "gb18030")
        path = tmp_path / name.replace("_sjis", "").replace("_gbk", "")
        path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
        ingest = _same_both_ways(path, monkeypatch)
        assert ingest.files["encoding"].tolist() == ["utf-8-sig"]
        header = ingest.files["mapping"].iloc[0] | dict.fromkeys(ingest.files["unmapped"].iloc[0])
        assert not any(h.startswith("\ufeff") for h in header)


def test_totals_line_under_a_real_export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A report saved with its totals line: one cell of text and the rest empty is a footer."""
    path = tmp_path / "stripe_customers.csv"
    _rewrite(
        REAL / "stripe_customers.csv",
        path,
        lambda rows: [*rows, ["Total: 62 customers"] + [""] * (len(rows[0]) - 1)],
    )
    ingest = _same_both_ways(path, monkeypatch)
    footers = ingest.issues[ingest.issues["rule_id"] == "source.row.footer"]
    assert len(footers) == 1 and "Total: 62 customers" in footers["value"].iloc[0]
    assert len(ingest.records["contacts"]) == 62


def test_shopify_apostrophes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Shopify's `'`-prefixed phones and ids (strip_apostrophe), through the Arrow parser: the
    real file's rows that parse (its last row's quote never closes)."""
    path = tmp_path / "customers_export.csv"
    lines = (REAL / "shopify_customers_pk.csv").read_bytes().split(b"\n")
    good = [ln for ln in lines if ln.count(b'"') % 2 == 0]
    path.write_bytes(b"\n".join(good[: len(good) - 1]) + b"\n")
    ingest = _same_both_ways(path, monkeypatch)
    contacts = ingest.records["contacts"]
    assert ingest.files["profile"].tolist() == ["shopify.customers"]
    phones = contacts["phone"].dropna().tolist()
    assert phones and not any(p.startswith("'") for p in phones)


def test_lone_surrogate_beside_arrow_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One source: a real CSV (Arrow text) and a JSON export holding a lone surrogate, which
    Arrow cannot hold: the surrogate stays Python text and the CSV's records are unchanged."""
    folder = tmp_path / "contacts"
    folder.mkdir()
    (folder / "a.csv").write_bytes((REAL / "ko_addressbook.csv").read_bytes())
    (folder / "b.json").write_bytes(
        b'[{"name": "\\ud800bad", "email": "a@x.io"}, {"name": "ok", "email": "b@x.io"}]'
    )
    alone, _ = _read(folder / "a.csv", monkeypatch, arrow=True)
    both = _same_both_ways(folder, monkeypatch)
    contacts = both.records["contacts"]
    from_json = contacts[contacts["source_file"].str.endswith("b.json")]
    assert "\ud800bad" in from_json["full_name"].tolist()
    csv_part = contacts[contacts["source_file"].str.endswith("a.csv")]
    solo = alone.records["contacts"]
    assert csv_part["email"].tolist() == solo["email"].tolist()
    assert csv_part["full_name"].tolist() == solo["full_name"].tolist()


def test_plain_file_commands_get_python_values() -> None:
    """dedupe and merge apply read a plain file: text or None, as before."""
    table = read_table(REAL / "hubspot_contacts.csv")
    values = {type(v) for c in table.frame.columns for v in table.frame[c].tolist()}
    assert values == {str, type(None)}
    assert all(dtype == "object" for dtype in table.frame.dtypes)


def test_survey_response_without_its_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Qualtrics response saved without its ResponseId (a preview): its answer is a survey
    row with no id of its own, never the text 'nan'."""
    src = VENDOR / "qualtrics.responses" / "qualtrics_responses.csv"

    def fix(rows: list[list[str]]) -> list[list[str]]:
        rows[3][rows[0].index("ResponseId")] = ""  # below the header, labels and ImportIds
        return rows

    path = tmp_path / "qualtrics.csv"
    _rewrite(src, path, fix)
    surveys = _same_both_ways(path, monkeypatch).records["surveys"]
    ids = surveys.sort_values("source_row")["external_id"].tolist()
    assert pd.isna(ids[0]) and all(isinstance(i, str) and "nan" not in i for i in ids[1:])


@pytest.mark.parametrize("defect", ["missing", "repeated"])
def test_record_keys_missing_or_repeated(
    defect: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Salesforce's Id makes the ids while every row has its own; one left empty or one
    repeated (two exports appended) and every id comes from the row's content instead."""
    real = REAL / "salesforce_contacts.csv"
    whole = _same_both_ways(real, monkeypatch)
    ids = whole.records["contacts"]["record_id"]
    assert ids.str.fullmatch(r"salesforce_contacts:003\w{15}").all() and ids.is_unique

    def fix(rows: list[list[str]]) -> list[list[str]]:
        at = rows[0].index("Id")
        rows[5][at] = "" if defect == "missing" else rows[4][at]
        return rows

    path = tmp_path / "salesforce_contacts.csv"
    _rewrite(real, path, fix, encoding="cp1252", quoting=csv.QUOTE_ALL)
    ids = _same_both_ways(path, monkeypatch).records["contacts"]["record_id"]
    assert ids.str.fullmatch(r"salesforce_contacts:h[0-9a-f]{12}").all() and ids.is_unique
