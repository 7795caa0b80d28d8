"""Cross-script name agreement: 김민준 / Minjun Kim, 田中 太郎 / タナカ タロウ / Taro Tanaka.

The romanized keys come from audit/romanize.py (per language: family key, given key,
and the whole name read family-first, for blocking). Here they are computed once per distinct
name and compared on integer codes only, for pairs whose two names are written in different
scripts; a same-script pair keeps the ordinary comparison (two hanzi names with one pinyin,
王伟 / 汪伟, are two names). Agreement counts as the field's exact level,
weighed by how common the romanized value is among all records (Kim, Lee, Sato, Wang are
weak evidence), so the ordinary term-frequency adjustment applies to the romanized family name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from audit import romanize as rz
from audit.match.blocking import Codes
from audit.match.facts import ValueCounts

SCRIPT = "xs_script"
# per language: family key, given key, and the whole name read in two orders (a: the last
# word first, b: as written); a native name has its family-first reading in both
COLUMNS = (SCRIPT, *(f"x{k}_{lang}" for lang in rz.LANGS for k in ("f", "g", "a", "b")), "xfb_ja")
# per language: the family key of records written in native script only (null for Latin
# records): its distinct values are the family names the data set holds natively (千葉 ->
# chiba), a statistic of the whole data set that a partition counts through `ValueCounts`
NATIVE_FAMILY = tuple(f"xfn_{lang}" for lang in rz.LANGS)
# xfb_ja: the Japanese family name key when a Latin name is written family first ("Machida
# Shuhei"; Japanese has no short list of family names to tell the order), else xf_ja, for
# blocking on the family name at one company when the given name is read another way
_CJK_RE2 = "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]"


def features(given: pa.Array, family: pa.Array) -> dict[str, pa.Array]:
    """Cross-script keys per record, from the matcher's folded given and family names.

    All null when no name holds Hangul, kana or hanzi: a Latin-only file pays nothing.
    """
    n = len(given)
    empty = {c: pa.nulls(n, pa.string()) for c in (*COLUMNS, *NATIVE_FAMILY)}
    has = pc.or_(
        pc.fill_null(pc.match_substring_regex(given, _CJK_RE2), False),
        pc.fill_null(pc.match_substring_regex(family, _CJK_RE2), False),
    )
    if n == 0 or not pc.any(has).as_py():
        return empty
    both = pc.binary_join_element_wise(pc.fill_null(given, ""), pc.fill_null(family, ""), "\x1f")
    enc = pc.dictionary_encode(both)
    uniq = enc.dictionary.to_pylist()
    rows: list[tuple[str | None, ...]] = [()] * len(uniq)
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
            row.append(folded["ja"][g])
            rows[k] = tuple(row)
    out = {}
    for k, col in enumerate(COLUMNS):
        values = pa.array([r[k] for r in rows], type=pa.string())
        out[col] = pc.take(values, enc.indices)
    native = pc.fill_null(pc.not_equal(out[SCRIPT], pa.scalar(str(rz.LATIN))), False)
    for lang, col in zip(rz.LANGS, NATIVE_FAMILY, strict=True):
        out[col] = pc.if_else(native, out[f"xf_{lang}"], pa.scalar(None, pa.string()))
    return out


def _keys(joined: str) -> tuple[str | None, ...]:
    given_text, _, family_text = joined.partition("\x1f")
    given, family = given_text or None, family_text or None
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
    if sc == rz.LATIN:
        words = [*(given or "").split(), *(family or "").split()]
        row.append(rz.fold("ja", words[0]) if len(words) > 1 else row[5])
    else:
        row.append(row[5])  # the native name's own Japanese family key (or None)
    return tuple(row)


def counted_columns() -> list[str]:
    """The columns whose value counts cross-script comparison needs (`ValueCounts`): the
    romanized names (their shares), the given and family names and the native family keys
    (which words are family names: `family_words`)."""
    return [
        *(f"{p}_{lang}" for lang in rz.LANGS for p in ("xf", "xg")),
        "given",
        "family",
        *NATIVE_FAMILY,
    ]


def family_words(
    words: list[str], as_family: np.ndarray, as_given: np.ndarray, native: dict[str, set[str]]
) -> np.ndarray:
    """Per word, is it a family name: held more often as a family name than as a given name
    (counts over the whole data set), a common Korean or Chinese family name (Kwon, Huang), or
    the reading of a family name the data set holds in native script (千葉 -> Chiba)?

    `native`: per language, the romanized family keys of the native-script records.
    """
    known = {lang: set(native.get(lang, set())) for lang in rz.LANGS}
    for lang in ("ko", "zh"):
        known[lang] |= set(rz.family_rank(lang))
    ranked = [any(rz.fold(lang, w) in keys for lang, keys in known.items()) for w in words]
    return (np.asarray(as_family) > np.asarray(as_given)) | np.array(ranked, bool).reshape(-1)


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
        # family and given keys are coded per column; these codes share one vocabulary per
        # language, for the checks that compare one side's family key with the other's given key
        self.fj: dict[str, np.ndarray] = {}
        self.gj: dict[str, np.ndarray] = {}
        for lang in rz.LANGS:
            fu, gu = codes.uniques(f"xf_{lang}"), codes.uniques(f"xg_{lang}")
            vocab = {v: k for k, v in enumerate(dict.fromkeys([*fu, *gu]))}
            for out, c, u in ((self.fj, self.f[lang], fu), (self.gj, self.g[lang], gu)):
                joint = np.array([vocab[v] for v in u] or [0], np.int64)
                out[lang] = np.where(c >= 0, joint[np.maximum(c, 0)], -1)
        self.base_len = base_len
        self.codes = codes
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

    def native_family_keys(self) -> dict[str, set[str]]:
        """Per language, the romanized family names of the records written in native script."""
        native = (self.script > 0) & (self.script != rz.LATIN)
        out = {}
        for lang in rz.LANGS:
            codes = np.unique(self.f[lang][native & (self.f[lang] >= 0)])
            uniq = self.codes.uniques(f"xf_{lang}")
            out[lang] = {str(uniq[c]) for c in codes}
        return out

    def unreadable(self, i: np.ndarray, j: np.ndarray, agreed: np.ndarray) -> np.ndarray:
        """Kanji vs Latin given names that do not agree while the Japanese family names do.

        A kanji given name has many readings and the dictionary knows one (its reading matches
        the romaji of about 1 in 5 spellings of a public given-name list), so that disagreement
        is unknown rather than far. Counted as far, it also taught the model that real matches
        often disagree on given names, which weakened the given name for everyone.
        """
        si, sj = self.script[i], self.script[j]
        han_latin = ((si == rz.HAN) & (sj == rz.LATIN)) | ((si == rz.LATIN) & (sj == rz.HAN))
        f, g = self.fj["ja"], self.gj["ja"]
        family = (f[i] >= 0) & ((f[i] == f[j]) | (f[i] == g[j]) | (g[i] == f[j]))
        return han_latin & family & ~agreed

    def reads_as(self, field: str, i: np.ndarray, j: np.ndarray, agreed: np.ndarray) -> np.ndarray:
        """Native vs Latin names where the romanized name is one reading of the native name,
        though not the dictionary's first: kanji given names (一輝 is Kazuki and Ikki) and hanzi
        with more than one reading (柏 is Bai and, in Taiwan, Po: 柏翰 Po-han, 柏 Po).

        The Latin name is read in both word orders; the family name must agree (its key, or
        for hanzi one of its readings) before the given name in the other slot is read. Checked
        once per distinct (native name, Latin name), in romanize.kanji_reads_as / hanzi_reads_as.
        """
        out = np.zeros(len(i), bool)
        si, sj = self.script[i], self.script[j]
        for lang, scripts in (("ja", (rz.HAN, rz.KANA)), ("zh", (rz.HAN,))):
            if lang == "ja" and field == "family":
                continue  # Japanese family names: UniDic reads them well (96% of a public list)
            nat_i, nat_j = np.isin(si, scripts), np.isin(sj, scripts)
            cand = ((nat_i & (sj == rz.LATIN)) | (nat_j & (si == rz.LATIN))) & ~agreed & ~out
            idx = np.flatnonzero(cand)
            if len(idx) == 0:
                continue
            nat = np.where(nat_i, i, j)[idx]
            lat = np.where(nat_i, j, i)[idx]
            f, g = self.fj[lang], self.gj[lang]
            gc, fc = self.codes.get("given"), self.codes.get("family")
            combo = np.stack([gc[nat], fc[nat], f[nat], g[nat], f[lat], g[lat]], axis=1)
            uniq, inverse = np.unique(combo, axis=0, return_inverse=True)
            words = self._joint_words(lang)
            gu, fu = self.codes.uniques("given"), self.codes.uniques("family")
            hit = np.array(
                [self._read(lang, field, row, gu, fu, words) for row in uniq] or [False], bool
            )
            out[idx] = hit[inverse.ravel()]
        return out

    def _joint_words(self, lang: str) -> np.ndarray:
        xf, xg = self.codes.uniques(f"xf_{lang}"), self.codes.uniques(f"xg_{lang}")
        return np.array([*dict.fromkeys([*xf, *xg])] or [""], object)

    @staticmethod
    def _read(
        lang: str, field: str, row: Any, gu: np.ndarray, fu: np.ndarray, words: np.ndarray
    ) -> bool:
        given = str(gu[row[0]]) if row[0] >= 0 else ""
        family = str(fu[row[1]]) if row[1] >= 0 else ""
        nat_f = str(words[row[2]]) if row[2] >= 0 else ""
        nat_g = str(words[row[3]]) if row[3] >= 0 else ""
        if lang == "ja" and family and given:  # UniDic's family-name split, as the keys do
            split = rz.ja_family_split(family + given)
            family, given = split if split else (family, given)
        read = rz.kanji_reads_as if lang == "ja" else rz.hanzi_reads_as
        for fam_at, giv_at in ((4, 5), (5, 4)):  # the Latin name given first, family first
            if row[fam_at] < 0:
                continue
            fam_word = str(words[row[fam_at]])
            if not (nat_f == fam_word or (lang == "zh" and read(family, fam_word))):
                continue
            if field == "family":
                return True
            giv_word = str(words[row[giv_at]]) if row[giv_at] >= 0 else ""
            return bool(given and giv_word) and (nat_g == giv_word or read(given, giv_word))
        return False

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
            f, g = self.fj[lang], self.gj[lang]
            own = self.f[lang] if field == "family" else self.g[lang]
            straight = (own[a] >= 0) & (own[a] == own[b])
            flipped = np.zeros(len(idx), bool)
            if field == "family":  # a Latin name written family first: "Tanaka Taro"
                lat_g = np.where(native_a, g[b], g[a])
                nat_f = np.where(native_a, f[a], f[b])
                one_latin = (si[idx] == rz.LATIN) | (sj[idx] == rz.LATIN)
                flipped = one_latin & (nat_f >= 0) & (nat_f == lat_g)
            swapped = (f[a] >= 0) & (g[a] >= 0) & (f[a] == g[b]) & (g[a] == f[b])
            ka, kb = self.a[lang], self.b[lang]
            whole = ((ka[a] >= 0) & (ka[a] == ka[b])) | ((kb[a] >= 0) & (kb[a] == kb[b]))
            ok = (straight | flipped | swapped | whole) & ~hit[idx]
            value = np.where(straight | native_a, own[a], own[b])  # the native side's value
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
