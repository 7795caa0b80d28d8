"""Records -> matching features: one folded text value (or None) per feature and record.

Every string function runs once per distinct value (names, cities and domains repeat a lot),
then is broadcast back with numpy indexing, so preparing 1M contacts costs seconds, not minutes.
CJK names are split into family and given name (family first, spaces optional); Latin names
given first, or 'Family, Given'; keys drop accents, case, punctuation and width differences.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from audit.match.xscript import features as xscript_features
from audit.text import fold

# Two-syllable Korean family names; any other Hangul name has a one-syllable family name.
_KO_FAMILY2 = {"남궁", "황보", "제갈", "선우", "독고", "사공", "서문", "동방", "어금", "망절"}
# Two-character Chinese family names (compound surnames).
_ZH_FAMILY2 = {
    "欧阳",
    "歐陽",
    "司马",
    "司馬",
    "上官",
    "诸葛",
    "諸葛",
    "东方",
    "東方",
    "皇甫",
    "尉迟",
}
_KANA = re.compile("[\u3040-\u30ff]")
_CJK = re.compile(
    "[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]"
)


def has_cjk(value: str) -> bool:
    return _CJK.search(value) is not None


_STREET = {
    "street": "st",
    "str": "st",
    "road": "rd",
    "avenue": "ave",
    "av": "ave",
    "drive": "dr",
    "place": "pl",
    "court": "ct",
    "crescent": "cres",
    "boulevard": "blvd",
    "lane": "ln",
    "terrace": "tce",
    "highway": "hwy",
    "parade": "pde",
    "circuit": "cct",
    "close": "cl",
    "square": "sq",
    "apartment": "apt",
    "suite": "ste",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
}


def _text(value: object) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    s = fold(str(value))
    return s or None


def split_full_name(full: str | None) -> tuple[str | None, str | None]:
    """(given, family) from a folded full name: CJK family-first, Latin given-first."""
    if not full:
        return None, None
    if has_cjk(full):
        parts = full.split()
        if len(parts) > 1:
            return "".join(parts[1:]), parts[0]
        s = parts[0]
        if len(s) < 2:
            return None, s
        n = 2 if (s[:2] in _KO_FAMILY2 or s[:2] in _ZH_FAMILY2) else 1
        if n == 1 and not _KANA.search(s) and len(s) >= 4 and not ("\uac00" <= s[0] <= "\ud7af"):
            n = 2  # four-kanji names are mostly Japanese: two-character family name
        return s[n:] or None, s[:n]
    parts = full.split()
    if len(parts) == 1:
        return parts[0], None
    return " ".join(parts[:-1]), parts[-1]


def _latin_comma(value: object) -> str | None:
    s = _text(value)
    if s and "," in s and not has_cjk(s):
        family, _, given = s.partition(",")
        s = f"{given.strip()} {family.strip()}"
    return s


def date_key(value: object) -> str | None:
    """YYYYMMDD from a datetime or the common text shapes; other text kept as its digits."""
    if isinstance(value, pd.Timestamp | np.datetime64):
        ts = pd.Timestamp(value)
        return None if pd.isna(ts) else ts.strftime("%Y%m%d")
    s = _text(value)
    if s is None:
        return None
    m = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2}).*", s)
    if m:
        return f"{m[1]}{int(m[2]):02d}{int(m[3]):02d}"
    m = re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})", s)
    if m:
        return f"{m[3]}{int(m[2]):02d}{int(m[1]):02d}"
    d = "".join(ch for ch in s if ch.isdigit())
    return d or None


def _null_empty(x: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(x, ""), pa.scalar(None, pa.string()), x)


def _non_ascii(x: pa.Array, fn: Callable[[pa.Array], pa.Array]) -> pa.Array:
    """fn applied to the non-ASCII values only (most CRM values are plain ASCII)."""
    mask = pc.invert(pc.fill_null(pc.string_is_ascii(x), True))
    if not pc.any(mask).as_py():
        return x
    return pc.replace_with_mask(x, mask, fn(pc.filter(x, mask)))


def _unicode_fold(x: pa.Array) -> pa.Array:
    x = pc.utf8_normalize(x, "NFKC")
    x = pc.replace_substring_regex(pc.utf8_normalize(x, "NFKD"), "[\u0300-\u036f]", "")
    return pc.utf8_normalize(x, "NFC")


def _pa_fold(x: pa.Array) -> pa.Array:
    """NFKC, lower case, Latin accents dropped (Hangul and kana marks kept)."""
    return pc.utf8_lower(_non_ascii(x, _unicode_fold))


def pa_name_key(x: pa.Array) -> pa.Array:
    x = pc.replace_substring_regex(_pa_fold(x), r"[^\p{L}\p{N}]+", " ")
    return _null_empty(pc.utf8_trim_whitespace(x))


def pa_address_key(x: pa.Array) -> pa.Array:
    """Name-keyed address with street words abbreviated token by token (Street -> st)."""
    x = pa_name_key(x)
    tokens = pc.split_pattern(x, " ")
    flat = pc.list_flatten(tokens)
    idx = pc.index_in(flat, value_set=pa.array(list(_STREET), pa.string()))
    short = pc.take(pa.array(list(_STREET.values()), pa.string()), idx)
    flat = pc.if_else(pc.is_null(idx), flat, short)
    if isinstance(tokens, pa.ChunkedArray):
        tokens = tokens.combine_chunks()
    if isinstance(flat, pa.ChunkedArray):
        flat = flat.combine_chunks()
    rebuilt = pa.ListArray.from_arrays(tokens.offsets, flat, mask=tokens.is_null())
    return pc.binary_join(rebuilt, " ")


def pa_digits(x: pa.Array) -> pa.Array:
    x = _non_ascii(x, lambda v: pc.utf8_normalize(v, "NFKC"))
    return _null_empty(pc.replace_substring_regex(x, "[^0-9]", ""))


def pa_ident(x: pa.Array) -> pa.Array:
    return _null_empty(pc.replace_substring_regex(_pa_fold(x), r"[^\p{L}\p{N}]+", ""))


def pa_company_key(x: pa.Array) -> pa.Array:
    x = _non_ascii(x, lambda v: pc.utf8_normalize(v, "NFKC"))
    x = pc.replace_substring_regex(x, _LEGAL_CJK_RE2, " ")
    x = pc.replace_substring_regex(_pa_fold(x), r"[^\p{L}\p{N}]+", " ")
    x = pc.replace_substring_regex(x, _LEGAL_RE2, " ")
    return _null_empty(pc.replace_substring_regex(x, r"\s+", ""))


_LEGAL_CJK_RE2 = (
    r"株式会社|有限会社|合同会社|合資会社|合名会社|\(株\)|\(有\)|주식회사|유한회사|\(주\)|"
    r"股份有限公司|有限责任公司|有限責任公司|有限公司|集团|集團|公司"
)
_LEGAL_RE2 = (
    r"\b(inc|incorporated|llc|ltd|limited|co|corp|corporation|company|gmbh|ag|sa|sas|"
    r"bv|nv|plc|pty|pte|llp|lp|kk|the|group)\b"
)


_NULL = pa.scalar(None, pa.string())
_CJK_RE2 = "[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]"


def _col(frame: pd.DataFrame, name: str) -> pa.Array:
    """A column as an Arrow string array (nulls for missing), or all nulls when absent."""
    if name not in frame.columns:
        return pa.nulls(len(frame), pa.string())
    s = frame[name]
    try:
        arr = pa.array(s, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        vals = s.to_numpy(dtype=object, na_value=None)
        arr = pa.array([None if v is None else str(v) for v in vals], type=pa.string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr


def _apply(arr: pa.Array, fn: Callable[[pa.Array], pa.Array]) -> pa.Array:
    """fn over the distinct values only (dictionary encoding), then expanded back."""
    d = pc.dictionary_encode(arr)
    out = fn(d.dictionary)
    if isinstance(out, pa.ChunkedArray):
        out = out.combine_chunks()
    return pc.take(out, d.indices)


def _apply_py(arr: pa.Array, fn: Callable[[object], object]) -> pa.Array:
    return _apply(arr, lambda u: pa.array([fn(v) for v in u.to_pylist()], type=pa.string()))


def _split(arr: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(given, family) arrays from full names, on the distinct values.

    Latin names are split in Arrow (last token is the family name); only names holding CJK
    characters go through `split_full_name`.
    """
    d = pc.dictionary_encode(arr)
    u = d.dictionary
    latin = pc.extract_regex(u, r"^(?P<g>.+) (?P<f>[^ ]+)$")
    g = pc.struct_field(latin, [0])
    f = pc.struct_field(latin, [1])
    single = pc.invert(pc.match_substring(u, " "))
    g = pc.if_else(single, u, g)
    cjk = pc.fill_null(pc.match_substring_regex(u, _CJK_RE2), False)
    if pc.any(cjk).as_py():
        sub = pc.filter(u, cjk).to_pylist()
        parts = [split_full_name(v) for v in sub]
        g = pc.replace_with_mask(g, cjk, pa.array([p[0] for p in parts], type=pa.string()))
        f = pc.replace_with_mask(f, cjk, pa.array([p[1] for p in parts], type=pa.string()))
    return pc.take(g, d.indices), pc.take(f, d.indices)


