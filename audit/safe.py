"""What makes a report safe to open and share; every writer goes through here.

A shared foundation, not part of the report stage: the merge review, reading a run folder back
(sources, merge) and the change list use the same rules, so they all import it from here.

Three separate concerns, applied in this order:

1. **Redaction** (`output.redact`): emails become `k***@example.com` and phone numbers
   `+82 10-****-5678` (the last four digits, and the leading ones of long numbers, stay
   readable so a person can still tell two records apart). It is applied once, to the data
   every writer receives, so no writer can forget it. Columns known to hold emails or phones
   are masked whatever their content; every other text cell is scanned for email addresses
   and phone-looking numbers. In id columns (`record_id`, `*_id`, `*_ids`) an email or phone
   becomes its masked form plus a short digest (`inbox:k***@example.com~1a2b3c4d`), so ids
   stay unique and the files of a run folder still join after redaction.
2. **Formula neutralization** for CSV and XLSX (OWASP "CSV injection"): a text cell whose first
   non-blank character is `=`, `+`, `-`, `@`, tab or CR gets a leading single quote, which
   spreadsheets show as text. The one exception is a cell made only of digits, spaces and
   `( ) . - / * ; ,` after an optional leading `+` or `-` (a phone number such as
   `+82 10-1234-5678`, a masked one such as `+82 10-****-5678`, a list of phones, or a
   negative number): with no letter in it, such a
   cell cannot name a function, a cell or a DDE target, so it is left byte-for-byte as it is
   and phone numbers in the data stay intact (at worst a spreadsheet shows it as a number).
   A cell that already starts with a quote followed by one of those characters gets a second
   quote, so `unneutralize` restores every value exactly when a run folder is read back.
3. **Escaping** for HTML (jinja2 autoescape plus `escape` for SVG text built in Python) and
   Markdown (`md_escape`), and for JSON (`<`, `>` and `&` written as `\\u003c`... so the file
   stays inert even if something serves it as HTML).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from markupsafe import Markup, escape

__all__ = [
    "EMAIL_COLUMNS",
    "PHONE_COLUMNS",
    "Markup",
    "dumps_json",
    "escape",
    "mask_email",
    "mask_phone",
    "md_escape",
    "neutralize",
    "neutralize_frame",
    "redact_cell",
    "redact_frame",
    "redact_id",
    "redact_obj",
    "redact_text",
    "unneutralize",
    "unneutralize_frame",
]

# columns whose whole value is an email address or a phone number, in any entity or table
EMAIL_COLUMNS = frozenset(
    {
        "email",
        "email_key",
        "contact_email",
        "customer_email",
        "requester_email",
        "respondent_email",
        "address",  # email_events.address
        "recipient",
        "email_l",
        "email_r",
        "email_key_l",
        "email_key_r",
    }
)
PHONE_COLUMNS = frozenset(
    {
        "phone",
        "mobile",
        "phone_e164",
        "phone_l",
        "phone_r",
        "mobile_l",
        "mobile_r",
        "phone_e164_l",
        "phone_e164_r",
        "alternate_phones",
    }
)
# columns whose value is a list of emails or phones ('a@x.kr; b@y.jp'): each one is masked
EMAIL_COLUMNS = EMAIL_COLUMNS | {"alternate_emails"}
_LIST_SEP = re.compile(r"\s*[;,\n]\s*")
_STRUCTURAL = frozenset({"record_id", "record_id_l", "record_id_r", "cluster_id", "run_id"})

# local part: RFC 5322 atext and dots; it does not start with a quote or dot, so an address
# quoted in a message ('kim@example.com') is matched without the quote
_LOCAL_FIRST = r"[\w!#$%&*+/=?^`{|}~\-]"
_EMAIL_RE = re.compile(
    rf"(?<![\w.!#$%&*+/=?^`{{|}}~\-])({_LOCAL_FIRST}[\w.!#$%&'*+/=?^`{{|}}~\-]*)"
    r"@([\w\-]+(?:\.[\w\-]+)+)"
)
_SEP = r"[\s().\-/\u2010-\u2015\u2212\uff0d\u30fc]"
# a phone in free text: +country form, or grouped digits (0xx-xxxx-xxxx, (555) 123-4567), or a
# 10-11 digit number starting with 0. Dates (2026-01-31) and times do not fit these shapes.
_PHONE_RE = re.compile(
    r"(?<![\w+])(?:"
    rf"[+\uff0b]\d(?:{_SEP}*\d){{6,14}}"
    rf"|\(?\d{{2,4}}\)?{_SEP}{{1,2}}\d{{3,4}}{_SEP}\d{{4}}"
    r"|0\d{9,10}"
    r")(?!\w)"
)
_DATE_LIKE = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}")
# identifiers in free text that are not phones: a national id or account number (nine or more
# digits, also in groups: SSN 078-05-1120, 주민등록번호 900101-1234567, マイナンバー 1234 5678 9012,
# card numbers), and API keys with a vendor's well-known prefix
_ID_NUMBER_RE = re.compile(
    r"(?<![\w+])(?:\d{3}-\d{2}-\d{4}|\d{6}-\d{7}|\d(?:[ \-]?\d){8,18})(?![\w])"
)
_API_KEY_RE = re.compile(
    r"\b(?:(?:sk|pk|rk)_(?:live|test)_\w+|tok_\w{8,}|gh[pousr]_\w{20,}|xox[abprs]-[\w-]+"
    r"|AKIA[0-9A-Z]{16}|AIza[\w-]{35})"
)
# a column (or a key inside `extra`) whose values are secrets or identifiers by its very name:
# the whole value is replaced, whatever it looks like
_SECRET_NAME = re.compile(
    r"pass(?:word|wd|code)?\b|\bpwd\b|secret|token|api[ _-]?key|apikey|private[ _-]?key"
    r"|\bssn\b|social[ _-]?security|national[ _-]?(?:id|number|insurance)|tax[ _-]?id"
    r"|\bnin\b|passport|card[ _-]?(?:number|no)|credit[ _-]?card|\bcvv\b|\bcvc\b|\biban\b"
    r"|주민(?:등록)?번호|여권|마이넘버|マイナンバー|個人番号|身份证|身分證",
    re.IGNORECASE,
)
SECRET_MASK = "[redacted]"


def mask_email(value: str) -> str:
    """`kim@example.com` -> `k***@example.com`; text without '@' keeps only its first char."""
    local, at, domain = value.partition("@")
    if not at:
        return (value[:1] + "***") if value else value
    return f"{local[:1]}***@{domain}"


def mask_phone(value: str) -> str:
    """Mask the middle digits, keeping the format, the last 4 digits and the leading ones."""
    digits = [i for i, ch in enumerate(value) if ch.isdigit()]
    n = len(digits)
    if n == 0:
        return value
    keep_tail = 4 if n > 4 else max(n - 2, 0)
    keep_head = min(4, max(0, n - 8))
    masked = set(digits[keep_head : n - keep_tail])
    return "".join("*" if i in masked else ch for i, ch in enumerate(value))


def redact_text(value: str) -> str:
    """Mask every email address, phone-looking number, id number and API key in free text."""
    out = _EMAIL_RE.sub(lambda m: mask_email(m.group(0)), value)
    out = _API_KEY_RE.sub(lambda m: m.group(0)[:3] + "***", out)
    out = _PHONE_RE.sub(
        lambda m: m.group(0) if _DATE_LIKE.match(m.group(0)) else mask_phone(m.group(0)), out
    )
    return _ID_NUMBER_RE.sub(
        lambda m: m.group(0) if _DATE_LIKE.match(m.group(0)) else mask_phone(m.group(0)), out
    )


def is_secret_name(name: str) -> bool:
    """Whether a column or key name says its values are secrets or personal identifiers."""
    return bool(_SECRET_NAME.search(name))


def _mask_list(value: str, mask: Any) -> str:
    parts = _LIST_SEP.split(value)
    if len(parts) == 1:
        return mask(value)
    seps = _LIST_SEP.findall(value)
    out = [mask(parts[0])]
    for sep, part in zip(seps, parts[1:], strict=True):
        out += [sep, mask(part) if part else part]
    return "".join(out)


def redact_id(value: str) -> str:
    """Mask emails and phones inside an id ('inbox:kim@example.com') so the id stays unique.

    Record ids are keyed on an email for some sources; masking them like free text would make
    two people's ids equal. The same id gets the same masked form in every file of the run, so
    issues.csv, records/ and clusters.csv still join.
    """
    out = _EMAIL_RE.sub(lambda m: _tagged_mask(m.group(0), mask_email), value)
    return _PHONE_RE.sub(
        lambda m: (
            m.group(0) if _DATE_LIKE.match(m.group(0)) else _tagged_mask(m.group(0), mask_phone)
        ),
        out,
    )


def _tagged_mask(text: str, mask: Any) -> str:
    digest = hashlib.sha256(text.casefold().encode("utf-8")).hexdigest()[:8]
    return f"{mask(text)}~{digest}"


def _is_id_column(name: str) -> bool:
    return name in _STRUCTURAL or name in ("id", "ids") or name.endswith(("_id", "_ids"))


def redact_cell(value: Any, column: str | None) -> Any:
    """One cell's redacted form, by what its column holds (email, phone, id, JSON, text)."""
    if not isinstance(value, str) or not value:
        return value
    name = (column or "").lower()
    if is_secret_name(name):
        return SECRET_MASK
    if name in EMAIL_COLUMNS:
        return _mask_list(value, lambda v: mask_email(v) if "@" in v else redact_text(v))
    if name in PHONE_COLUMNS:
        return _mask_list(value, lambda v: redact_text(v) if "@" in v else mask_phone(v))
    if _is_id_column(name):
        return redact_id(value)
    if name == "extra" and value.startswith("{"):
        try:
            data = json.loads(value)
        except ValueError:
            return redact_text(value)
        return json.dumps(redact_obj(data), ensure_ascii=False, sort_keys=True)
    return redact_text(value)


