"""Cross-script name agreement: 김민준 / Minjun Kim, 田中 太郎 / タナカ タロウ / Taro Tanaka.

The romanized keys come from audit/normalize/romanize.py (per language: family key, given key,
and the whole name read family-first, for blocking). Here they are computed once per distinct
name and compared on integer codes only, for pairs whose two names are written in different
scripts; a same-script pair keeps the ordinary comparison (two hanzi names with one pinyin,
王伟 / 汪伟, are two names). Agreement counts as the field's exact level,
weighed by how common the romanized value is among all records (Kim, Lee, Sato, Wang are
weak evidence), so the ordinary term-frequency adjustment applies to the romanized family name.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from audit.match.blocking import Codes
from audit.match.facts import ValueCounts
from audit.normalize import romanize as rz

SCRIPT = "xs_script"
# per language: family key, given key, and the whole name read in two orders (a: the last
# word first, b: as written); a native name has its family-first reading in both
COLUMNS = (SCRIPT, *(f"x{k}_{lang}" for lang in rz.LANGS for k in ("f", "g", "a", "b")))
_CJK_RE2 = "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]"


def features(given: pa.Array, family: pa.Array) -> dict[str, pa.Array]:
    """Cross-script keys per record, from the matcher's folded given and family names.

    All null when no name holds Hangul, kana or hanzi: a Latin-only file pays nothing.
    """
    n = len(given)
    empty = {c: pa.nulls(n, pa.string()) for c in COLUMNS}
    has = pc.or_(
        pc.fill_null(pc.match_substring_regex(given, _CJK_RE2), False),
        pc.fill_null(pc.match_substring_regex(family, _CJK_RE2), False),
    )
    if n == 0 or not pc.any(has).as_py():
        return empty
    both = pc.binary_join_element_wise(pc.fill_null(given, ""), pc.fill_null(family, ""), "\x1f")
    enc = pc.dictionary_encode(both)
    uniq = enc.dictionary.to_pylist()
    rows: list[tuple[str | None, ...] | None] = [None] * len(uniq)
    # most names are two Latin words ('minjun' + 'kim'): their keys are put together from the
    # folds of the distinct words, per language, instead of folding every name
    simple: list[tuple[int, str, str]] = []
    for k, v in enumerate(uniq):
        g, _, f = v.partition("\x1f")
        if g and f and " " not in g and " " not in f and g.isascii() and f.isascii():
            simple.append((k, g, f))
        else:
            rows[k] = _keys(v)
    if simple:
        words = sorted({w for _, g, f in simple for w in (g, f)})
        folded = {lang: {w: rz.fold(lang, w) for w in words} for lang in rz.LANGS}
        ranks = {lang: rz.family_rank(lang) for lang in rz.LANGS}
        latin = str(rz.LATIN)
        for k, g, f in simple:
            row: list[str | None] = [latin]
            for lang in rz.LANGS:
                fg, ff = folded[lang][g], folded[lang][f]
                ka = ff + fg if ff and fg else None
                kb = fg + ff if ff and fg else None
                rank = ranks[lang]
                rf, rl = rank.get(fg or ""), rank.get(ff or "")
                if rf is not None and (rl is None or rf < rl):  # family written first
                    row += [fg, ff, ka, kb]
                else:
                    row += [ff, fg, ka, kb]
            rows[k] = tuple(row)
    out = {}
    for k, col in enumerate(COLUMNS):
        values = pa.array([r[k] for r in rows], type=pa.string())
        out[col] = pc.take(values, enc.indices)
    return out


def _keys(joined: str) -> tuple[str | None, ...]:
    given, _, family = joined.partition("\x1f")
    given, family = given or None, family or None
    sc = max(rz.script_of(given), rz.script_of(family))
    row: list[str | None] = [str(sc) if sc else None]
    langs = rz.languages(sc)
    for lang in rz.LANGS:
        if lang not in langs:
            row += [None, None, None, None]
            continue
        if sc == rz.LATIN:
            fk, gk, ka, kb = rz.latin_keys(lang, given, family)
        else:
            fk, gk = rz.native_keys(lang, given, family)
            ka = kb = fk + gk if fk and gk else None
        row += [fk, gk, ka, kb]
    return tuple(row)


def counted_columns() -> list[str]:
    """The romanized name columns whose value counts the shares need (`ValueCounts`)."""
    return [f"{p}_{lang}" for lang in rz.LANGS for p in ("xf", "xg")]


class CrossScript:
    """Per-record script classes and key codes; answers 'do these pairs agree across scripts'."""

    def __init__(
        self, codes: Codes, base_len: Callable[[str], int], counts: ValueCounts | None = None
    ) -> None:
        sc = codes.get(SCRIPT)
        values = np.array([int(v) for v in codes.uniques(SCRIPT)] or [0], np.int8)
        self.script = np.where(sc >= 0, values[np.maximum(sc, 0)], 0).astype(np.int8)
        self.f = {lang: codes.get(f"xf_{lang}") for lang in rz.LANGS}
        self.g = {lang: codes.get(f"xg_{lang}") for lang in rz.LANGS}
        self.a = {lang: codes.get(f"xa_{lang}") for lang in rz.LANGS}
        self.b = {lang: codes.get(f"xb_{lang}") for lang in rz.LANGS}
        self.base_len = base_len
        # with global counts (a partition of the data), shares are the whole data set's
        self.totals: dict[tuple[str, str], float] | None = None
        if counts is None:
            self.counts = {
                (lang, field): np.bincount(c[c >= 0], minlength=int(c.max()) + 1 if len(c) else 0)
                for lang in rz.LANGS
                for field, c in (("family", self.f[lang]), ("given", self.g[lang]))
            }
        else:
            self.counts = {
                (lang, field): counts.of(f"{prefix}_{lang}", codes.uniques(f"{prefix}_{lang}"))
                for lang in rz.LANGS
                for field, prefix in (("family", "xf"), ("given", "xg"))
            }
            self.totals = {
                (lang, field): float(counts.total(f"{prefix}_{lang}"))
                for lang in rz.LANGS
                for field, prefix in (("family", "xf"), ("given", "xg"))
            }

    def unreadable(self, i: np.ndarray, j: np.ndarray, agreed: np.ndarray) -> np.ndarray:
        """Kanji vs Latin given names that do not agree while the Japanese family names do.

        A kanji given name has many readings and the dictionary knows one (its reading matches
        the romaji of about 1 in 5 spellings of a public given-name list), so that disagreement
        is unknown rather than far. Counted as far, it also taught the model that real matches
        often disagree on given names, which weakened the given name for everyone.
        """
        si, sj = self.script[i], self.script[j]
        han_latin = ((si == rz.HAN) & (sj == rz.LATIN)) | ((si == rz.LATIN) & (sj == rz.HAN))
        f, g = self.f["ja"], self.g["ja"]
        family = (f[i] >= 0) & ((f[i] == f[j]) | (f[i] == g[j]) | (g[i] == f[j]))
        return han_latin & family & ~agreed

    def agree(self, field: str, i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(hit, tf_code) per pair: the field's romanized keys agree between two scripts.

        The whole name read in either order agreeing counts for both fields ("Kim Min Jun",
        "Min-jun Kim"); otherwise the field's own key, or both keys swapped. tf_code indexes the
        shares returned by `shares` (after the field's own value codes): the native side's
        romanized value, so a common family name stays weak evidence.
        """
        n = len(i)
        hit = np.zeros(n, bool)
        tf = np.full(n, -1, np.int64)
        si, sj = self.script[i], self.script[j]
        idx = np.flatnonzero((si != sj) & (si > 0) & (sj > 0))
        if len(idx) == 0:
            return hit, tf
        a, b = i[idx], j[idx]
        native_a = si[idx] != rz.LATIN
        off = self.base_len(field)
        for lang in rz.LANGS:
            f, g = self.f[lang], self.g[lang]
            own = f if field == "family" else g
            straight = (own[a] >= 0) & (own[a] == own[b])
            swapped = (f[a] >= 0) & (g[a] >= 0) & (f[a] == g[b]) & (g[a] == f[b])
            ka, kb = self.a[lang], self.b[lang]
            whole = ((ka[a] >= 0) & (ka[a] == ka[b])) | ((kb[a] >= 0) & (kb[a] == kb[b]))
            ok = (straight | swapped | whole) & ~hit[idx]
            value = np.where(straight | native_a, own[a], own[b])
            tf[idx[ok]] = np.where(value[ok] >= 0, off + value[ok], -1)
            hit[idx[ok]] = True
            off += len(self.counts[(lang, field)])
        return hit, tf

    def shares(self, field: str, prior_records: float, prior_share: float) -> np.ndarray:
        """Share of records holding each romanized value (the tf table after the own codes)."""
        parts = []
        for lang in rz.LANGS:
            c = self.counts[(lang, field)].astype(float)
            total = c.sum() if self.totals is None else self.totals[(lang, field)]
            parts.append((c + prior_records * prior_share) / (total + prior_records))
        return np.concatenate(parts) if parts else np.zeros(0)
