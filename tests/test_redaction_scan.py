"""Issue #14: a redacted run folder holds no email, phone or secret of its input, in any file.

The input is the vendor exports in tests/fixtures/sources (HubSpot, Salesforce, Google, Outlook:
Korean, Japanese and US people, the same persons in several exports, so golden records carry
alternate phones of merged-away records) plus an export with what real exports carry and should
not: a Password column, an API token, a US SSN, a Korean resident registration number, a
Japanese My Number, card numbers, a nine-digit national number in a note and an email address
in a column header. Every file of the redacted run folder is scanned: CSV, HTML, Markdown,
JSON, the XML inside each xlsx, and every value and column name inside each Parquet file; and
so are a redacted copy made with `report --redact --out` and the merge output of a redacted run.
"""

# ruff: noqa: E501  (the careless export below is one CSV, written as its rows)
from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from audit import load_config
from audit.cli import cli
from audit.merge import apply_merge
from audit.pipeline import run
from tests.test_faults import FIXTURES

EXPORTS = [
    "hubspot.contacts/hubspot_contacts.csv",
    "salesforce.contacts/salesforce_contacts.csv",
    "google.contacts/google_contacts.csv",
    "outlook.contacts/outlook_contacts.csv",
]
# what a careless CRM export carries (values are well-formed test values, not real people's)
SECRETS_CSV = """\
Email,Name,Phone,Password,API Token,SSN,주민등록번호,マイナンバー,Card Number,Notes,owner.kim@acme-corp.com
lee.jiwoo@example.kr,Lee Jiwoo,010-9876-5432,hunter2-Secret!,tok_9fQx2LmZpA77,078-05-1120,900101-1234567,1234 5678 9012,4111 1111 1111 1111,call back re 123456789 today,x
park.s@example.kr,Park Seo,+82 2-312-3456,Tr0ub4dor&3,sk_live_51Habc0DEF,219-09-9999,850315-2345678,987654321098,5555555555554444,national no 987654321 on file,y
lee.jiwoo@example.kr,Lee Jiwoo,010-5555-7777,,,,,,,second phone of a merged person,z
"""
SECRET_VALUES = [
    "hunter2-Secret!",
    "Tr0ub4dor&3",
    "tok_9fQx2LmZpA77",
    "sk_live_51Habc0DEF",
    "078-05-1120",
    "219-09-9999",
    "900101-1234567",
    "850315-2345678",
    "1234 5678 9012",
    "987654321098",
    "4111 1111 1111 1111",
    "5555555555554444",
    "123456789",
    "987654321",
]
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE_HEADERS = ("phone", "mobile", "tel")


def _input_pii(paths: list[Path]) -> tuple[set[str], set[str]]:
    """(emails, phone digit strings) of the input files, as a user would list them."""
    emails: set[str] = set()
    phones: set[str] = set()
    for p in paths:
        text = p.read_text(encoding="utf-8-sig")
        emails |= {e.casefold() for e in _EMAIL.findall(text)}
        rows = list(csv.reader(io.StringIO(text)))
        for i, h in enumerate(rows[0]):
            if any(w in h.casefold() for w in PHONE_HEADERS):
                for r in rows[1:]:
                    if i < len(r):
                        import unicodedata

                        digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", r[i]))
                        if len(digits) >= 7:
                            phones.add(digits)
    return emails, phones


def _texts(folder: Path) -> dict[str, str]:
    """Every file of a folder as text: xlsx as its XML, parquet as its names and values."""
    out: dict[str, str] = {}
    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        rel = p.relative_to(folder).as_posix()
        if p.suffix == ".xlsx":
            with zipfile.ZipFile(p) as z:
                out[rel] = "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
        elif p.suffix == ".parquet":
            t = pq.read_table(p)
            # cells joined by "|", which no phone pattern spans: joined by spaces, a column of
            # row positions 0 1 2 ... 8 read as the phone 012345678
            cols = ["|".join(map(str, c.to_pylist())) for c in t.columns]
            meta = str(t.schema.metadata or {})
            out[rel] = "\n".join([*t.column_names, *cols, meta])
        else:
            out[rel] = p.read_bytes().decode("utf-8", "replace")
    return out