def _is_text(series: pd.Series) -> bool:
    return series.dtype == object or pd.api.types.is_string_dtype(series.dtype)


def _map_where(series: pd.Series, mask: pd.Series, fn: Any) -> pd.Series:
    """`fn` applied only to the cells under `mask` (most cells need nothing: keep it fast)."""
    if not mask.any():
        return series
    out = series.astype("object").copy()
    out[mask] = series[mask].map(fn)
    return out.astype(series.dtype) if series.dtype != object else out


def _text_mask(series: pd.Series, pattern: str) -> pd.Series:
    """Cells that may need work (a superset: the per-cell functions check again)."""
    text = series if isinstance(series.dtype, pd.StringDtype) else series.astype("str")
    return text.str.contains(pattern, regex=True, na=False).astype(bool)


# cells that may hold an email or a phone (7+ digits in one run): a superset of what the
# regexes above match, written for RE2 too (Arrow strings), whose \d is ASCII only
_DIGIT = "[0-9\uff10-\uff19\u0660-\u0669\u06f0-\u06f9]"
_SEP_ANY = "[ \t().\\-/\u2010-\u2015\u2212\uff0d\u30fc]"
_MAY_HOLD_PII = f"@|{_DIGIT}(?:{_SEP_ANY}*{_DIGIT}){{6,}}|sk_|pk_|rk_|tok_|gh[pousr]_|xox|AKIA|AIza"


