"""Turn the bytes of a text export into text, the way Excel users actually save them.

Excel's plain "CSV" is written in the Windows code page of the PC's locale (cp949, cp932,
gb18030/cp936, big5, cp1252), "CSV UTF-8" carries a BOM and "Unicode Text" is UTF-16LE. Generic
detectors are unreliable on mostly-ASCII CRM files with a few CJK names, so: BOM, then strict
UTF-8, then each legacy code page decoded strictly and scored by how plausible its script is.
`euc_kr` and `shift_jis` are never used: they reject or corrupt characters Windows writes.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from audit.errors import InputError

LEGACY = ("cp949", "cp932", "gb18030", "big5", "cp1252")
# Aliases users type that would corrupt Windows files: use the Windows superset instead.
_SUPERSETS = {
    "euc_kr": "cp949",
    "euc-kr": "cp949",
    "euckr": "cp949",
    "ks_c_5601-1987": "cp949",
    "uhc": "cp949",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "s_jis": "cp932",
    "ms932": "cp932",
    "windows-31j": "cp932",
    "gbk": "gb18030",
    "gb2312": "gb18030",
    "cp936": "gb18030",
    "latin-1": "cp1252",
    "latin1": "cp1252",
    "iso-8859-1": "cp1252",
}
_TLD_HINT = {
    "cp949": re.compile(rb"\.kr\b"),
    "cp932": re.compile(rb"\.jp\b"),
    "gb18030": re.compile(rb"\.cn\b"),
    "big5": re.compile(rb"\.(?:tw|hk)\b"),
}
SAMPLE = 1 << 20  # bytes scored per candidate: enough for any realistic header + rows


@dataclass
class Decoded:
    text: str
    encoding: str  # the codec used, e.g. "utf-8-sig", "cp949", "mixed(utf-8+cp949)"
    warnings: list[str] = field(default_factory=list)


def canonical_codec(name: str) -> str:
    """The codec to use for a user-given encoding name (Windows supersets preferred)."""
    return _SUPERSETS.get(name.strip().lower(), name.strip())


# Hangul syllables common in names, places and everyday words (taken once from the ko_KR
# name/address lists of the faker package); other KS X 1001 syllables score lower.
_COMMON_HANGUL = frozenset(
    "가각간갈감갑강개객거건검겨결경계고곡골공과곽관광괴교구국군굴권귀그극근글금급기길김깨끈끗나낙난날남납낮내냉냐너널네넥넷녀년노녹논농누뉴는능니다닥단달담답닷당대댑"
    "더덕덜데덴델도독동되된두둔듈드든들등디딘딜딩떡라락란람랍랑래랜랩랫략량러레려력련렬령례로록론롬료룡루룩룬룹류률르른름릉리릭린림립링마만말맞매맥머멀메멕멘며면명모"
    "목몬몰몽무문물뮤뮬미믹민밀밍및밑바박반발방배백버번벌범법베벤벨벽변별병보복본볼봇봉부북분불뷰브블비빈빌빛빵사산살삼상색생섀서석선설섬성세섹센셈셉셔션셜셸소속손솔"
    "송쇄쇼수숙순술쉽슈스슬습승시식신실심싱쌍씨아악안알암압앙애앤앱야약얀양어언엄업에엑엔엘여역연열염영예오옥온올와완왕외요용우운울움웅워웍원월웨웹위윈유육윤율융은을"
    "음읍응의이익인일임입있자작잔잘잠장재저적전절점접정제젝조족존종주죽준줄중즈즘증지직진질짐집차착찬찰창채책처척천철첨청체쳐초촉촌총촬최추축춘출충취츠측층치친칠침칭"
    "카캄캐커컨컬컴케코콘콜콩콰쿠쿼큐크큰클키킬킹타탁탄탈탐태택터턴털테텍텐텔템토통투튀트특티틱팅파판팔패퍼펄펌페편평폐포폭폴폼표푸품퓨프픈플피픽핀필핑하학한함합항해"
    "행향허헌험헝헤헨혁현형혜호혼홍화확환활황회획횡효후훈휘휴흐흥희히"
)


def _tier(codec: str, ch: str) -> float:
    """How common a CJK character is in the codec's own standard (1 = core, lower = rare).

    A wrong CJK decoding of another CJK code page lands in the rarely used extension blocks
    (cp932 Japanese read as cp949 gives UHC-extension Hangul such as `뜴뱻`), so the level a
    character sits in separates code pages that decoding alone cannot.
    """
    try:
        b = ch.encode("euc_kr" if codec == "cp949" else "gb2312" if codec == "gb18030" else codec)
    except UnicodeEncodeError:
        return 0.3 if codec == "cp949" else 0.2
    lead = b[0]
    if codec == "cp949":
        return 1.0 if ch in _COMMON_HANGUL else 0.7
    if codec == "gb18030":
        return 1.0 if 0xB0 <= lead <= 0xD7 else 0.7
    if codec == "cp932":
        return 1.0 if 0x88 <= lead <= 0x98 else 0.7 if lead <= 0xEA else 0.5
    return 1.0 if 0xA4 <= lead <= 0xC6 else 0.7  # big5


_SYMBOLS = re.compile("[\u2160-\u217f\u2460-\u24ff\u3200-\u33ff\u2116\u2121]")


def _script_score(codec: str, text: str) -> float:
    """Share of the non-ASCII characters that are plausible for the codec's language.

    A wrong CJK decoding of Western text puts single Han characters between Latin letters
    (`J黵gen`); a wrong cp1252 decoding of CJK text yields runs of accented symbols (`È«±æ`).
    """
    good = total = 0.0
    n = len(text)
    for i, ch in enumerate(text):
        o = ord(ch)
        if o < 0x80:
            continue
        if total >= 20000:
            break
        prev = text[i - 1] if i else ""
        nxt = text[i + 1] if i + 1 < n else ""
        sandwiched = prev.isascii() and prev.isalpha() and nxt.isascii() and nxt.isalpha()
        hangul = 0xAC00 <= o <= 0xD7A3
        kana = 0x3041 <= o <= 0x30FF
        han = 0x4E00 <= o <= 0x9FFF and not sandwiched
        cjk_punct = 0x3000 <= o <= 0x303F or 0xFF01 <= o <= 0xFF5E
        if codec == "cp949":
            ok = _tier(codec, ch) if hangul else 1.0 if cjk_punct else 0.3 if han else 0.0
            ok = ok or (0.8 if _SYMBOLS.match(ch) else 0.0)
        elif codec == "cp932":
            ok = _tier(codec, ch) if han else 1.0 if kana or cjk_punct else 0.0
            ok = ok or (0.6 if 0xFF61 <= o <= 0xFF9F else 1.0 if _SYMBOLS.match(ch) else 0.0)
        elif codec in ("gb18030", "big5"):
            ok = _tier(codec, ch) if han else 1.0 if cjk_punct else 0.0
        else:  # cp1252
            latin = (0xC0 <= o <= 0xFF and o not in (0xD7, 0xF7)) or ch in "€‘’“”–—•…™©®°·"
            ok = 1.0 if latin and (not prev or prev.isascii()) else 0.0
        good += ok
        total += 1.0
    return good / total if total else 0.0


def _rank(data: bytes) -> list[tuple[float, str, str]]:
    """Legacy candidates that decode the sample strictly, best first: (score, codec, text)."""
    sample = data[:SAMPLE]
    # do not cut a multibyte character in half at the sample's end
    cut = sample.rfind(b"\n") if len(data) > SAMPLE else -1
    if cut > 0:
        sample = sample[: cut + 1]
    out = []
    for rank, codec in enumerate(LEGACY):
        try:
            text = sample.decode(codec)
        except UnicodeDecodeError:
            continue
        score = _script_score(codec, text)
        hint = _TLD_HINT.get(codec)
        if hint is not None and hint.search(sample):
            score += 0.05
        out.append((score - rank * 0.001, codec, text))
    out.sort(key=lambda t: -t[0])
    return out


def _looks_binary(data: bytes) -> bool:
    head = data[:65536]
    if not head:
        return False
    controls = sum(head.count(bytes([b])) for b in range(32) if b not in (9, 10, 12, 13))
    return controls / len(head) > 0.05


def _utf16_without_bom(data: bytes) -> str | None:
    head = data[:4096]
    if len(head) < 4:
        return None
    even_nul = head[0::2].count(0) / len(head[0::2])
    odd_nul = head[1::2].count(0) / len(head[1::2])
    if odd_nul > 0.4 and even_nul < 0.05:
        return "utf-16-le"
    if even_nul > 0.4 and odd_nul < 0.05:
        return "utf-16-be"
    return None


def decode(data: bytes, *, encoding: str | None, file: str, where: str = "") -> Decoded:
    """Decode a text export; raises InputError naming the file and the setting to try."""
    setting = f" in {where}" if where else ""
    if encoding:
        codec = canonical_codec(encoding)
        try:
            text = data.decode(codec)
        except LookupError:
            raise InputError(
                f"{file}: unknown encoding {encoding!r}{setting}; use e.g. utf-8, cp949, cp932, "
                "gb18030, big5 or cp1252."
            ) from None
        except UnicodeDecodeError as e:
            best = _rank(data)
            tip = f" (it looks like {best[0][1]})" if best else ""
            raise InputError(
                f"{file}: cannot be decoded as {codec} at byte {e.start}{tip}; "
                f"set a different encoding{setting}."
            ) from None
        return Decoded(text.removeprefix("\ufeff"), codec)
    if data.startswith(b"\xef\xbb\xbf"):
        return _strict(data[3:], "utf-8", "utf-8-sig", file, setting)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        codec = "utf-16-le" if data.startswith(b"\xff\xfe") else "utf-16-be"
        return _strict(data[2:], codec, "utf-16", file, setting)
    u16 = _utf16_without_bom(data)
    if u16:
        return _strict(data, u16, u16, file, setting)
    warnings: list[str] = []
    if b"\x00" in data:
        n = data.count(b"\x00")
        if n / max(len(data), 1) > 0.1 or _looks_binary(data.replace(b"\x00", b"")):
            raise InputError(
                f"{file}: is not a text file (binary content); check that this is the export "
                "you meant, or set format: excel if it is a spreadsheet."
            )
        data = data.replace(b"\x00", b"")
        warnings.append(f"removed {n} NUL byte(s)")
    if _looks_binary(data):
        raise InputError(
            f"{file}: is not a text file (binary content); check that this is the export you "
            "meant, or set format: excel if it is a spreadsheet."
        )
    try:
        return Decoded(data.decode("utf-8"), "utf-8", warnings)
    except UnicodeDecodeError:
        pass
    mixed = _mixed(data)
    if mixed is not None:
        mixed.warnings[:0] = warnings
        return mixed
    ranked = _rank(data)
    for _score, codec, _text in ranked:
        try:
            return Decoded(data.decode(codec), codec, warnings)
        except UnicodeDecodeError:  # the sample decoded but a later byte does not
            continue
    raise InputError(
        f"{file}: cannot be decoded as UTF-8 or a Windows code page; set encoding{setting} "
        "(e.g. encoding: cp949, cp932 or gb18030) or save it again as 'CSV UTF-8'."
    )


def _strict(data: bytes, codec: str, label: str, file: str, setting: str) -> Decoded:
    try:
        return Decoded(data.decode(codec), label)
    except UnicodeDecodeError as e:
        raise InputError(
            f"{file}: starts like {label} but byte {e.start} is invalid; set encoding{setting} "
            "or save the file again."
        ) from None


def _mixed(data: bytes) -> Decoded | None:
    """Files appended from two systems: most lines UTF-8, some in a legacy code page."""
    lines = data.split(b"\n")
    utf8_multibyte = bad = 0
    for line in lines:
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8_multibyte += 1
        except UnicodeDecodeError:
            bad += 1
    if not utf8_multibyte or not bad:
        return None
    legacy_bytes = b"\n".join(ln for ln in lines if not _is_utf8(ln))
    ranked = _rank(legacy_bytes)
    if not ranked:
        return None
    codec = ranked[0][1]
    out = []
    for line in lines:
        try:
            out.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            out.append(line.decode(codec, errors="replace"))
    return Decoded(
        "\n".join(out),
        f"mixed(utf-8+{codec})",
        [f"mixed encodings: {bad} line(s) decoded as {codec}, the rest as UTF-8"],
    )


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def fold_header(name: str) -> str:
    """Header comparison key: BOM/space/quote stripped, NFKC, case-folded, separators unified."""
    s = re.sub(r"<[^>]{1,40}>", "", name.replace("\ufeff", ""))  # Typeform <strong>, <em>
    s = unicodedata.normalize("NFKC", s).strip().strip('"').strip()
    s = s.casefold()
    return re.sub(r"[\s_]+", " ", s)
