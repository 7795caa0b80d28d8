"""Free text and person names.

Names arrive SHOUTED from old systems, lower-cased from web forms, or full-width from Japanese
spreadsheets. Latin names get a gentle case fix that respects McDonald, MacLeod and O'Brien;
names holding Han, Hangul or Kana are left in their family-name-first order and never split.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from audit.columnwise import broadcast, map_unique
from audit.text import fold

_ASCII_CLEAN = r"^[!-~](?:[ -~]*[!-~])?$"
_PARTICLES = {
    "van",
    "von",
    "der",
    "den",
    "de",
    "del",
    "della",
    "di",
    "da",
    "dos",
    "das",
    "du",
    "la",
    "le",
    "bin",
    "al",
}
# Surnames that start with Mac but are not Mac+Name.
_MAC_EXCEPTIONS = {
    "mack",
    "macy",
    "mace",
    "macey",
    "machado",
    "macias",
    "maciel",
    "macedo",
    "machin",
    "machida",
    "macon",
    "mackie",
    "machen",
}
_CJK = re.compile(
    "[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]"
)
_KANA = re.compile("[\u3040-\u30ff]")


def has_cjk(value: str) -> bool:
    """Same ranges as audit.text.has_cjk, as one compiled regex (this runs per distinct name)."""
    return _CJK.search(value) is not None


_SPLIT = re.compile(r"[\s,]+")
_TOKEN = re.compile(r"([\s\-'’]+)")


def clean_text(value: object) -> str | None:
    """NFKC fold, invisible characters out, whitespace collapsed; None for empty."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    s = fold(str(value))
    return s or None


