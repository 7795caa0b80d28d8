"""The promise that reports are safe to open and share, checked over EVERY registered writer.

Each writer is fed a run whose every table carries hostile values (`<script>`, `=HYPERLINK(...)`,
tab/CR-led cells), emails and phones; its files must escape, neutralize and (when asked) redact
them. A writer whose files have a suffix no checker knows fails here until one is added.
"""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from audit.report import WRITERS, context_for, render
from audit.safe import neutralize, redact_text, unneutralize
from tests.factories import HOSTILE_FORMULA, HOSTILE_IMG, HOSTILE_NAME, hostile_run_result

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?[\d*][\d* ().\-/;,]*")
RAW_PII = [
    "kim.minsu@example.com",
    "hanako@example.jp",
    "lee@example.org",
    "1234-5678",
    "1111-2222",
    "2222-3333",
]


def formula_like(cell: str) -> bool:
    """A cell a spreadsheet would treat as a formula (the phone/number exception aside)."""
    stripped = cell.lstrip(" \n")
    return stripped.startswith(TRIGGERS) and not PLAIN_NUMBER.fullmatch(cell)


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend((k, v or "") for k, v in attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def check_html(path: Path) -> None:
    page = path.read_text(encoding="utf-8")
    parser = _Html()
    parser.feed(page)
    assert "script" not in parser.tags and "img" not in parser.tags and "iframe" not in parser.tags
    assert not [k for k, _ in parser.attrs if k.lower().startswith("on")]
    # no network: no attribute points outside the page, no CSS url()/@import
    assert not [v for _, v in parser.attrs if re.match(r"\s*(https?:)?//", v, re.I)]
    assert "url(" not in page and "@import" not in page
    assert "<link" not in page
    # the hostile values are still there, as text
    text = "".join(parser.text)
    assert HOSTILE_NAME in text


def csv_cells(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


def check_csv(path: Path) -> None:
    bad = [c for c in csv_cells(path) if formula_like(c)]
    assert not bad, f"{path.name}: formula-like cells {bad[:3]}"


def xlsx_cells(path: Path) -> list[object]:
    from openpyxl import load_workbook

    wb = load_workbook(path)
    out: list[object] = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate} is a formula"
                out.append(cell.value)
    return out


def check_xlsx(path: Path) -> None:
    bad = [c for c in xlsx_cells(path) if isinstance(c, str) and formula_like(c)]
    assert not bad, f"formula-like cells {bad[:3]}"


def check_md(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert "<script" not in text and "<img" not in text
    assert re.search(r"(?<!\\)\]\(", text) is None  # no live Markdown link from the data
    assert "&lt;script&gt;" in text


def check_json(path: Path) -> None:
    raw = path.read_text(encoding="utf-8")
    assert "<" not in raw and ">" not in raw  # inert even if served as HTML
    data = json.loads(raw)
    assert HOSTILE_NAME in json.dumps(data, ensure_ascii=False)


CHECKERS = {
    ".html": check_html,
    ".csv": check_csv,
    ".xlsx": check_xlsx,
    ".md": check_md,
    ".json": check_json,
    ".parquet": lambda p: None,  # typed data for crm-audit itself, never opened by a spreadsheet
}


@pytest.mark.parametrize("name", WRITERS.names())
def test_every_writer_escapes_and_neutralizes_hostile_values(name: str, tmp_path: Path) -> None:
    ctx = context_for(hostile_run_result(), redact=False)
    paths = render(ctx, tmp_path, [name], core=False)
    assert paths, f"writer {name} wrote nothing"
    for p in paths:
        assert p.suffix in CHECKERS, f"no safety checker for {p.suffix} files (writer {name})"
        CHECKERS[p.suffix](p)


def _all_text(path: Path) -> str:
    if path.suffix == ".xlsx":
        return "\n".join(str(v) for v in xlsx_cells(path) if v is not None)
    if path.suffix == ".parquet":
        return pd.read_parquet(path).to_csv(index=False)
    if path.suffix == ".json":
        return json.dumps(json.loads(path.read_text(encoding="utf-8")), ensure_ascii=False)
    return path.read_text(encoding="utf-8-sig")


@pytest.mark.parametrize("name", WRITERS.names())
def test_redaction_masks_emails_and_phones_in_every_writer(name: str, tmp_path: Path) -> None:
    ctx = context_for(hostile_run_result(), redact=True)
    paths = render(ctx, tmp_path, [name], core=False)
    for p in paths:
        text = _all_text(p)
        leaked = [s for s in RAW_PII if s in text]
        assert not leaked, f"{p.relative_to(tmp_path)} leaks {leaked}"


def test_redacted_values_keep_their_shape(tmp_path: Path) -> None:
    ctx = context_for(hostile_run_result(), redact=True)
    render(ctx, tmp_path, [], core=True)
    records = pd.read_csv(tmp_path / "records/contacts.csv", dtype=str, encoding="utf-8-sig")
    assert records["email"].iloc[0] == "k***@example.com"
    assert records["phone"].iloc[0] == "+82 10-****-5678"
    assert "010-****-3333" in records["extra"].iloc[0]
    assert "l***@example.org" in records["extra"].iloc[0]
    run = json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))
    assert run["redacted"] is True
    # ids survive redaction, so the files still join
    assert records["record_id"].tolist() == ["t:1", "t:2", "t:3", "t:4"]
    bounces = pd.read_csv(tmp_path / "bounces.csv", dtype=str, encoding="utf-8-sig")
    assert bounces["recipient"].tolist() == ["k***@example.com"]