def _comma(arr: pa.Array) -> pa.Array:
    has = pc.fill_null(pc.match_substring(arr, ","), False)
    if not pc.any(has).as_py():
        return arr
    return pc.if_else(has, _apply_py(arr, _latin_comma), arr)


def features(frame: pd.DataFrame, flagged: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """Matching features of contact-shaped records (canonical columns; dob/ident optional).

    Uses the normalize stage's derived keys (email_key, phone_e164, company_key) when present
    and derives its own otherwise, so plain files can be matched without the whole pipeline.
    Everything runs in Arrow on distinct values; Python only splits full names.

    Values that are not values (Excel's 3.60E+11, 'test', 000-0000, none@none.com, and every
    cell an earlier stage `flagged` as a placeholder or unreadable: input column -> bool mask)
    become missing here, so no blocking key and no comparison ever sees them: two records that
    share a placeholder share nothing.
    """
    flagged = flagged or {}
    first = _apply(_comma(_clean(frame, "first_name", "text", flagged)), pa_name_key)
    last = _apply(_clean(frame, "last_name", "text", flagged), pa_name_key)
    full = _apply(_comma(_clean(frame, "full_name", "name", flagged)), pa_name_key)
    f_given, f_family = _split(full)
    # a one-word full name that is the record's own surname ('Soto' beside last_name Soto, as
    # a CRM composes full_name when the first name is missing) names no given name
    surname_only = pc.fill_null(pc.and_(pc.is_null(f_family), pc.equal(f_given, last)), False)
    f_given = pc.if_else(surname_only, _NULL, f_given)
    given = pc.coalesce(first, f_given)
    family = pc.coalesce(last, f_family)
    # a whole CJK name in first_name with last_name empty (佐藤花子): split it
    only = pc.and_(pc.is_null(family), pc.is_valid(given))
    only = pc.and_(only, pc.fill_null(pc.match_substring_regex(given, _CJK_RE2), False))
    if pc.any(only).as_py():
        sg, sf = _split(pc.if_else(only, given, _NULL))
        given = pc.if_else(only, sg, given)
        family = pc.if_else(only, sf, family)
    cjk = pc.fill_null(pc.match_substring_regex(given, _CJK_RE2), False)
    given = _null_empty(pc.if_else(cjk, pc.replace_substring(given, " ", ""), given))
    family = _null_empty(family)
    out: dict[str, pa.Array] = {"given": given, "family": family}
    out["family_initial"] = pc.utf8_slice_codeunits(family, 0, 1)
    out.update(xscript_features(given, family))
    g, f = pc.fill_null(given, ""), pc.fill_null(family, "")
    le = pc.less_equal(g, f)
    name = pc.binary_join_element_wise(pc.if_else(le, g, f), pc.if_else(le, f, g), "")
    out["name"] = _null_empty(pc.replace_substring(name, " ", ""))

    bad_email = _nonvalue(frame, "email", "email", flagged)
    raw_email = pc.if_else(bad_email, _NULL, _col(frame, "email"))
    email = pc.if_else(bad_email, _NULL, _col(frame, "email_key"))
    if "email" not in frame.columns:  # keys without the addresses they came from
        email = pc.if_else(_nonvalue_values(email, "email"), _NULL, email)
    gap = pc.and_(pc.is_null(email), pc.is_valid(raw_email))
    if pc.any(gap).as_py():
        fallback = _apply(pc.if_else(gap, raw_email, _NULL), pa_email_fallback)
        email = pc.coalesce(email, fallback)
    out["email"] = _null_empty(pc.utf8_trim_whitespace(email))
    at = pc.split_pattern(pc.fill_null(out["email"], ""), "@", max_splits=1, reverse=True)
    two = pc.equal(pc.list_value_length(at), 2)
    local = pc.list_element(pc.if_else(two, at, pa.scalar(["", ""], at.type)), 0)
    domain = pc.list_element(pc.if_else(two, at, pa.scalar(["", ""], at.type)), 1)
    out["email_local"] = _null_empty(local)
    out["email_domain"] = _null_empty(domain)
    e164 = _null_empty(pc.replace_substring(_col(frame, "phone_e164"), "+", ""))
    bad_phone = _nonvalue(frame, "phone", "phone", flagged)
    bad_mobile = _nonvalue(frame, "mobile", "phone", flagged)
    phone = pc.if_else(bad_phone, _NULL, _col(frame, "phone"))
    mobile = pc.if_else(bad_mobile, _NULL, _col(frame, "mobile"))
    # phone_e164 was read from the phone column, else from mobile: when the cell it came from
    # is not a value, the number is not evidence (3.60E+11 parses as 360000000000)
    e164 = pc.if_else(bad_phone, _apply(mobile, pa_digits), e164)
    e164 = pc.if_else(pc.and_(pc.is_null(_col(frame, "phone")), bad_mobile), _NULL, e164)
    if "phone" not in frame.columns and "mobile" not in frame.columns:
        e164 = pc.if_else(_nonvalue_values(e164, "phone"), _NULL, e164)
    raw_phone = pc.coalesce(phone, mobile)
    gap = pc.and_(pc.is_null(e164), pc.is_valid(raw_phone))
    # after normalize, a missing phone_e164 means "not a valid phone" (a spreadsheet's
    # 3.60E+11, a number of no country): its digits must not block or match
    if "phone_e164" not in frame.columns and pc.any(gap).as_py():
        e164 = pc.coalesce(e164, _apply(pc.if_else(gap, raw_phone, _NULL), pa_digits))
    out["phone"] = e164
    out["phone_tail"] = _tail7(out["phone"])
    bad_company = _nonvalue(frame, "company", "text", flagged)
    company = pc.coalesce(_col(frame, "company_key"), _col(frame, "company"))
    out["company"] = _apply(pc.if_else(bad_company, _NULL, company), pa_company_key)
    out["address"] = _apply(_clean(frame, "address", "text", flagged), pa_address_key)
    out["street_number"] = _apply(_col(frame, "street_number"), pa_ident)
    out["postcode"] = _apply(_col(frame, "postal_code"), pa_ident)
    out["city"] = _apply(_col(frame, "city"), pa_name_key)
    out["region"] = _apply(_col(frame, "region"), pa_ident)
    dob = frame["dob"] if "dob" in frame.columns else None
    out["dob"] = (
        _apply_py(_col(frame, "dob"), date_key)
        if dob is None or not pd.api.types.is_datetime64_any_dtype(dob)
        else pa.array(dob.dt.strftime("%Y%m%d"), type=pa.string(), from_pandas=True)
    )
    out["ident"] = _apply(_col(frame, "ident"), pa_ident)
    ext = _null_empty(pc.utf8_trim_whitespace(_col(frame, "external_id")))
    out["external_id"] = pc.binary_join_element_wise(_col(frame, "source"), ext, "\x1f")
    dtype = pd.ArrowDtype(pa.string())
    return pd.DataFrame(
        {k: pd.Series(v, dtype=dtype, index=frame.index) for k, v in out.items()}
    ).reset_index(drop=True)


# Excel's display of a long number: 3.60E+11, 8.21E+09, 4,91E+11 (the digits are gone)
_SCI_RE2 = r"^\s*[+-]?\d+([.,]\d+)?\s*[eE]\s*[+]?\d+\s*$"
MIN_PHONE_DIGITS = 6


def _nonvalue_values(x: pa.Array, which: str) -> pa.Array:
    """True where a value is junk typed or produced in place of a real one.

    The validate stage's placeholder lists (audit/validate/data/placeholders.yaml), checked in
    Arrow on the distinct values so that 1M contacts cost a fraction of a second.
    """
    d = pc.dictionary_encode(x)
    flags = _junk(d.dictionary, which)
    return pc.fill_null(pc.take(flags, d.indices), False)


def _junk(u: pa.Array, which: str) -> pa.Array:
    from audit.valuelists import REPEAT_ASCII, placeholder_lists

    lists = placeholder_lists()
    low = pc.utf8_trim_whitespace(_pa_fold(u))
    if which == "phone":
        digits = pc.replace_substring_regex(_non_ascii(u, _unicode_fold), "[^0-9]", "")
        hit = pc.is_in(digits, value_set=pa.array(sorted(lists["phone_digits"]), pa.string()))
        hit = pc.or_(hit, pc.match_substring_regex(digits, _REPEAT_DIGIT7_RE2))
        hit = pc.or_(hit, pc.match_substring_regex(digits, "^0*123456789"))
        hit = pc.or_(hit, pc.less(pc.utf8_length(digits), MIN_PHONE_DIGITS))
        return pc.fill_null(pc.or_(hit, pc.match_substring_regex(u, _SCI_RE2)), False)
    if which == "email":
        return _email_junk(low, lists)
    if which in ("text", "name"):
        # placeholders are short: the regular expressions run on short values only
        short = pc.fill_null(pc.less_equal(pc.utf8_length(u), SHORT), False)
        if not pc.all(short).as_py():
            hit = pc.is_in(low, value_set=pa.array(sorted(lists["text"]), pa.string()))
            if which == "name":
                hit = pc.or_(hit, _junk_tokens(low))
            if pc.any(short).as_py():
                hit = pc.replace_with_mask(hit, short, _junk(pc.filter(u, short), which))
            return pc.fill_null(hit, False)
    hit = pc.is_in(low, value_set=pa.array(sorted(lists["text"]), pa.string()))
    squeezed = pc.replace_substring(low, " ", "")
    hit = pc.or_(hit, pc.match_substring_regex(squeezed, f"^{REPEAT_ASCII}$"))
    hit = pc.or_(hit, pc.match_substring_regex(low, r"^[^\p{L}\p{N}]+$"))
    if which == "name":
        hit = pc.or_(hit, _junk_tokens(low))
    return pc.fill_null(hit, False)


SHORT = 24  # characters: longer text is never a whole placeholder


def _junk_tokens(low: pa.Array) -> pa.Array:
    """A junk word inside a longer name ('浩二 nolastname')."""
    from audit.valuelists import JUNK_TOKENS

    words = "|".join(re.escape(t) for t in sorted(JUNK_TOKENS))
    return pc.match_substring_regex(low, f"(^|\\s)({words})(\\s|$)")


def _email_junk(low: pa.Array, lists: dict[str, frozenset[str]]) -> pa.Array:
    """The validate stage's placeholder addresses (none@none.com, test@test.com, noemail@...)
    and junk mailbox names at any domain; not its reserved documentation domains (example.com),
    which sample data everywhere uses for real people."""
    at = pc.split_pattern(low, "@", max_splits=1, reverse=True)
    two = pc.equal(pc.list_value_length(at), 2)
    local = pc.list_element(pc.if_else(two, at, pa.scalar(["", ""], at.type)), 0)
    domain = pc.list_element(pc.if_else(two, at, pa.scalar(["", ""], at.type)), 1)
    reserved = sorted(d for d in lists["email_domains"] if not d.startswith("example."))
    hit = pc.is_in(low, value_set=pa.array(sorted(lists["email"]), pa.string()))
    hit = pc.or_(hit, pc.is_in(domain, value_set=pa.array(reserved, pa.string())))
    locals_ = sorted(lists["text"] | _NO_ADDRESS)
    hit = pc.or_(hit, pc.is_in(local, value_set=pa.array(locals_, pa.string())))
    return pc.fill_null(pc.or_(hit, pc.invert(two)), True)


def _email_placeholder(v: pd.Series) -> np.ndarray:
    """`_email_junk` over a pandas column of addresses."""
    from audit.valuelists import placeholder_lists

    arr = pa.array(v.astype(object).tolist(), type=pa.string())
    low = pc.utf8_trim_whitespace(_pa_fold(arr))
    return _email_junk(low, placeholder_lists()).to_numpy(zero_copy_only=False)


_REPEAT_DIGIT7_RE2 = "(" + "|".join(f"{d}{{7}}" for d in "0123456789") + ")$"
_NO_ADDRESS = frozenset(
    {"noemail", "nomail", "no-email", "no_email", "noreply", "no-reply", "donotreply"}
    | {"do-not-reply", "na", "no", "x", "xx", "none", "test"}
)


def _nonvalue(
    frame: pd.DataFrame, name: str, which: str, flagged: dict[str, np.ndarray]
) -> pa.Array:
    """Per record: the column holds a value that is not a value (or an earlier stage said so)."""
    bad = _nonvalue_values(_col(frame, name), which)
    if name in flagged:
        bad = pc.or_(bad, pa.array(np.asarray(flagged[name], bool)))
    # a missing cell is not a non-value: a null here would null every result it is combined with
    return pc.fill_null(bad, False)


def _clean(frame: pd.DataFrame, name: str, which: str, flagged: dict[str, np.ndarray]) -> pa.Array:
    """A column with its non-values made missing."""
    return pc.if_else(_nonvalue(frame, name, which, flagged), _NULL, _col(frame, name))


def _tail7(x: pa.Array) -> pa.Array:
    long = pc.greater_equal(pc.utf8_length(x), 7)
    return pc.if_else(long, pc.utf8_slice_codeunits(x, start=-7), pa.scalar(None, pa.string()))


# whitespace as Python's str.split() sees it in ASCII (RE2's \s lacks \v and \x1c-\x1f)
_ASCII_SPACE_RE2 = "[\t\n\x0b\x0c\r\x1c-\x1f ]+"


def pa_email_fallback(u: pa.Array) -> pa.Array:
    """`_email_fallback` over distinct values: plain-ASCII addresses (nearly all) in Arrow,
    the others one by one in Python; the same keys either way (a test checks both)."""
    ascii_ = pc.fill_null(pc.string_is_ascii(u), True)
    s = pc.utf8_trim(pc.replace_substring_regex(u, _ASCII_SPACE_RE2, " "), " ")
    s = pc.ascii_lower(s)
    parts = pc.split_pattern(s, "@", max_splits=1, reverse=True)
    two = pc.fill_null(pc.equal(pc.list_value_length(parts), 2), False)
    blank = pa.scalar(["", ""], parts.type)
    local = pc.list_element(pc.if_else(two, parts, blank), 0)
    domain = pc.list_element(pc.if_else(two, parts, blank), 1)
    gmail = pc.is_in(domain, value_set=pa.array(["gmail.com", "googlemail.com"], pa.string()))
    plain = pc.replace_substring(pc.replace_substring_regex(local, r"\+.*$", ""), ".", "")
    local = pc.if_else(gmail, plain, local)
    domain = pc.if_else(gmail, pa.scalar("gmail.com"), domain)
    out = pc.if_else(two, pc.binary_join_element_wise(local, domain, "@"), _NULL)
    rest = pc.invert(ascii_)
    if pc.any(rest).as_py():
        odd = [_email_fallback(v) for v in pc.filter(u, rest).to_pylist()]
        out = pc.replace_with_mask(out, rest, pa.array(odd, pa.string()))
    return out


def _email_fallback(value: object) -> str | None:
    s = _text(value)
    if s is None or "@" not in s:
        return None
    local, _, domain = s.casefold().rpartition("@")
    if domain in ("gmail.com", "googlemail.com"):
        local = local.split("+", 1)[0].replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"