def _leaks(folder: Path, emails: set[str], phones: set[str]) -> list[str]:
    found = []
    for rel, text in _texts(folder).items():
        low = text.casefold()
        found += [f"{rel}: email {e}" for e in sorted(emails) if e in low]
        # a phone counts as leaked when its digits appear with at most separators between them
        for d in sorted(phones):
            tail = d[-9:]  # the national significant part, whatever the prefix form
            pattern = r"[\s\-().]{0,2}".join(tail)
            if re.search(rf"(?<!\d){pattern}(?!\d)", text):
                found.append(f"{rel}: phone {d}")
        for s in SECRET_VALUES:
            if re.search(rf"(?<![\w]){re.escape(s)}(?![\w])", text):
                found.append(f"{rel}: secret {s}")
    return found


@pytest.fixture(scope="module")
def redacted_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    tmp = tmp_path_factory.mktemp("redact")
    secrets = tmp / "careless_export.csv"
    secrets.write_text(SECRETS_CSV, encoding="utf-8")
    inputs = [FIXTURES / e for e in EXPORTS] + [secrets]
    lines = ["sources:"]
    for i, p in enumerate(inputs):
        lines.append(f"  - {{name: s{i}, path: '{p}', phone_region: KR}}")
    lines += [
        'as_of: "2026-01-31"',
        "rules: {gx: false}",
        "match: {apply_auto: true}",
        "output: {formats: [html, md, xlsx], redact: true}",
        "history: {enabled: false}",
    ]
    cfg = tmp / "cfg.yaml"
    cfg.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run(load_config(cfg), out=tmp / "runs")
    return result.run_dir, inputs


def test_input_has_what_we_look_for(redacted_run) -> None:
    _, inputs = redacted_run
    emails, phones = _input_pii(inputs)
    assert len(emails) >= 7 and len(phones) >= 7
    assert "owner.kim@acme-corp.com" in emails  # the one in a header


def test_no_email_phone_or_secret_in_any_file_of_a_redacted_run(redacted_run) -> None:
    run_dir, inputs = redacted_run
    emails, phones = _input_pii(inputs)
    assert (run_dir / "merge_review.html").is_file() and (run_dir / "report.xlsx").is_file()
    golden = (run_dir / "golden.csv").read_text(encoding="utf-8-sig")
    assert "010-****-7777" in golden  # the merged-away record's phone: there, and masked
    assert _leaks(run_dir, emails, phones) == []


def test_merge_output_of_a_redacted_run_leaks_nothing(redacted_run) -> None:
    run_dir, inputs = redacted_run
    res = apply_merge(run_dir, None)
    assert res.n_after < res.n_before
    emails, phones = _input_pii(inputs)
    assert _leaks(res.out_dir, emails, phones) == []


def test_redacted_copy_has_the_merge_review_and_leaks_nothing(
    tmp_path: Path, runner, redacted_run
) -> None:
    run_dir, inputs = redacted_run
    copy = tmp_path / "copy"
    res = runner.invoke(cli, ["report", str(run_dir), "--out", str(copy)])
    assert res.exit_code == 0, res.output
    for name in (
        "merge_review.html",
        "merge_proposals.xlsx",
        "merge_proposals.csv",
        "merge_proposals.parquet",
    ):
        assert (copy / name).is_file(), name
    emails, phones = _input_pii(inputs)
    assert _leaks(copy, emails, phones) == []


@pytest.mark.parametrize(
    ("column", "value", "gone", "kept"),
    [
        ("notes", "paid 2024-03-05 14:03:04, order 20260131", "", "2024-03-05 14:03:04"),
        ("notes", "SSN 078-05-1120 on file", "078-05-1120", "SSN"),
        ("notes", "card 4111 1111 1111 1111 exp 12/27", "4111 1111 1111", "exp 12/27"),
        ("notes", "key sk_live_51Habc0DEF used", "51Habc0DEF", "used"),
        ("Password", "hunter2", "hunter2", "[redacted]"),
        ("주민등록번호", "900101-1234567", "1234567", "[redacted]"),
        ("マイナンバー", "123456789012", "123456789012", "[redacted]"),
        ("alternate_phones", "010-5555-7777; +1 415 555 0100", "5555-7777", "; "),
        ("alternate_emails", "a.kim@x.kr; b.lee@y.jp", "a.kim", "@y.jp"),
    ],
)
def test_redact_cell_masks_ids_secrets_and_lists(column, value, gone, kept) -> None:
    from audit.safe import redact_cell

    out = redact_cell(value, column)
    assert kept in out
    if gone:
        assert gone not in out