def test_phone_numbers_survive_neutralization_unchanged(tmp_path: Path) -> None:
    ctx = context_for(hostile_run_result(), redact=False)
    render(ctx, tmp_path, ["xlsx"], core=True)
    cells = csv_cells(tmp_path / "records/contacts.csv")
    assert "+82 10-1234-5678" in cells and "+81 90-1111-2222" in cells
    assert "'" + HOSTILE_FORMULA in cells  # the formula is quoted, nothing else changed
    assert "+82 10-1234-5678" in xlsx_cells(tmp_path / "report.xlsx")


def test_html_has_a_content_security_policy_that_forbids_scripts(tmp_path: Path) -> None:
    ctx = context_for(hostile_run_result(), redact=False)
    (path,) = render(ctx, tmp_path, ["html"], core=False)
    page = path.read_text(encoding="utf-8")
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert "&lt;img src=x onerror=" in page
    assert HOSTILE_IMG not in page


@given(st.text(max_size=40))
def test_neutralize_is_safe_and_reversible(value: str) -> None:
    cell = neutralize(value)
    assert not formula_like(cell)
    assert unneutralize(cell) == value
    assert cell == value or cell == "'" + value  # a leading quote is the only change


@pytest.mark.parametrize(
    "value",
    [
        "+82 10-1234-5678",
        "010-1234-5678",
        "-42",
        "-3.5",
        "+1 (555) 123-4567",
        "2026-01-31",
        "+81 80-7848-9713; 080-7848-9713",
    ],
)
def test_plain_numbers_and_phones_are_left_alone(value: str) -> None:
    assert neutralize(value) == value


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("mail kim@example.com now", "mail k***@example.com now"),
        ("+82 10-1234-5678", "+82 10-****-5678"),
        ("call 010-1234-5678", "call 010-****-5678"),
        ("on 2026-01-31 at 09:05, order 12345", "on 2026-01-31 at 09:05, order 12345"),
        ("０９０－１２３４－５６７８", "０９０－****－５６７８"),
    ],
)
def test_redact_text(text: str, masked: str) -> None:
    assert redact_text(text) == masked


