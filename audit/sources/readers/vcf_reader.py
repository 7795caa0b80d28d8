"""vCard 2.1 / 3.0 / 4.0 address books (phones, Outlook, Google, Apple, Naver).

A tolerant line parser instead of vobject: vCard 2.1 from Outlook and feature phones uses
quoted-printable soft line breaks and per-property CHARSET parameters that vobject drops.
"""

from __future__ import annotations

import json
import quopri
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from audit.errors import InputError
from audit.sources.decoding import canonical_codec, decode
from audit.sources.readers import RawTable, ReaderOptions, Rejected, reader

_PROP = re.compile(r"^(?:[A-Za-z0-9\-]+\.)?([A-Za-z0-9\-]+)((?:;[^:]*)?):(.*)$", re.DOTALL)
COLUMNS = [
    "external_id",
    "full_name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "mobile",
    "company",
    "job_title",
    "address",
    "city",
    "region",
    "postal_code",
    "country",
    "extra_vcard",
]


def _unfold(text: str) -> list[str]:
    lines: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line[:1] in (" ", "\t") and lines:
            lines[-1] += line[1:]
        elif lines and lines[-1].endswith("=") and "QUOTED-PRINTABLE" in lines[-1].upper():
            lines[-1] = lines[-1][:-1] + line  # QP soft line break
        else:
            lines.append(line)
    return lines


def _value(params: str, value: str) -> str:
    p = params.upper()
    if "QUOTED-PRINTABLE" in p:
        m = re.search(r"CHARSET=([A-Za-z0-9_\-]+)", params, re.IGNORECASE)
        codec = canonical_codec(m.group(1)) if m else "utf-8"
        raw = quopri.decodestring(value.encode("latin-1", errors="replace"))
        try:
            return raw.decode(codec, errors="replace")
        except LookupError:
            return raw.decode("utf-8", errors="replace")
    return value.replace("\\,", ",").replace("\\;", ";").replace("\\n", "\n").replace("\\N", "\n")


def _card(lines: list[str]) -> dict[str, str | None]:
    row: dict[str, str | None] = dict.fromkeys(COLUMNS)
    extra: dict[str, list[str]] = {}
    for line in lines:
        m = _PROP.match(line)
        if not m:
            continue
        name, params, value = m.group(1).upper(), m.group(2), m.group(3)
        if name in ("BEGIN", "END", "VERSION", "PHOTO", "LOGO", "SOUND", "KEY", "PRODID"):
            continue
        v = _value(params, value).strip()
        if not v:
            continue
        types = params.upper()
        if name == "FN":
            row["full_name"] = row["full_name"] or v
        elif name == "N":
            parts = ([*v.split(";"), "", ""])[:2]
            row["last_name"] = row["last_name"] or parts[0] or None
            row["first_name"] = row["first_name"] or parts[1] or None
        elif name == "EMAIL" and not row["email"]:
            row["email"] = v
        elif name == "TEL" and ("CELL" in types or "MOBILE" in types) and not row["mobile"]:
            row["mobile"] = v
        elif name == "TEL" and not row["phone"]:
            row["phone"] = v
        elif name == "ORG" and not row["company"]:
            row["company"] = v.split(";")[0] or None
        elif name == "TITLE" and not row["job_title"]:
            row["job_title"] = v
        elif name == "UID" and not row["external_id"]:
            row["external_id"] = v
        elif name == "ADR" and not row["address"]:
            parts = (v.split(";") + [""] * 7)[:7]
            row["address"] = " ".join(p for p in parts[:3] if p) or None
            row["city"], row["region"] = parts[3] or None, parts[4] or None
            row["postal_code"], row["country"] = parts[5] or None, parts[6] or None
        else:
            extra.setdefault(name, []).append(v)
    if extra:
        row["extra_vcard"] = json.dumps(
            {k: v[0] if len(v) == 1 else v for k, v in sorted(extra.items())},
            ensure_ascii=False,
            sort_keys=True,
        )
    if not row["full_name"] and (row["first_name"] or row["last_name"]):
        row["full_name"] = " ".join(x for x in (row["first_name"], row["last_name"]) if x)
    return row


@reader("vcf", suffixes=(".vcf", ".vcard"))
def read_vcf(path: Path, opts: ReaderOptions) -> Iterator[RawTable]:
    """One contact per BEGIN:VCARD ... END:VCARD block."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot be opened ({e.strerror}).") from None
    if not data.strip():
        yield RawTable(frame=pd.DataFrame(), reader="vcf", warnings=["file is empty"])
        return
    dec = decode(data, encoding=opts.encoding, file=str(path), where=opts.where)
    if "BEGIN:VCARD" not in dec.text.upper():
        raise InputError(f"{path}: has no BEGIN:VCARD line; it is not a vCard file.")
    rows: list[dict[str, str | None]] = []
    numbers: list[int] = []
    rejected: list[Rejected] = []
    current: list[str] | None = None
    start_line = n = 0
    for lineno, line in enumerate(_unfold(dec.text), start=1):
        upper = line.strip().upper()
        if upper == "BEGIN:VCARD":
            if current is not None:
                n += 1
                rejected.append(_truncated(n, start_line, current))
            current, start_line = [], lineno
        elif upper == "END:VCARD" and current is not None:
            n += 1
            rows.append(_card(current))
            numbers.append(n)
            current = None
        elif current is not None:
            current.append(line)
    if current is not None:
        n += 1
        rejected.append(_truncated(n, start_line, current))
    frame = pd.DataFrame(rows, columns=COLUMNS, dtype=object)
    yield RawTable(
        frame=frame,
        source_row=numbers,
        rejected=rejected,
        reader="vcf",
        encoding=dec.encoding,
        warnings=list(dec.warnings),
        entity="contacts",
        canonical=True,
    )


def _truncated(n: int, line: int, lines: list[str]) -> Rejected:
    """A card cut off before END:VCARD (a damaged or truncated export): a row issue, kept."""
    return Rejected(
        n, line, "source.row.truncated", "vCard without END:VCARD", "\n".join(lines)[:200]
    )
