"""Seeded CRM-like contacts with known duplicates, households and same-name strangers.

Hard on purpose, in the ways CRM data is hard and FEBRL is not:
- households: members share surname, street address and home phone but differ in given name and
  email (8% of people belong to another person's household);
- same-name strangers: Korean, Japanese and Chinese name pools are small (as in life), and 3% of
  people copy another person's full name outright;
- company switchboard phones shared by dozens of employees;
- duplicates with typos, nicknames, swapped name order, full-width digits, CJK names with and
  without the space, name only in full_name, Gmail dots/tags, upper case, legal-form variants,
  a new email / phone / address, and missing values;
- B2B exports (`b2b=True`, the default; drawn from a separate random stream so that `b2b=False`
  gives the earlier data set exactly): colleagues on their company's switchboard number and
  email domain, some of them writing from the company's shared role inbox (info@, office@,
  sales@), and phone cells that Excel turned into 3.60E+11 (the digits are gone).

`generate(n, seed)` returns (contacts, entity) where contacts has canonical contact columns
(raw, as a source would hand them) and entity is the true person id per record.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from faker.providers.person.en_US import Provider as EnNames
from faker.providers.person.ja_JP import Provider as JaNames
from faker.providers.person.ko_KR import Provider as KoNames
from faker.providers.person.zh_CN import Provider as ZhNames

LOCALES = ("en", "ko", "ja", "zh")
LOCALE_P = (0.6, 0.15, 0.15, 0.10)
NICK = {
    "robert": "bob",
    "william": "bill",
    "elizabeth": "liz",
    "michael": "mike",
    "james": "jim",
    "richard": "rick",
    "thomas": "tom",
    "christopher": "chris",
    "jennifer": "jen",
    "katherine": "kate",
    "margaret": "maggie",
    "joseph": "joe",
    "daniel": "dan",
    "matthew": "matt",
    "anthony": "tony",
    "patricia": "pat",
    "steven": "steve",
    "andrew": "andy",
    "jessica": "jess",
    "samantha": "sam",
}
FREE = {
    "en": ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com"],
    "ko": ["naver.com", "daum.net", "gmail.com"],
    "ja": ["yahoo.co.jp", "gmail.com", "docomo.ne.jp"],
    "zh": ["qq.com", "163.com", "126.com"],
}
CC = {"en": "1", "ko": "82", "ja": "81", "zh": "86"}
COUNTRY = {"en": "US", "ko": "KR", "ja": "JP", "zh": "CN"}
SUFFIX = [("Street", "St"), ("Road", "Rd"), ("Avenue", "Ave"), ("Drive", "Dr"), ("Lane", "Ln")]
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
SYL = [
    "ka",
    "ri",
    "to",
    "mo",
    "na",
    "su",
    "ve",
    "lo",
    "pi",
    "ra",
    "ze",
    "tu",
    "mi",
    "do",
    "sa",
    "ne",
    "bo",
    "li",
]
KANA = "アイウエオカキクケコサシスセソタチツテトナニヌネノ"
HAN = "华为联想腾讯阿里巴百度京东小米美团新浪网易"
HANGUL = "삼성현대엘지롯데한화두산코오롱신세계"


def _pool(names: object) -> list[str]:
    return list(dict.fromkeys(names))  # type: ignore[call-overload]


POOLS = {
    "en": (_pool(EnNames.first_names), _pool(EnNames.last_names)),
    "ko": (_pool(KoNames.first_names), _pool(KoNames.last_names)),
    "ja": (_pool(JaNames.first_names), _pool(JaNames.last_names)),
    "zh": (_pool(ZhNames.first_names), _pool(ZhNames.last_names)),
}


def _zipf(rng: np.random.Generator, k: int, size: int, s: float) -> np.ndarray:
    p = 1.0 / np.arange(1, k + 1) ** s
    return rng.choice(k, size=size, p=p / p.sum())


def _typo(rng: np.random.Generator, s: str) -> str:
    if len(s) < 3 or not s.isascii():
        return s
    k = int(rng.integers(1, len(s) - 1))
    op = rng.integers(0, 3)
    if op == 0:
        return s[:k] + s[k + 1 :]
    if op == 1:
        return s[:k] + s[k + 1] + s[k] + s[k + 2 :]
    return s[:k] + "aeiourstln"[int(rng.integers(0, 10))] + s[k + 1 :]


def _companies(rng: np.random.Generator, n: int) -> pd.DataFrame:
    loc = rng.choice(len(LOCALES), size=n, p=LOCALE_P)
    names, domains, phones = [], [], []
    for c in range(n):
        lc = LOCALES[loc[c]]
        if lc == "en":
            base = "".join(rng.choice(SYL, size=3)).capitalize()
        elif lc == "ja":
            base = "".join(rng.choice(list(KANA), size=4))
        elif lc == "ko":
            base = "".join(rng.choice(list(HANGUL), size=3))
        else:
            base = "".join(rng.choice(list(HAN), size=3))
        names.append(base + str(c) if lc == "en" else base + "".join(rng.choice(list(KANA), 2)))
        domains.append(f"co{c}.example.com")
        phones.append(f"+{CC[lc]}{rng.integers(200000000, 999999999)}")
    return pd.DataFrame({"name": names, "domain": domains, "phone": phones, "locale": loc})


def _company_variant(rng: np.random.Generator, name: str, lc: str) -> str:
    r = rng.random()
    if lc == "en":
        return [name, f"{name} Inc", f"{name}, Inc.", f"{name} LLC", name.upper()][int(r * 5)]
    if lc == "ja":
        return [f"株式会社{name}", f"{name}株式会社", f"{name}(株)", f"㈱{name}"][int(r * 4)]
    if lc == "ko":
        return [f"주식회사 {name}", f"(주){name}", f"{name}㈜", name][int(r * 4)]
    return [f"{name}有限公司", name, f"{name}股份有限公司"][int(r * 3)]


def _phone_format(rng: np.random.Generator, e164: str, lc: str) -> str:
    nat = e164[1 + len(CC[lc]) :]
    r = rng.random()
    if r < 0.35:
        return e164
    if r < 0.6:
        return f"+{CC[lc]} {nat[:3]}-{nat[3:6]}-{nat[6:]}"
    if r < 0.75:
        return (
            f"({nat[:3]}) {nat[3:6]} {nat[6:]}"
            if lc == "en"
            else f"0{nat[:2]}-{nat[2:6]}-{nat[6:]}"
        )
    if r < 0.85:
        return e164.translate(FULLWIDTH)
    return f"+{CC[lc]}{nat}".replace("+", "00", 1) if lc != "en" else f"1-{nat[:3]}-{nat[3:]}"


ROLE_INBOXES = ("info", "office", "sales", "contact")


def generate(n: int, seed: int = 42, b2b: bool = True) -> tuple[pd.DataFrame, np.ndarray]:
    """About n contact records; returns (contacts, entity id per record)."""
    rng = np.random.default_rng(seed)
    n_people = int(n / 1.43)
    loc = rng.choice(len(LOCALES), size=n_people, p=LOCALE_P)
    first = np.empty(n_people, dtype=object)
    last = np.empty(n_people, dtype=object)
    for li, lc in enumerate(LOCALES):
        sel = np.flatnonzero(loc == li)
        fp, lp = POOLS[lc]
        first[sel] = np.array(fp, dtype=object)[_zipf(rng, len(fp), len(sel), 0.8)]
        last[sel] = np.array(lp, dtype=object)[_zipf(rng, len(lp), len(sel), 0.7)]
    # same-name strangers: copy another person's full name (same locale)
    copy = np.flatnonzero(rng.random(n_people) < 0.03)
    for p in copy:
        q = int(rng.integers(0, n_people))
        if loc[q] == loc[p] and q != p:
            first[p], last[p] = first[q], last[q]
    # addresses and phones of each person
    street_no = rng.integers(1, 999, n_people)
    street = rng.integers(0, max(n_people // 20, 50), n_people)
    suffix = rng.integers(0, len(SUFFIX), n_people)
    city = rng.integers(0, 2000, n_people)
    postcode = (city * 7 + rng.integers(0, 5, n_people)) % 100000
    mobile = rng.integers(100000000, 999999999, n_people)
    # households: 8% of people join another person's household
    hh = np.flatnonzero(rng.random(n_people) < 0.08)
    head = rng.integers(0, n_people, len(hh))
    home = np.full(n_people, -1, np.int64)
    ok = head != hh
    hh, head = hh[ok], head[ok]
    home[head] = rng.integers(100000000, 999999999, len(head))
    loc[hh] = loc[head]
    last[hh] = last[head]
    street_no[hh], street[hh], suffix[hh] = street_no[head], street[head], suffix[head]
    city[hh], postcode[hh] = city[head], postcode[head]
    home[hh] = home[head]
    for p, h in zip(hh.tolist(), head.tolist(), strict=True):
        pool = POOLS[LOCALES[loc[p]]][0]
        while first[p] == first[h]:
            first[p] = pool[int(rng.integers(0, len(pool)))]
    # employers: 35% of people; company sizes are skewed (a few large switchboards)
    comps = _companies(rng, max(n_people // 40, 20))
    employer = np.where(rng.random(n_people) < 0.35, _zipf(rng, len(comps), n_people, 1.1), -1)
    # emails: from the name for Latin names, a handle for CJK names; unique per person
    emails = np.empty(n_people, dtype=object)
    for p in range(n_people):
        lc = LOCALES[loc[p]]
        if employer[p] >= 0 and rng.random() < 0.4:
            dom = comps.domain[employer[p]]
        else:
            dom = FREE[lc][int(rng.integers(0, len(FREE[lc])))]
        if lc == "en":
            f, la = first[p].lower(), last[p].lower()
            r = rng.random()
            local = f"{f}.{la}" if r < 0.4 else (f"{f[0]}{la}" if r < 0.7 else f"{f}{la}")
            if rng.random() < 0.5:
                local += str(int(rng.integers(1, 99)))
        else:
            local = "".join(rng.choice(list("abcdefghijkmnprstuvwxyz"), 3)) + str(
                int(rng.integers(10, 9999))
            )
        emails[p] = f"{local}@{dom}"
    dup = pd.Series(emails).duplicated().to_numpy()
    for p in np.flatnonzero(dup):
        local, _, dom = emails[p].partition("@")
        emails[p] = f"{local}{p}@{dom}"
    # records per person: 1..4
    size = rng.choice(4, size=n_people, p=(0.70, 0.20, 0.07, 0.03)) + 1
    ent = np.repeat(np.arange(n_people), size)
    first_rec = np.r_[True, ent[1:] != ent[:-1]]
    m = len(ent)
    rows: dict[str, list[object]] = {
        k: []
        for k in (
            "first_name",
            "last_name",
            "full_name",
            "email",
            "phone",
            "company",
            "address",
            "city",
            "postal_code",
            "country",
            "source",
            "external_id",
        )
    }
    u = rng.random((m, 16))
    for r in range(m):
        p = int(ent[r])
        lc = LOCALES[loc[p]]
        x = u[r]
        noisy = not first_rec[r]
        f, la = str(first[p]), str(last[p])
        if noisy and lc == "en":
            if x[0] < 0.06:
                f = _typo(rng, f)
            elif x[0] < 0.10 and f.lower() in NICK:
                f = NICK[f.lower()].capitalize()
            if x[1] < 0.05:
                la = _typo(rng, la)
        if noisy and x[2] < 0.03:
            f, la = la, f
        full = None
        if x[3] < 0.2:
            full = (
                f"{la} {f}"
                if lc != "en" and x[4] < 0.5
                else (f"{la}{f}" if lc != "en" else f"{f} {la}")
            )
            if lc == "en" and x[4] < 0.2:
                full = full.upper()
            f_out, l_out = None, None
        else:
            f_out, l_out = f, la
            if noisy and x[5] < 0.03:
                f_out = None
        email: str | None = emails[p]
        if noisy:
            if x[6] < 0.08:
                local, _, dom = email.partition("@")  # type: ignore[union-attr]
                email = f"{local}{int(rng.integers(100, 999))}@{FREE[lc][0]}"
            elif x[6] < 0.20:
                email = None
            elif x[6] < 0.30 and email.endswith("@gmail.com"):  # type: ignore[union-attr]
                local = email.split("@")[0]  # type: ignore[union-attr]
                email = f"{local.replace('.', '')}+news@gmail.com"
            elif x[6] < 0.40:
                email = email.upper()  # type: ignore[union-attr]
        e164 = f"+{CC[lc]}{home[p] if home[p] >= 0 and x[7] < 0.6 else mobile[p]}"
        phone: str | None = _phone_format(rng, e164, lc)
        if employer[p] >= 0 and x[8] < 0.3:
            phone = _phone_format(rng, comps.phone[employer[p]], lc)
        if noisy and x[9] < 0.08:
            phone = f"+{CC[lc]}{int(rng.integers(100000000, 999999999))}"
        elif noisy and x[9] < 0.18:
            phone = None
        sfx = SUFFIX[suffix[p]][1 if x[10] < 0.4 else 0]
        addr: str | None = f"{street_no[p]} Street{street[p]} {sfx}"
        cty: str | None = f"City{city[p]}"
        pc: str | None = f"{postcode[p]:05d}"
        if noisy and x[11] < 0.10:
            addr = f"{int(rng.integers(1, 999))} Street{int(rng.integers(0, 10000))} Road"
            cty, pc = f"City{int(rng.integers(0, 2000))}", f"{int(rng.integers(0, 99999)):05d}"
        elif noisy and x[11] < 0.2:
            addr = cty = pc = None
        comp = None
        if employer[p] >= 0 and x[12] < 0.8:
            comp = _company_variant(
                rng, comps.name[employer[p]], LOCALES[comps.locale[employer[p]]]
            )
        src = ("crm", "stripe", "sheet")[int(x[13] * 3)]
        rows["first_name"].append(f_out)
        rows["last_name"].append(l_out)
        rows["full_name"].append(full)
        rows["email"].append(email)
        rows["phone"].append(phone)
        rows["company"].append(comp)
        rows["address"].append(addr)
        rows["city"].append(cty)
        rows["postal_code"].append(pc)
        rows["country"].append(COUNTRY[lc])
        rows["source"].append(src)
        rows["external_id"].append(f"{src}-{r}")
    frame = pd.DataFrame(rows)
    if b2b:
        _b2b(frame, ent, employer, comps, np.random.default_rng([seed, 1]))
    frame.insert(
        0, "record_id", [f"{s}:{e}" for s, e in zip(frame.source, frame.external_id, strict=False)]
    )
    return frame, ent


def _b2b(
    frame: pd.DataFrame,
    ent: np.ndarray,
    employer: np.ndarray,
    comps: pd.DataFrame,
    rng: np.random.Generator,
) -> None:
    """Shared role inboxes and Excel-mangled phones, in place (a separate random stream)."""
    m = len(frame)
    emp = employer[ent]
    u = rng.random((m, 3))
    # 6% of employees' records were entered with the company's role inbox
    role = (emp >= 0) & (u[:, 0] < 0.06)
    box = np.array(ROLE_INBOXES, dtype=object)[(u[:, 1] * len(ROLE_INBOXES)).astype(int)]
    dom = comps["domain"].to_numpy(dtype=object)[np.maximum(emp, 0)]
    frame.loc[role, "email"] = (box + "@" + dom)[role]
    # 3% of phone cells went through Excel as a number: 360123456789 -> 3.60E+11
    phone = frame["phone"].to_numpy(dtype=object)
    for r in np.flatnonzero((u[:, 2] < 0.03) & pd.notna(phone)):
        digits = "".join(ch for ch in str(phone[r]).translate(FULLWIDTH_BACK) if ch.isdigit())
        if digits:
            phone[r] = f"{float(digits):.2E}"
    frame["phone"] = phone


FULLWIDTH_BACK = str.maketrans("０１２３４５６７８９", "0123456789")