def redact_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with emails, phones, ids and secrets masked in every text column (and header)."""
    out = frame.copy()
    for col in out.columns:
        name = str(col)
        if isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = _redact_categories(out[col], col)
        elif is_secret_name(name):
            out[col] = out[col].map(lambda v: v if v is None or v != v else SECRET_MASK)
        elif _is_text(out[col]):
            mask = _text_mask(out[col], _MAY_HOLD_PII)
            if name == "extra":  # a source's own columns: a key may name a secret
                mask = out[col].notna()
            out[col] = _map_where(out[col], mask, lambda v, n=name: redact_cell(v, n))
    out.columns = [redact_text(str(c)) if isinstance(c, str) else c for c in out.columns]
    return out


def _redact_categories(series: pd.Series, col: Any) -> pd.Series:
    """A categorical column redacted as its values would be as text, each distinct value once
    (the per-record scores hold the source and the owner this way). Two values that mask alike
    (`kim@x.kr`, `kate@x.kr`) become one category."""
    cats = series.cat.categories
    masked = redact_frame(pd.DataFrame({col: pd.Series(cats, dtype=cats.dtype)})).iloc[:, 0]
    new = pd.Index(masked.to_numpy(dtype=object), dtype=cats.dtype)
    if new.equals(cats):
        return series
    keep = new.unique()
    codes = series.cat.codes.to_numpy()
    at = np.append(keep.get_indexer(new), -1)  # a missing cell's code -1 stays missing
    return pd.Series(
        pd.Categorical.from_codes(at[codes], categories=keep, ordered=series.cat.ordered),
        index=series.index,
        name=series.name,
    )


def redact_obj(obj: Any, key: str | None = None) -> Any:
    """Redact JSON-able data (dicts, lists, strings, frames) recursively."""
    if isinstance(obj, pd.DataFrame):
        return redact_frame(obj)
    scalar = obj is not None and obj != "" and not isinstance(obj, (Mapping, list, tuple))
    if scalar and key is not None and is_secret_name(key):
        return SECRET_MASK
    if isinstance(obj, Mapping):
        return {_redact_key(k): redact_obj(v, str(k)) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(redact_obj(v, key) for v in obj)
    if isinstance(obj, str):
        return redact_cell(obj, key)
    return obj


def _redact_key(key: Any) -> Any:
    """A key of a JSON object (a source's column name in `extra`) can hold an email too."""
    return redact_text(key) if isinstance(key, str) else key


_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?[\d*][\d* ().\-/;,]*")


def _needs_quote(value: str) -> bool:
    stripped = value.lstrip(" \n")
    if stripped.startswith("'") and stripped[1:2] in ("=", "+", "-", "@", "\t", "\r", "'"):
        return True
    if not value.startswith(_TRIGGERS) and not stripped.startswith(_TRIGGERS):
        return False
    return not _PLAIN_NUMBER.fullmatch(value)


def neutralize(value: Any) -> Any:
    """A spreadsheet-safe cell: formula-like text gets a leading quote (see module doc)."""
    if isinstance(value, str) and value and _needs_quote(value):
        return "'" + value
    return value


def unneutralize(value: Any) -> Any:
    """Undo `neutralize` (for reading a run folder's CSV files back)."""
    if isinstance(value, str) and value.startswith("'") and _needs_quote(value[1:]):
        return value[1:]
    return value


_LEADS_LIKE_FORMULA = r"^[ \n]*[=+\-@\t\r']"


def neutralize_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """`neutralize` on every text cell and on the header. Only the columns that change are
    new; the others are shared with `frame` (copy-on-write), so a 1M-row table is not copied
    to find its few formula-like cells."""
    out = frame.copy(deep=False)
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if isinstance(col.dtype, pd.CategoricalDtype):  # each distinct value once
            cats = pd.Series(col.cat.categories)
            fixed_cats = _neutralized_column(cats) if _is_text(cats) else None
            if fixed_cats is not None:
                new = col.cat.rename_categories(pd.Index(fixed_cats, dtype=cats.dtype))
                out.isetitem(i, new)
        elif _is_text(col):
            fixed = _neutralized_column(col)
            if fixed is not None:
                out.isetitem(i, fixed)
    out.columns = [neutralize(str(c)) for c in out.columns]
    return out


def _neutralized_column(col: pd.Series) -> pd.Series | None:
    """The column with its formula-like text cells neutralized; None when none is. The cells
    that may need it are found in Arrow (C++); only those are looked at in Python."""
    import pyarrow as pa

    dtype = col.dtype
    arrow = isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"
    values = None if arrow else col.to_numpy(dtype=object)
    try:
        arr = (
            pa.array(col.array) if arrow else pa.array(values, pa.large_string(), from_pandas=True)
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not only text: look at each text cell
        assert values is not None
        hits = [i for i, v in enumerate(values) if isinstance(v, str) and _needs_quote(v)]
    else:
        if arrow:
            fixed = neutralize_arrow(arr)
            if fixed is arr:
                return None
            return pd.Series(pd.array(fixed, dtype=dtype), index=col.index, name=col.name)
        hits = _formula_like(arr).tolist()
    assert values is not None
    hits = [i for i in hits if isinstance(values[i], str) and _needs_quote(values[i])]
    if not hits:
        return None
    values = values.copy()
    for i in hits:
        values[i] = "'" + values[i]
    if isinstance(dtype, pd.StringDtype):
        return pd.Series(pd.array(values, dtype=dtype), index=col.index, name=col.name)
    return pd.Series(values, index=col.index, name=col.name, dtype=object)


def neutralize_arrow(arr: Any, text_at: np.ndarray | None = None) -> Any:
    """`neutralize` on the cells of an Arrow string array that may start a formula, found in
    Arrow (C++) so only those few reach Python; `arr` itself when none changes. `text_at`: the
    original cells of an object column, where only text is neutralized (as `neutralize_frame`
    does); nulls stay null."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(arr) == 0:
        return arr
    idx = _formula_like(arr)
    if not len(idx):
        return arr
    cells = arr.take(pa.array(idx)).to_pylist()
    fixed = [
        neutralize(c) if text_at is None or isinstance(text_at[i], str) else c
        for i, c in zip(idx, cells, strict=True)
    ]
    mask = np.zeros(len(arr), dtype=bool)
    mask[idx] = True
    return pc.replace_with_mask(arr, pa.array(mask), pa.array(fixed, type=arr.type))


# `_PLAIN_NUMBER` for Arrow (RE2), whole cell; RE2's \d is ASCII only, so a cell it matches
# is plain for `_needs_quote` too (cells with other digits are left to Python)
_PLAIN_NUMBER_RE2 = r"^[+-]?[\d*][\d* ().\-/;,]*$"


def _byte_set(chars: str) -> np.ndarray:
    table = np.zeros(256, dtype=bool)
    table[list(chars.encode("ascii"))] = True
    return table


# the first bytes a cell matching _LEADS_LIKE_FORMULA can have
_FORMULA_FIRST = _byte_set(" \n=+-@\t\r'")


def utf8_bytes(arr: Any) -> tuple[np.ndarray, np.ndarray]:
    """An Arrow string array's cells as (offsets, bytes): cell i is bytes[offsets[i] :
    offsets[i + 1]] (UTF-8; a null cell is empty). No copy of the text when it is one chunk.

    ASCII bytes never occur inside a multi-byte UTF-8 character, so a search for ASCII
    characters over the bytes finds exactly the cells that hold them."""
    import pyarrow as pa

    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.large_string())
    n = len(arr)
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int64)[arr.offset : arr.offset + n + 1]
    if bufs[2] is None or not n:
        return np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.uint8)
    return offsets, np.frombuffer(bufs[2], dtype=np.uint8)


def _formula_like(arr: Any) -> np.ndarray:
    """Positions of the cells of an Arrow string array that may start a formula, found in
    Arrow (C++), less the plain numbers (`+82 10-1234-5678`, `-12.5`), which `_needs_quote`
    passes: a phone column was a Python call per cell."""
    import pyarrow as pa
    import pyarrow.compute as pc

    # only cells whose first byte could begin a match are run through the regex: a look-up
    # of one byte per cell, where the regex over every cell of every written column was the
    # largest single cost of the run folder's CSVs
    offsets, data = utf8_bytes(arr)
    starts = offsets[:-1]
    filled = np.flatnonzero(offsets[1:] > starts)
    cand = filled[_FORMULA_FIRST[data[starts[filled]]]]
    if not len(cand):
        return np.empty(0, dtype=np.int64)
    maybe = pc.match_substring_regex(arr.take(pa.array(cand)), _LEADS_LIKE_FORMULA)
    idx = cand[pc.fill_null(maybe, False).to_numpy(zero_copy_only=False)]
    if not len(idx):
        return np.empty(0, dtype=np.int64)
    plain = pc.match_substring_regex(arr.take(pa.array(idx)), _PLAIN_NUMBER_RE2)
    return idx[~pc.fill_null(plain, False).to_numpy(zero_copy_only=False)]


def unneutralize_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if _is_text(out[col]):
            out[col] = _map_where(out[col], _text_mask(out[col], r"^'"), unneutralize)
    out.columns = [unneutralize(str(c)) for c in out.columns]
    return out


_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}#|!~])")


def md_escape(value: Any) -> str:
    """Text safe inside a Markdown table cell: no HTML, links, emphasis or line breaks."""
    text = "" if value is None else str(value)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return re.sub(r"[\r\n\t]+", " ", text)


def jsonable(obj: Any) -> Any:
    """Plain JSON data from frames, numpy scalars, timestamps and the like (NaN -> None)."""
    if obj is None or isinstance(obj, (bool, str, int)):
        return obj
    if isinstance(obj, float):
        return None if math.isnan(obj) or math.isinf(obj) else round(obj, 10)
    if isinstance(obj, pd.DataFrame):
        return [jsonable(r) for r in obj.to_dict("records")]
    if isinstance(obj, pd.Series):
        return jsonable(obj.to_dict())
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (set, frozenset)):
        return sorted(jsonable(v) for v in obj)
    if isinstance(obj, Iterable) and not isinstance(obj, (bytes, bytearray)):
        return [jsonable(v) for v in obj]
    if hasattr(obj, "isoformat"):
        if obj is pd.NaT:
            return None
        return obj.isoformat()
    if hasattr(obj, "item"):  # numpy scalar
        return jsonable(obj.item())
    if obj is pd.NA or obj is pd.NaT:
        return None
    try:
        if pd.isna(obj):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(obj, "__dataclass_fields__"):
        from dataclasses import asdict

        return jsonable(asdict(obj))
    return str(obj)


def dumps_json(data: Any) -> str:
    """Deterministic, HTML-inert JSON (sorted keys, `<>&` escaped inside strings)."""
    text = json.dumps(jsonable(data), ensure_ascii=False, indent=2, sort_keys=True, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") + "\n"