def clean_text_column(series: pd.Series) -> pd.Series:
    """clean_text over a column, skipping the Python call for already-clean ASCII values."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    if len(uniques) == 0:
        return pd.Series(pd.array([None] * len(series), dtype="str"), index=series.index)
    u = pd.Series(pd.array(uniques, dtype="str"))
    clean = u.str.fullmatch(_ASCII_CLEAN).fillna(False) & ~u.str.contains("  ", regex=False)
    dirty = ~clean.to_numpy(dtype=bool)
    if not dirty.any() and series.dtype == "str":  # nothing to clean: the column as it is
        return pd.Series(series.array, index=series.index)
    out = u.copy()
    if dirty.any():
        out[dirty] = [clean_text(v) for v in u[dirty]]
    return pd.Series(out.array.take(codes, allow_fill=True), index=series.index)


def _case_word(w: str) -> str:
    low = w.lower()
    if low.startswith("mc") and len(low) > 2:
        return "Mc" + low[2:].capitalize()
    if low.startswith("mac") and len(low) > 5 and low not in _MAC_EXCEPTIONS:
        return "Mac" + low[3:].capitalize()
    return low.capitalize()


def name_case(value: str | None) -> str | None:
    """Fix the case of a Latin name typed all upper or all lower; leave mixed case alone.

    Mixed case is kept because a person who typed 'DeShawn' or 'van Gogh' meant it.
    """
    if value is None:
        return None
    s = clean_text(value)
    if s is None or has_cjk(s):
        return s
    letters = [c for c in s if c.isalpha()]
    if not letters or not (s == s.upper() or s == s.lower()):
        return s
    parts = _TOKEN.split(s)
    out = []
    for i, p in enumerate(parts):
        if i % 2:  # separator
            out.append(p)
        elif p.lower() in _PARTICLES and i > 0:
            out.append(p.lower())
        else:
            out.append(_case_word(p))
    return "".join(out)


_NON_ALNUM = re.compile(r"[\W_]+")


def name_key(value: str | None) -> str | None:
    """Order-insensitive key for Latin names, space-free key for CJK names."""
    if value is None:
        return None
    s = value.casefold() if value.isascii() else fold(value).casefold()
    if has_cjk(s):
        return _NON_ALNUM.sub("", s) or None
    tokens = sorted(t for t in (_NON_ALNUM.sub("", t) for t in _SPLIT.split(s)) if t)
    return " ".join(tokens) or None


def split_latin(full: str) -> tuple[str | None, str | None]:
    """'John Smith' -> (John, Smith); 'Smith, John' -> (John, Smith); one word -> (None, None)."""
    if has_cjk(full):
        return None, None
    if "," in full:
        last, _, first = full.partition(",")
        return (first.strip() or None), (last.strip() or None)
    words = full.split()
    if len(words) < 2:
        return None, None
    return " ".join(words[:-1]), words[-1]


def join_name(first: str | None, last: str | None) -> str | None:
    """Display name from parts: Latin 'First Last'; CJK family name first."""
    parts = [p for p in (first, last) if p]
    if not parts:
        return None
    if any(has_cjk(p) for p in parts):
        ordered = [p for p in (last, first) if p]
        sep = " " if any(_KANA.search(p) for p in ordered) else ""
        return sep.join(ordered)
    return " ".join(parts)


def name_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Case-fix first/last/full name, fill the missing side, set name_key.

    A missing full name is built from the parts (family name first for CJK). A full name is
    split into parts only when it is Latin: a Western parser would cut 김민수 or 山田太郎 wrong.
    """
    out = frame
    for col in ("first_name", "last_name", "full_name"):
        if col in out.columns:
            out[col] = map_unique(out[col], name_case)
    if not {"first_name", "last_name", "full_name"} <= set(out.columns):
        return out
    first, last, full = out["first_name"], out["last_name"], out["full_name"]
    need_full = (full.isna() & (first.notna() | last.notna())).to_numpy(bool)
    basis = full
    if need_full.any():
        # one join per distinct (first, last) pair, gathered back with integer codes
        fc, fu = pd.factorize(first, use_na_sentinel=True)
        lc, lu = pd.factorize(last, use_na_sentinel=True)
        pair = (fc.astype(np.int64) + 1) * (len(lu) + 1) + (lc + 1)
        combos, inverse = np.unique(pair[need_full], return_inverse=True)
        firsts = np.asarray([None, *(str(v) for v in fu)], dtype=object)
        lasts = np.asarray([None, *(str(v) for v in lu)], dtype=object)
        joined_u = [
            join_name(f, la)
            for f, la in zip(
                firsts[combos // (len(lu) + 1)], lasts[combos % (len(lu) + 1)], strict=True
            )
        ]
        codes = np.full(len(out), -1, dtype=np.int64)
        codes[need_full] = inverse
        made = broadcast(codes, joined_u, out.index)
        out["full_name"] = full.where(~need_full, made)
        basis = out["full_name"]
    need_parts = (full.notna() & first.isna() & last.isna()).to_numpy(bool)
    if need_parts.any():
        pc, pu = pd.factorize(out["full_name"].where(need_parts), use_na_sentinel=True)
        split_u = [split_latin(str(v)) for v in pu]
        out["first_name"] = first.where(
            ~need_parts, broadcast(pc, [x[0] for x in split_u], out.index)
        )
        out["last_name"] = last.where(
            ~need_parts, broadcast(pc, [x[1] for x in split_u], out.index)
        )
    out["name_key"] = map_unique(basis, name_key)
    out["name_latn"] = _name_latn(out)
    return out


def _name_latn(frame: pd.DataFrame) -> pd.Series:
    """Romanized readings of CJK names (audit/romanize.py), from the parts when both
    are there, else from the full name; per distinct name, and only for names holding CJK."""
    from audit.romanize import name_latn, split_native

    parts = frame["last_name"].fillna("") + "\x1f" + frame["first_name"].fillna("")
    whole = frame["full_name"].fillna("")
    use_parts = frame["last_name"].notna() & frame["first_name"].notna()
    basis = parts.where(use_parts, "\x1e" + whole)
    cjk = basis.str.contains(_CJK.pattern, regex=True)
    if not cjk.any():
        return pd.Series(None, index=frame.index, dtype="str")

    def one(value: str) -> str | None:
        if value.startswith("\x1e"):
            family, given = split_native(value[1:])
        else:
            family, _, given = value.partition("\x1f")
        return name_latn(given or None, family or None)

    return map_unique(basis.where(cjk), one)
