"""Unicode helpers shared by every stage; a leaf module with no project imports.

CRM data mixes full-width digits (０９０), half-width kana (ｶﾅ), wave-dash variants and invisible
characters pasted from web forms. Folding them in one place keeps every comparison consistent.
"""

from __future__ import annotations

import re
import unicodedata

# Zero-width and bidi marks that survive copy-paste from web pages and Excel.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\u00ad]")
# Wave dash, full-width tilde and friends that Japanese IMEs and cp932 swap for each other.
_WAVES = str.maketrans({"\u301c": "~", "\uff5e": "~", "\u223c": "~"})
# The many dashes and minus signs that appear inside phone numbers and dates.
_DASHES = str.maketrans(
    {c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff0d\ufe63"}
)
_SPACES = re.compile(r"\s+")


def fold(value: str) -> str:
    """NFKC-fold, drop invisible characters and collapse whitespace; keep case."""
    s = _INVISIBLE.sub("", value)
    s = unicodedata.normalize("NFKC", s).translate(_WAVES)
    return _SPACES.sub(" ", s).strip()


def fold_dashes(value: str) -> str:
    """Map every dash-like character to ASCII '-' (for phones and dates, not for names)."""
    return value.translate(_DASHES)


def key(value: str) -> str:
    """A comparison key: folded, case-folded, punctuation and spaces removed."""
    s = fold(value).casefold()
    return "".join(ch for ch in s if ch.isalnum())


_CJK_RANGES = (
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3130, 0x318F),  # Hangul compatibility Jamo
    (0x3400, 0x4DBF),  # CJK ext A
    (0x4E00, 0x9FFF),  # CJK unified
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xF900, 0xFAFF),  # CJK compatibility
)


def is_cjk_char(ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _CJK_RANGES)


def has_cjk(value: str) -> bool:
    """True when the text holds Han, Hangul or Kana: such names are never split Western-style."""
    return any(is_cjk_char(ch) for ch in value)