def test_email_keyed_ids_are_masked_consistently_and_stay_unique(tmp_path: Path) -> None:
    from tests.factories import make_contacts, make_run_result

    contacts = make_contacts(
        email=["kim@example.com", "kang@example.com"], phone=["kim@example.com", None]
    )
    contacts["record_id"] = ["inbox:kim@example.com", "inbox:kang@example.com"]
    issues = pd.DataFrame(
        {
            "record_id": ["inbox:kim@example.com"],
            "rule_id": ["contacts.email.bounced"],
            "message": ["'kim@example.com' hard-bounced"],
        }
    )
    pairs = pd.DataFrame(
        {
            "record_id_l": ["inbox:kang@example.com"],
            "record_id_r": ["inbox:kim@example.com"],
            "score": [0.7],
            "band": ["review"],
        }
    )
    clusters = pd.DataFrame(
        {
            "cluster_id": ["c1", "c1"],
            "record_id": ["inbox:kang@example.com", "inbox:kim@example.com"],
        }
    )
    result = make_run_result({"contacts": contacts}, issues=issues, pairs=pairs, clusters=clusters)
    render(context_for(result, redact=True), tmp_path, ["xlsx", "html"], core=True)
    for p in tmp_path.rglob("*"):
        if p.is_file():
            assert "kim@example.com" not in _all_text(p), p.name
    rec = pd.read_parquet(tmp_path / "records/contacts.parquet")
    ids = rec["record_id"].tolist()
    assert len(set(ids)) == 2 and all(i.startswith("inbox:k***@example.com~") for i in ids)
    # rows are sorted by the original id: kang, then kim (whose phone column holds an email)
    assert rec["phone"].tolist()[1] == "k***@example.com"
    iss = pd.read_csv(tmp_path / "issues.csv", encoding="utf-8-sig")
    dup = pd.read_csv(tmp_path / "duplicates.csv", encoding="utf-8-sig")
    clu = pd.read_csv(tmp_path / "clusters.csv", encoding="utf-8-sig")
    kim = ids[1]
    assert iss["record_id"].tolist() == [kim]
    assert dup["record_id_r"].tolist() == [kim]
    assert set(clu["record_id"]) == set(ids)


@given(st.emails())
def test_any_email_in_free_text_is_masked(email: str) -> None:
    local, _, domain = email.partition("@")
    out = redact_text(f"contact {email} today")
    if len(local) > 1 and "." in domain:
        assert email not in out
        assert f"***@{domain}" in out


def test_redact_frame_finds_phones_in_arrow_and_object_columns() -> None:
    from audit.safe import redact_frame

    frame = pd.DataFrame(
        {
            "note": pd.Series(
                ["call ０９０－１２３４－５６７８", "order 12345", None], dtype="str"
            ),
            "misc": pd.Series(["010 1234 5678", 5, "kim@example.com"], dtype="object"),
        }
    )
    out = redact_frame(frame)
    assert out["note"].tolist()[:2] == ["call ０９０－****－５６７８", "order 12345"]
    assert out["misc"].tolist() == ["010 **** 5678", 5, "k***@example.com"]
    assert str(out["note"].dtype) == str(frame["note"].dtype)


def test_categorical_columns_are_redacted_and_neutralized_per_value() -> None:
    """A categorical column (the per-record scores' owners and sources) is masked and
    neutralized like a text column: each distinct value once, two values that mask alike become
    one category, a missing cell stays missing."""
    from audit.safe import neutralize_frame, redact_frame

    for dtype in ("str", object):
        cats = pd.Index(["kim@x.kr", "kate@x.kr", "Ann", "=1+2", "+82 10-1234-5678"], dtype=dtype)
        col = pd.Series(pd.Categorical.from_codes([0, 1, 2, -1, 4, 0, 3], categories=cats))
        frame = pd.DataFrame({"owner": col, "api_token": col})
        red = redact_frame(frame)
        assert isinstance(red["owner"].dtype, pd.CategoricalDtype)
        assert red["owner"].cat.categories.dtype == cats.dtype
        assert red["owner"].astype(object).where(red["owner"].notna(), None).tolist() == [
            "k***@x.kr",
            "k***@x.kr",
            "Ann",
            None,
            "+82 10-****-5678",
            "k***@x.kr",
            "=1+2",
        ]
        assert set(red["api_token"].dropna()) == {"[redacted]"}
        assert red["api_token"].isna().tolist() == col.isna().tolist()
        safe = neutralize_frame(frame)["owner"]
        assert safe.tolist()[-1] == "'=1+2" and safe.tolist()[4] == "+82 10-1234-5678"
