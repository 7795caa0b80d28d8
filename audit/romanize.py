"""Romanized readings of Korean, Japanese and Chinese person names, and phonetic keys.

One person is "김민준" in the Korean sheet and "Minjun Kim" (or "Kim Min-Jun", "Gim Min Jun") in
HubSpot; "田中 太郎", "タナカ タロウ" and "Taro Tanaka"; "王伟" and "Wang Wei" / "Wáng Wěi". To let
such records meet, a native name is read aloud in Latin letters (Hangul: Revised Romanization,
computed from the syllable blocks; kana: Hepburn, from a table; kanji: the kana reading from the
UniDic dictionary through fugashi, which knows names; hanzi: pypinyin), and both that reading and
every Latin spelling are folded per language into a key that forgets what spellings of one name
differ in (Kim/Gim, Lee/Yi/Rhee, Jung/Jeong/Chung, Yoon/Yun; Satō/Satou/Satoh/Sato; Hsu/Xu,
Chang/Zhang; hyphens, spaces, tone marks). Keys are language-specific because the folds conflict:
"oo" is "u" in Korean spellings (Yoon) and a long "o" in Japanese ones (Oono).

A Han-only name ("王伟", "田中太郎") gets both a Japanese and a Chinese key; kana means Japanese;
Hangul means Korean. A Latin name gets all three keys, since its language is unknown. Matching
(audit/match/xscript.py) only compares these keys between records written in different scripts.
normalize (name columns) and match (cross-script keys) both read names this way, so the module sits
below the stages.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache
from importlib import resources
from typing import Any

LANGS = ("ko", "ja", "zh")
# script classes of a name, per record (0 = no name)
NONE, LATIN, HANGUL, KANA, HAN = 0, 1, 2, 3, 4

_HANGUL = re.compile("[\uac00-\ud7a3]")
_KANA_RE = re.compile("[\u3040-\u30ff\uff66-\uff9f]")
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile("[a-zA-Z\u00c0-\u024f]")


def script_of(text: str | None) -> int:
    """The script class of a name: HANGUL, KANA (kana with or without kanji), HAN, LATIN."""
    if not text:
        return NONE
    if _HANGUL.search(text):
        return HANGUL
    if _KANA_RE.search(text):
        return KANA
    if _HAN.search(text):
        return HAN
    if _LATIN.search(text):
        return LATIN
    return NONE


def languages(script: int) -> tuple[str, ...]:
    """Languages whose key a name in this script can have."""
    return {
        HANGUL: ("ko",),
        KANA: ("ja",),
        HAN: ("ja", "zh"),
        LATIN: LANGS,
    }.get(script, ())


# --- Hangul -> Revised Romanization (syllable by syllable, as names are romanized) ----------
_INITIAL = "g kk n d tt r m b pp s ss - j jj ch k t p h".split()  # noqa: SIM905
_MEDIAL = "a ae ya yae eo e yeo ye o wa wae oe yo u wo we wi yu eu ui i".split()  # noqa: SIM905
_FINAL = ["", *"k k k n n n t l k m l l l p l m p p t t ng t t k t p t".split()]  # noqa: SIM905


def hangul_rr(text: str) -> str:
    """Revised Romanization of the Hangul syllables in `text`, one syllable at a time."""
    out = []
    for ch in text:
        cp = ord(ch) - 0xAC00
        if 0 <= cp < 11172:
            ini, med, fin = cp // 588, (cp % 588) // 28, cp % 28
            out.append(_INITIAL[ini].strip("-") + _MEDIAL[med] + _FINAL[fin])
        elif ch.isascii() and ch.isalpha():
            out.append(ch.lower())
    return "".join(out)


# --- kana -> Hepburn --------------------------------------------------------------------------
_KANA_ROWS = {
    "ア": "a", "イ": "i", "ウ": "u", "エ": "e", "オ": "o",
    "カ": "ka", "キ": "ki", "ク": "ku", "ケ": "ke", "コ": "ko",
    "ガ": "ga", "ギ": "gi", "グ": "gu", "ゲ": "ge", "ゴ": "go",
    "サ": "sa", "シ": "shi", "ス": "su", "セ": "se", "ソ": "so",
    "ザ": "za", "ジ": "ji", "ズ": "zu", "ゼ": "ze", "ゾ": "zo",
    "タ": "ta", "チ": "chi", "ツ": "tsu", "テ": "te", "ト": "to",
    "ダ": "da", "ヂ": "ji", "ヅ": "zu", "デ": "de", "ド": "do",
    "ナ": "na", "ニ": "ni", "ヌ": "nu", "ネ": "ne", "ノ": "no",
    "ハ": "ha", "ヒ": "hi", "フ": "fu", "ヘ": "he", "ホ": "ho",
    "バ": "ba", "ビ": "bi", "ブ": "bu", "ベ": "be", "ボ": "bo",
    "パ": "pa", "ピ": "pi", "プ": "pu", "ペ": "pe", "ポ": "po",
    "マ": "ma", "ミ": "mi", "ム": "mu", "メ": "me", "モ": "mo",
    "ヤ": "ya", "ユ": "yu", "ヨ": "yo",
    "ラ": "ra", "リ": "ri", "ル": "ru", "レ": "re", "ロ": "ro",
    "ワ": "wa", "ヰ": "i", "ヱ": "e", "ヲ": "o", "ン": "n", "ヴ": "vu",
    "ァ": "a", "ィ": "i", "ゥ": "u", "ェ": "e", "ォ": "o",
}  # fmt: skip
_SMALL_Y = {"ャ": "a", "ュ": "u", "ョ": "o"}


def kana_romaji(text: str) -> str:
    """Hepburn romaji of katakana or hiragana (long vowels spelled out, e.g. 'satou')."""
    s = "".join(chr(ord(c) + 0x60) if "\u3041" <= c <= "\u3096" else c for c in text)
    s = unicodedata.normalize("NFKC", s)  # half-width kana
    out: list[str] = []
    double = False
    for ch in s:
        if ch == "ッ":
            double = True
            continue
        if ch in _SMALL_Y and out:
            prev = out.pop()
            base = prev[:-1]  # 'ki' -> 'k', 'shi' -> 'sh', 'chi' -> 'ch', 'ji' -> 'j'
            syl = (base if base.endswith(("sh", "ch", "j")) else base + "y") + _SMALL_Y[ch]
        elif ch == "ー" and out:
            syl = out[-1][-1]
        elif ch in _KANA_ROWS:
            syl = _KANA_ROWS[ch]
        elif ch.isascii() and ch.isalpha():
            syl = ch.lower()
        else:
            continue
        if double and syl[0] not in "aeiou":
            syl = syl[0] + syl
        double = False
        out.append(syl)
    return "".join(out)


@lru_cache(maxsize=1)
def _tagger() -> Any:  # fugashi is imported only when a kanji name is read
    import fugashi

    return fugashi.Tagger()


def kanji_kana(text: str) -> str | None:
    """The kana reading of a Japanese name from UniDic (fugashi + unidic-lite); None if unknown."""
    out = []
    for word in _tagger()(text):
        if _KANA_RE.fullmatch(word.surface or "") or not _HAN.search(word.surface):
            out.append(word.surface)
            continue
        kana = getattr(word.feature, "kana", None)
        if not kana or kana == "*":
            return None
        out.append(kana)
    return "".join(out) or None


# --- kanji given names: many readings per spelling -------------------------------------------
# UniDic knows one reading of a kanji given name, and it is the romaji people write for about 1
# in 5 spellings of a public given-name list: 翔太 is Shota, but 一輝 is Kazuki or Ikki, 陽翔
# Haruto or Hinata. So a romanized given name is checked against the readings the name's kanji
# can have in names (KANJIDIC2 on / kun / nanori readings and JMnedict one-kanji given names,
# data/kanji_name_readings.tsv): "Kazuki" agrees with 一輝 when it splits into a reading of 一
# (kazu) and one of 輝 (ki). Measured on given names neither this code nor the benchmark made
# (JMnedict given names with their readings): 80% accepted, 0.2% of other names accepted.
@lru_cache(maxsize=1)
def _kanji_readings() -> dict[str, tuple[str, ...]]:
    path = resources.files("audit").joinpath("normalize", "data", "kanji_name_readings.tsv")
    out = {}
    for line in path.read_text("utf-8").splitlines():
        if line and not line.startswith("#"):
            kanji, _, readings = line.partition("\t")
            out[kanji] = tuple(readings.split())
    return out


# Looser than the Japanese fold, for readings put together from single kanji: a kanji read
# with a voiced sound inside a name (司 shi -> Kenji, 吹 fuki -> Ibuki, 弦 tsuru -> Yuzuru) folds
# to its plain one.
_LOOSE = [
    (re.compile(a), b) for a, b in ((r"(?<=.)f", "h"), (r"(?<=.)j", "sh"), (r"(?<=.)ts", "s"))
]


def _loose(key: str) -> str:
    for pat, rep in _LOOSE:
        key = pat.sub(rep, key)
    return key


@lru_cache(maxsize=50_000)
def _fragments(ch: str, first: bool, last: bool) -> tuple[str, ...]:
    """Folded readings of one kanji (or kana) at a position of a given name."""
    if _KANA_RE.fullmatch(ch):
        kana: set[str] = {ch}
    else:
        kana = set(_kanji_readings().get(ch, ()))
        if not first:  # 平 hei -> Ippei, Shinpei: h becomes p after a geminate or n
            kana |= {chr(ord(r[0]) + 2) + r[1:] for r in kana if r[0] in "はひふへほ"}
        if not last:  # 一 ichi -> Ikki, Ippei: a final chi / tsu / ku / ki becomes a geminate
            kana |= {r[:-1] + "っ" for r in kana if len(r) > 1 and r[-1] in "ちつくき"}
    out = set()
    for r in kana:
        latin = kana_romaji(r)
        if not latin:
            continue
        # a reading inside a name is folded as the middle of a word (voicing, long vowels)
        folded = _loose(fold("ja", latin if first else "q" + latin) or "")
        out.add(folded if first else folded[1:])
    return tuple(sorted(out))


@lru_cache(maxsize=200_000)
def kanji_reads_as(name: str, key: str) -> bool:
    """Whether a Japanese given name in kanji can be read as a romanized name's folded key
    (fold('ja', ...)): the key splits into one reading of each character, in order."""
    chars = [c for c in name if not c.isspace()]
    target = _loose(key)
    if (
        not chars
        or not target
        or not all(_KANA_RE.fullmatch(c) or _HAN.match(c) or c == "々" for c in chars)
    ):
        return False
    chars = [chars[k - 1] if c == "々" and k else c for k, c in enumerate(chars)]
    n = len(chars)

    @cache
    def go(k: int, p: int) -> bool:
        if k == n:
            return p == len(target)
        for frag in _fragments(chars[k], k == 0, k == n - 1):
            tries = [frag]
            # the fold merges letters across a boundary: a doubled letter, 'ou' / 'oo' -> 'o'
            if p and (frag[0] == target[p - 1] or (target[p - 1] == "o" and frag[0] in "uo")):
                tries.append(frag[1:])
            for f in tries:
                if target.startswith(f, p) and (f or k) and go(k + 1, p + len(f)):
                    return True
        return False

    return go(0, 0)


@lru_cache(maxsize=50_000)
def _hanzi_options(ch: str) -> tuple[str, ...]:
    """Folded toneless readings of one hanzi, all of them (柏 is bai, and bo in names: Po-han)."""
    from pypinyin import Style, pinyin

    options = pinyin(ch, style=Style.NORMAL, heteronym=True, errors="ignore")
    return tuple(sorted({k for o in (options[0] if options else ()) if (k := fold("zh", o))}))


@lru_cache(maxsize=200_000)
def hanzi_reads_as(name: str, key: str) -> bool:
    """Whether a Chinese given name in hanzi can be read as a romanized name's folded key
    (fold('zh', ...)) with any reading of each character, not only the most common one."""
    chars = [c for c in name if _HAN.match(c)]
    if not chars or not key or len(chars) > 4:
        return False
    found = {""}
    for ch in chars:  # doubled letters fold to one across syllables, as in `fold`
        found = {_single(f + o) for f in found for o in _hanzi_options(ch)}
        found = {f for f in found if key.startswith(f)}
        if not found:
            return False
    return key in found


def _single(text: str) -> str:
    return re.sub(r"(.)\1+", r"\1", text)


# Family names whose reading differs from the character's most common reading (pypinyin reads
# the character as a word). Hand-written from the standard surname readings.
_ZH_SURNAME = {
    "曾": "zeng", "单": "shan", "單": "shan", "解": "xie", "仇": "qiu", "区": "ou", "區": "ou",
    "查": "zha", "朴": "piao", "乐": "yue", "樂": "yue", "覃": "qin", "缪": "miao", "繆": "miao",
    "盖": "ge", "蓋": "ge", "华": "hua", "華": "hua", "任": "ren", "沈": "shen", "翟": "zhai",
    "秘": "bi", "长": "chang", "長": "chang", "重": "chong", "种": "chong",
    "尉": "yu", "万": "wan", "萬": "wan", "石": "shi", "车": "che", "車": "che", "隗": "wei",
    "员": "yun", "員": "yun", "祭": "zhai", "黑": "he", "宿": "su", "褚": "chu", "贲": "ben",
}  # fmt: skip


def hanzi_pinyin(text: str, family: bool = False) -> str:
    """Toneless pinyin of hanzi (simplified or traditional); surname readings for family names."""
    from pypinyin import Style, lazy_pinyin

    chars = [c for c in text if _HAN.match(c)]
    if not chars:
        return ""
    first = _ZH_SURNAME.get(chars[0]) if family else None
    sy = lazy_pinyin("".join(chars), style=Style.NORMAL, errors="ignore", v_to_u=True)
    if first and sy:
        sy[0] = first
    return " ".join(sy)


@lru_cache(maxsize=100_000)
def reading(text: str, lang: str, family: bool = False) -> str | None:
    """The Latin reading of one native name part in one language (unfolded), or None."""
    sc = script_of(text)
    if lang == "ko" and sc == HANGUL:
        return hangul_rr(text) or None
    if lang == "ja" and sc in (KANA, HAN):
        kana = text if not _HAN.search(text) else kanji_kana(text)
        return kana_romaji(kana) if kana else None
    if lang == "zh" and sc == HAN:
        return hanzi_pinyin(text, family) or None
    return None


# --- folds: one key per language for all spellings of one name ------------------------------
def _ascii_letters(text: str) -> str:
    s = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in s if "a" <= c <= "z")


_KO_RULES = [
    (r"^(?:rh|lh)", "r"),  # Rhee, Rhie
    (r"r(?=[^aeiouwy]|$)", ""),  # Park, Hur: an English r that is not pronounced
    (r"(?<=[aeiouwy])h(?=[^aeiouwy]|$)", ""),  # Ahn, Oh, Suh, Noh, Uhm
    (r"sh", "s"),  # Shin / Sin
    (r"tch|ch|c", "j"),  # Chung / Jung, Choi / Joe (MR aspiration is not kept apart)
    (r"k", "g"),  # Kim / Gim, Kang / Gang, Kwon / Gwon
    (r"p", "b"),  # Park / Bak, Paik / Baek
    (r"t", "d"),  # Tae / Dae
    (r"eui|ui", "i"),  # Hui / Hee / Heui
    # Jeong / Jung, Seong / Sung, Yoon / Yun, Young / Yeong (not Jae-u); 'eu' stays: Seung (승)
    # and Sung (성) are two names, which people spell apart
    (r"(?<!a)eo|oo|ou", "u"),
    (r"ee|ie|yi", "i"),  # Lee / I, Rhie, Yi
    (r"oi", "oe"),  # Choi / Choe
    (r"ai|ea", "ae"),  # Paik / Baek, Chea / Chae
    (r"wu", "u"),  # Woo / U
    (r"^[lr](?=[iy])", ""),  # Lee / Yi, Lim / Im, Ryu / Yu: an initial r before i or y is silent
    (r"^[lr]", "n"),  # Roh / Noh, Ra / Na
    (r"^y(?=i)", ""),
    (r"(.)\1+", r"\1"),  # doubled letters: Ssang, Jinn, Hanna
]
_JA_RULES = [
    (r"(?<![sc])hu", "fu"),  # Kunrei hu / Hepburn fu
    (r"(?<!s)si", "shi"),
    (r"ti", "chi"),
    (r"tu", "tsu"),
    (r"zi|di", "ji"),
    (r"du", "zu"),
    (r"sy(?=[aou])", "sh"),
    (r"ty(?=[aou])|cy(?=[aou])", "ch"),
    (r"[zjd]y(?=[aou])", "j"),
    (r"m(?=[bpm])", "n"),  # Homma / Honma, Namba / Nanba
    (r"(?<=o)h(?=[^aeiouy]|$)", ""),  # Satoh, Ohno
    (r"(?<=u)h(?=[^aeiouy]|$)", ""),  # Yuhki
    (r"ou|oo", "o"),  # Satou, Oono: long o
    (r"wo", "o"),
    (r"l", "r"),
    # voicing inside a name (rendaku) is read either way by dictionaries and people alike:
    # Nakata / Nakada, Hagiwara / Hagihara, Watabe; so voiced and voiceless fold together
    (r"(?<=.)d", "t"),
    (r"(?<=.)g", "k"),
    (r"(?<=.)z", "s"),
    (r"(?<=.)[bw]", "h"),
    (r"(.)\1+", r"\1"),  # long vowels (uu, ii, aa) and doubled consonants (Hattori / Hatori)
]
_ZH_RULES = [
    (r"(?:sz|ss)u", "si"),  # Wade-Giles ssu / szu = si
    (r"tzu", "zi"),
    (r"hs", "x"),  # Hsu / Xu
    (r"ts|tz", "z"),  # Tsai / Cai (aspiration not kept apart, see below)
    (r"ch|zh|q", "j"),  # Chang / Zhang, Chiang / Jiang, Ch'in / Qin
    (r"c", "z"),
    (r"r", "j"),  # Wade-Giles j = pinyin r (Jen / Ren)
    (r"k", "g"),  # Kuo / Guo
    (r"p", "b"),
    (r"t", "d"),
    (r"ih(?=[^aeiou]|$)", "i"),  # Shih / Shi
    (r"ieh", "ie"),  # Hsieh / Xie
    (r"ien", "ian"),  # Hsien / Xian
    (r"ung", "ong"),  # Chung / Zhong
    (r"uei", "ui"),
    (r"ee", "i"),  # Lee / Li
    (r"yi", "i"),  # I / Yi, Ing / Ying
    (r"yen", "yan"),  # Yen / Yan, Yenting / Yanting (Wade-Giles has no 'yan')
    (r"^you$", "yu"),  # Yu / You
    (r"ueh$", "ue"),  # Hsueh / Xue
    (r"uo", "o"),  # Lo / Luo, Kuo / Guo
    (r"^([gh])e$", r"\1o"),  # Ho / He, Ko / Ge
]
_RULES = {
    "ko": [(re.compile(a), b) for a, b in _KO_RULES],
    "ja": [(re.compile(a), b) for a, b in _JA_RULES],
    "zh": [(re.compile(a), b) for a, b in _ZH_RULES],
}


@lru_cache(maxsize=200_000)
def fold(lang: str, text: str | None) -> str | None:
    """The phonetic key of a Latin spelling (or a reading) of a name part in one language."""
    if not text:
        return None
    if lang == "zh":  # syllable boundaries matter for 'ih' and 'szu': fold word by word
        return (
            re.sub(r"(.)\1+", r"\1", "".join(_fold_word("zh", w) for w in text_words(text))) or None
        )
    return _fold_word(lang, _ascii_letters(text)) or None


def text_words(text: str) -> list[str]:
    return [w for w in (_ascii_letters(x) for x in re.split(r"[\s\-'’.]+", text)) if w]


def _fold_word(lang: str, word: str) -> str:
    s = word
    for pat, rep in _RULES[lang]:
        s = pat.sub(rep, s)
    return s


# Common family names, most frequent first, to tell family-first from given-first Latin
# spellings ("Kim Min Jun" vs "Min Jun Kim"). Korean: Statistics Korea 2015 census order;
# Chinese: the usual "most common surnames" order. Folded through the same readings as data.
_KO_FAMILY = (
    "김이박최정강조윤장임한오서신권황안송전홍유고문양손배백허남심노하곽성차주우구민류나진지"
    "엄채원천방공현함변염여추도소석선설마길연위표명기반라왕금옥육인맹제모탁국어은편용예경봉"
)
_ZH_FAMILY = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤"
)


@lru_cache(maxsize=1)
def _family_rank() -> dict[str, dict[str, int]]:
    ranks: dict[str, dict[str, int]] = {"ko": {}, "zh": {}}
    for r, ch in enumerate(_KO_FAMILY):
        k = fold("ko", hangul_rr(ch))
        if k:
            ranks["ko"].setdefault(k, r)
    for r, ch in enumerate(_ZH_FAMILY):
        k = fold("zh", hanzi_pinyin(ch, family=True))
        if k:
            ranks["zh"].setdefault(k, r)
    # the spellings a romanization table cannot produce (Lee from 이, Park from 박) fold to the
    # same key as the reading, which is what the folds are for; nothing to add here
    return ranks


def family_rank(lang: str) -> dict[str, int]:
    """Rank (0 = most common) of common family names by their key; empty for Japanese."""
    return _family_rank().get(lang, {})


def latin_keys(
    lang: str, given: str | None, family: str | None
) -> tuple[str | None, str | None, str | None, str | None]:
    """(family key, given key, whole name last word first, whole name as written) of a Latin
    name in one language.

    The matcher's split is given-first ("Minjun Kim" -> family 'kim'); East Asian names are
    also written family-first ("Kim Min Jun"). When the first word is a common family name of
    the language and the last word is not (or is a rarer one), the first word is the family.
    The whole-name keys read the name family-first both ways, so that either spelling meets
    the native name's family-first reading. Words are folded one part at a time (cached: the
    same given and family names repeat across records).
    """
    words = [*(given or "").split(), *(family or "").split()]
    if not words:
        return None, None, None, None
    if len(words) == 1:
        k = fold(lang, words[0])
        return (k, None, None, None) if family else (None, k, None, None)
    first, last = fold(lang, words[0]), fold(lang, words[-1])
    rest_a, rest_b = fold(lang, " ".join(words[:-1])), fold(lang, " ".join(words[1:]))
    ka = last + rest_a if last and rest_a else None
    kb = first + rest_b if first and rest_b else None
    rank = family_rank(lang)
    if rank:
        rf, rl = rank.get(first or ""), rank.get(last or "")
        if rf is not None and (rl is None or rf < rl):
            return first, rest_b, ka, kb
    return last, rest_a, ka, kb


def native_full_key(lang: str, given: str | None, family: str | None) -> str | None:
    """Key of a whole native name, family first, read in one language."""
    fk, gk = native_keys(lang, given, family)
    return fk + gk if fk and gk else None


@lru_cache(maxsize=100_000)
def ja_family_split(whole: str) -> tuple[str, str] | None:
    """(family, given) of a kanji name written without a space, where UniDic tags the first
    word as a family name (五十嵐幸紀男 -> 五十嵐 + 幸紀男); None when it does not."""
    words = list(_tagger()(whole))
    if len(words) < 2 or getattr(words[0].feature, "pos4", None) != "姓":
        return None
    family = words[0].surface
    return (family, whole[len(family) :]) if whole.startswith(family) else None


def native_keys(lang: str, given: str | None, family: str | None) -> tuple[str | None, str | None]:
    """(family key, given key) of a native-script name (family and given already split).

    The matcher splits an unspaced kanji name by length (two characters of family name from
    four characters on); for the Japanese reading, UniDic's family-name tag decides instead.
    """
    if lang == "ja" and family and given and _HAN.search(family + given):
        split = ja_family_split(family + given)
        if split:
            family, given = split
    fk = fold(lang, reading(family, lang, family=True)) if family else None
    gk = fold(lang, reading(given, lang)) if given else None
    return fk, gk


# Two-syllable Korean and two-character Chinese family names (the others are one syllable).
_FAMILY2 = {
    "남궁", "황보", "제갈", "선우", "독고", "사공", "서문", "동방",
    "欧阳", "歐陽", "司马", "司馬", "上官", "诸葛", "諸葛", "东方", "東方", "皇甫", "尉迟", "尉遲",
}  # fmt: skip


def split_native(full: str) -> tuple[str | None, str | None]:
    """(family, given) of a native name written whole: the first word when spaced; else
    UniDic's family-name word for Japanese kanji, one (or a known two) character(s) for Korean
    and Chinese. Kana written without a space cannot be split: all of it is the given name."""
    words = full.split()
    if len(words) > 1:
        return words[0], "".join(words[1:])
    s = full.strip()
    if len(s) < 2:
        return s or None, None
    if script_of(s) == KANA:
        return None, s
    if script_of(s) == HAN:
        split = ja_family_split(s)
        if split and len(s) >= 4:
            return split
    n = 2 if s[:2] in _FAMILY2 else 1
    return s[:n], s[n:]


def name_latn(given: str | None, family: str | None) -> str | None:
    """A readable romanized form of a CJK name, family first, per language: 'ko: gim minjun'.

    Han-only names are shown in both readings ('ja: tanaka taro; zh: tianzhong tailang'),
    since the script alone does not say whether the name is Japanese or Chinese.
    """
    sc = max(script_of(given), script_of(family))
    if sc in (NONE, LATIN):
        return None
    parts = []
    for lang in languages(sc):
        f = reading(family, lang, family=True) if family else None
        g = reading(given, lang) if given else None
        if f or g:
            parts.append(f"{lang}: " + " ".join(x for x in (f, g) if x))
    return "; ".join(parts) or None
