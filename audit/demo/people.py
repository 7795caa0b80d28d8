"""The true population behind the demo: one row per real person, before any source mangles it.

Every export row the demo writes is a view of one of these persons, so the ground truth of who is
who comes for free. Households (same surname, address and home phone, different first names) and
namesakes (same full name, nothing else shared) are separate persons on purpose: a matcher that
merges them is wrong.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from audit.demo import names as nm

AS_OF = pd.Timestamp("2026-10-31")
START = pd.Timestamp("2021-01-04")

LIFECYCLES = [
    "Subscriber", "Lead", "Marketing Qualified Lead", "Sales Qualified Lead", "Opportunity",
    "Customer", "Evangelist",
]  # fmt: skip
LIFECYCLE_WEIGHTS = [0.08, 0.22, 0.12, 0.1, 0.12, 0.32, 0.04]

# share of persons whose address goes stale, by how (see truth/README.md)
STALE_SHARES = {
    "hard_bounce": 0.03,
    "soft_bounce": 0.015,
    "cleaned": 0.03,
    "inactive": 0.04,
    "near_inactive": 0.015,
    "disposable": 0.01,
    "role": 0.015,
    "typo_domain": 0.015,
}
HOUSEHOLD_SHARE = 0.03
NAMESAKE_SHARE = 0.02


def rng_for(seed: int, purpose: str) -> np.random.Generator:
    """An independent stream per purpose, so adding one feature does not reshuffle the others."""
    return np.random.default_rng([seed, zlib.crc32(purpose.encode())])


def pick(rng: np.random.Generator, items: list, n: int, p: list[float] | None = None) -> list:
    idx = rng.choice(len(items), size=n, p=None if p is None else np.asarray(p) / np.sum(p))
    return [items[i] for i in idx]


def _digits(rng: np.random.Generator, n: int, k: int, first_min: int = 0) -> list[str]:
    first = rng.integers(first_min, 10, size=n)
    rest = rng.integers(0, 10 ** (k - 1), size=n)
    return [f"{a}{b:0{k - 1}d}" for a, b in zip(first, rest, strict=True)]


US_AREAS = ["212", "415", "646", "312", "617", "206", "512", "303", "404", "305", "213", "702"]


def make_phones(rng: np.random.Generator, countries: list[str], landline: np.ndarray) -> list[str]:
    """Dashed national numbers ('010-1234-5678', '(415) 823-4412') that phonenumbers accepts."""
    n = len(countries)
    a4, b4 = _digits(rng, n, 4, 2), _digits(rng, n, 4)
    a3 = _digits(rng, n, 3, 2)
    jp_mob = pick(rng, ["090", "080", "070"], n)
    cn_mob = pick(rng, ["138", "139", "137", "150", "151", "186", "188", "135"], n)
    cn_tail = [f"{int(t[0]) % 6 + 2}{t[1:]}" for t in _digits(rng, n, 8, 2)]  # 021-8xx: service
    us_area = pick(rng, US_AREAS, n)
    out = []
    for i, c in enumerate(countries):
        if c == "KR":
            mid = a4[i] if not a4[i].startswith("59") else "6" + a4[i][1:]  # 010-59xx is unassigned
            out.append(f"02-{a3[i]}-{b4[i]}" if landline[i] else f"010-{mid}-{b4[i]}")
        elif c == "JP":
            out.append(f"03-{a4[i]}-{b4[i]}" if landline[i] else f"{jp_mob[i]}-{a4[i]}-{b4[i]}")
        elif c == "CN":
            out.append(f"021-{cn_tail[i]}" if landline[i] else f"{cn_mob[i]} {a4[i]} {b4[i]}")
        else:
            exch = a3[i] if not a3[i].endswith("11") else a3[i][:2] + "2"
            out.append(f"({us_area[i]}) {exch}-{b4[i]}")
    return out


def intl_phone(country: str, national: str) -> str:
    """'+82 10-1234-5678' from ('KR', '010-1234-5678')."""
    cc = nm.CALLING_CODE[country]
    if country == "US":
        digits = "".join(ch for ch in national if ch.isdigit())
        return f"+1 {digits[:3]}-{digits[3:6]}-{digits[6:]}"
    body = national[1:] if national.startswith("0") else national
    return f"+{cc} {body}"


def e164(country: str, national: str) -> str:
    digits = "".join(ch for ch in intl_phone(country, national) if ch.isdigit())
    return "+" + digits


def _email_locals(rng: np.random.Generator, given: list[str], family: list[str]) -> list[str]:
    n = len(given)
    pattern = rng.integers(0, 6, size=n)
    num = rng.integers(1, 99, size=n)
    out = []
    for i in range(n):
        g, f = given[i], family[i]
        out.append(
            (
                f"{g}.{f}",
                f"{g}{f}",
                f"{g[0]}{f}",
                f"{g}_{f}",
                f"{f}.{g}",
                f"{g}{num[i]:02d}",
            )[pattern[i]]
        )
    return out


def build_people(n: int, seed: int) -> pd.DataFrame:
    """The population: `n` persons, households and namesakes included, with their stale flags."""
    rng = rng_for(seed, "people")
    n_house = int(n * HOUSEHOLD_SHARE)
    n_same = int(n * NAMESAKE_SHARE)
    n_base = max(n - n_house - n_same, 1)
    loc = pick(rng, list(nm.LOCALES), n_base, list(nm.LOCALE_WEIGHTS))
    given, family, given_rom, family_rom = [], [], [], []
    gi = rng.random(n_base)
    fi = rng.random(n_base)
    for i, lc in enumerate(loc):
        g_list, f_list = nm.NAMES[lc]
        g = g_list[int(gi[i] * len(g_list))]
        if lc == "ko":
            w = np.cumsum(nm.KO_FAMILY_WEIGHTS) / sum(nm.KO_FAMILY_WEIGHTS)
            f = f_list[int(np.searchsorted(w, fi[i]))]
        else:
            f = f_list[int(fi[i] * len(f_list))]
        given.append(g[0])
        given_rom.append(g[1])
        family.append(f[0])
        family_rom.append(f[1])
    df = pd.DataFrame(
        {
            "locale": loc,
            "given": given,
            "family": family,
            "given_rom": given_rom,
            "family_rom": family_rom,
        }
    )
    df["country"] = df["locale"].map(nm.COUNTRY)

    # companies: stems x kinds per locale; 75% of persons are at a company
    n_comp = {lc: len(nm.COMPANY_STEMS[lc]) * len(nm.COMPANY_KINDS[lc]) for lc in nm.LOCALES}
    pool_size = {lc: max(3, min(n_comp[lc], n // 6 + 3)) for lc in nm.LOCALES}
    comp_pick = rng.random(n_base)
    form_pick = rng.random(n_base)
    has_company = rng.random(n_base) < 0.75
    company: list[str | None] = []
    company_slug: list[str | None] = []
    company_form: list[str | None] = []
    for i, lc in enumerate(loc):
        if not has_company[i]:
            company.append(None)
            company_slug.append(None)
            company_form.append(None)
            continue
        k = int(comp_pick[i] ** 1.3 * pool_size[lc])
        kinds = nm.COMPANY_KINDS[lc]
        stem, stem_rom = nm.COMPANY_STEMS[lc][k // len(kinds) % len(nm.COMPANY_STEMS[lc])]
        kind, kind_rom = kinds[(k * 7) % len(kinds)]
        forms = nm.LEGAL_FORMS[lc]
        form = forms[(k * 3) % (len(forms) - 1)] if form_pick[i] < 0.97 else forms[-1]
        company.append(form.format(stem + kind))
        company_slug.append(stem_rom + kind_rom)
        company_form.append(form)
    df["company"] = company
    df["company_form"] = company_form
    df["company_domain"] = [
        None if s is None else s + nm.COMPANY_TLD[lc]
        for s, lc in zip(company_slug, loc, strict=True)
    ]
    df["job_title"] = [
        nm.JOB_TITLES[lc][j % len(nm.JOB_TITLES[lc])]
        for lc, j in zip(loc, rng.integers(0, 100, n_base), strict=True)
    ]

    # e-mail: company address for half of the employed, a personal mailbox otherwise
    locals_ = _email_locals(rng, given_rom, family_rom)
    personal = [
        nm.PERSONAL_DOMAINS[lc][j % len(nm.PERSONAL_DOMAINS[lc])]
        for lc, j in zip(loc, rng.integers(0, 1000, n_base), strict=True)
    ]
    use_work = (rng.random(n_base) < 0.55) & has_company
    qq = rng.integers(10_000_000, 2_999_999_999, size=n_base)
    emails = []
    cdom = df["company_domain"].tolist()
    for i in range(n_base):
        if use_work[i]:
            emails.append(f"{locals_[i]}@{cdom[i]}")
        elif personal[i] in ("qq.com",):
            emails.append(f"{qq[i]}@qq.com")
        else:
            emails.append(f"{locals_[i]}@{personal[i]}")
    df["email"] = emails

    landline = rng.random(n_base) < 0.15
    df["phone_landline"] = landline
    df["phone"] = make_phones(rng, list(df["country"]), landline)

    # addresses
    addr_pick = rng.integers(0, 1000, n_base)
    street_no = rng.integers(1, 400, n_base)
    postal_tail = rng.integers(0, 1000, n_base)
    address, city, region, postal = [], [], [], []
    for i, lc in enumerate(loc):
        opts = nm.ADDRESSES[lc]
        reg, dist, street, pre = opts[addr_pick[i] % len(opts)]
        if lc == "en":
            address.append(f"{street_no[i]} {street}")
            city.append(reg)
            region.append(dist)
            postal.append(f"{pre}{postal_tail[i] % 100:02d}")
        elif lc == "ko":
            address.append(f"{reg} {dist} {street} {street_no[i]}")
            city.append(reg)
            region.append(dist)
            postal.append(f"{pre}{postal_tail[i]:03d}")
        elif lc == "ja":
            address.append(f"{reg}{dist}{street}{street_no[i] % 9 + 1}-{street_no[i] % 27 + 1}")
            city.append(dist)
            region.append(reg)
            postal.append(f"{pre}-{postal_tail[i]:04d}")
        else:
            address.append(f"{reg}{dist}{street}{street_no[i]}号")
            city.append(reg)
            region.append(dist)
            postal.append(f"{pre}{postal_tail[i] % 100:02d}")
    df["address"], df["city"], df["region"], df["postal_code"] = address, city, region, postal

    # commercial attributes
    home_rep = {lc: [i for i, h in enumerate(nm.REP_HOME) if h == lc] for lc in nm.LOCALES}
    rep_pick = rng.integers(0, 2, n_base)
    df["owner"] = [nm.REPS[home_rep[lc][r]][0] for lc, r in zip(loc, rep_pick, strict=True)]
    df["lead_source"] = pick(rng, nm.LEAD_SOURCES, n_base, nm.LEAD_SOURCE_WEIGHTS)
    df["lifecycle"] = pick(rng, LIFECYCLES, n_base, LIFECYCLE_WEIGHTS)
    span = (AS_OF - START).days
    created_days = (rng.random(n_base) ** 0.8 * (span - 40)).astype(int)
    created_secs = rng.integers(8 * 3600, 19 * 3600, n_base)
    df["created_at"] = (
        START + pd.to_timedelta(created_days, unit="D") + pd.to_timedelta(created_secs, unit="s")
    )
    # last activity: recent for most; between creation and as_of
    recent = AS_OF - pd.to_timedelta(rng.integers(1, 600, n_base), unit="D")
    df["last_activity_at"] = np.maximum(recent.values, df["created_at"].values)
    df["last_activity_at"] = pd.to_datetime(df["last_activity_at"]) + pd.to_timedelta(
        rng.integers(0, 36000, n_base), unit="s"
    )
    df["household_of"] = None
    df["namesake_of"] = None

    df = pd.concat([df, _households(df, n_house, rng), _namesakes(df, n_same, rng)])
    df = df.reset_index(drop=True)
    df.insert(0, "person_id", [f"P{i + 1:06d}" for i in range(len(df))])
    # link households/namesakes by person_id rather than by position
    for col in ("household_of", "namesake_of"):
        pos = df[col]
        df[col] = [None if p is None or p != p else df["person_id"].iat[int(p)] for p in pos]
    df = _unique_emails(df)
    df = _assign_stale(df, rng_for(seed, "stale"))
    df["is_customer"] = df["lifecycle"].isin(["Customer", "Evangelist"])
    df["full_name"] = [
        full_name(lc, g, f)
        for lc, g, f in zip(df["locale"], df["given"], df["family"], strict=True)
    ]
    return df


def full_name(locale: str, given: str, family: str) -> str:
    """Display name as its owner writes it: CJK family name first (Japanese with a space)."""
    if locale == "en":
        return f"{given} {family}"
    if locale == "ja":
        return f"{family} {given}"
    return f"{family}{given}"


def _households(df: pd.DataFrame, k: int, rng: np.random.Generator) -> pd.DataFrame:
    """Family members: same surname, address and home phone; another first name and mailbox."""
    if k == 0 or len(df) == 0:
        return df.iloc[0:0].copy()
    anchors = rng.choice(len(df), size=min(k, len(df)), replace=False)
    rows = df.iloc[anchors].copy()
    rows["household_of"] = anchors
    new_given = []
    for lc, g in zip(rows["locale"], rows["given"], strict=True):
        opts = [x for x in nm.NAMES[lc][0] if x[0] != g]
        new_given.append(opts[int(rng.integers(0, len(opts)))])
    rows["given"] = [g[0] for g in new_given]
    rows["given_rom"] = [g[1] for g in new_given]
    dom = [e.split("@")[1] for e in rows["email"]]
    rows["email"] = [
        f"{g}.{f}{int(rng.integers(1, 99))}@{d}"
        for g, f, d in zip(rows["given_rom"], rows["family_rom"], dom, strict=True)
    ]
    # the family shares the home (landline) phone: both records carry it
    home = make_phones(rng, list(rows["country"]), np.ones(len(rows), dtype=bool))
    rows["phone"] = home
    rows["phone_landline"] = True
    df.loc[df.index[anchors], "phone"] = home
    df.loc[df.index[anchors], "phone_landline"] = True
    rows["company"], rows["company_domain"], rows["company_form"] = None, None, None
    rows["lifecycle"] = pick(rng, LIFECYCLES, len(rows), LIFECYCLE_WEIGHTS)
    return rows


def _namesakes(df: pd.DataFrame, k: int, rng: np.random.Generator) -> pd.DataFrame:
    """Strangers who share a full name with someone: nothing else in common."""
    if k == 0 or len(df) == 0:
        return df.iloc[0:0].copy()
    anchors = rng.choice(len(df), size=min(k, len(df)), replace=False)
    rows = df.iloc[anchors].copy()
    rows["namesake_of"] = anchors
    # the namesake lives the life of another person of the same language: company, town, ...
    loc = df["locale"].to_numpy()
    by_loc = {lc: np.flatnonzero(loc == lc) for lc in nm.LOCALES}
    others = np.array(
        [
            by_loc[lc][int(r * len(by_loc[lc]))]
            for lc, r in zip(rows["locale"], rng.random(len(rows)), strict=True)
        ]
    )
    for col in (
        "company",
        "company_domain",
        "company_form",
        "job_title",
        "address",
        "city",
        "region",
        "postal_code",
        "owner",
        "lead_source",
        "created_at",
        "last_activity_at",
        "lifecycle",
    ):
        rows[col] = df[col].iloc[others].to_numpy()
    rows["phone"] = make_phones(rng, list(rows["country"]), np.zeros(len(rows), dtype=bool))
    rows["phone_landline"] = False
    dom = [
        nm.PERSONAL_DOMAINS[lc][int(rng.integers(0, len(nm.PERSONAL_DOMAINS[lc])))]
        for lc in rows["locale"]
    ]
    rows["email"] = [
        f"{f}.{g}{int(rng.integers(100, 999))}@{d}"
        for g, f, d in zip(rows["given_rom"], rows["family_rom"], dom, strict=True)
    ]
    return rows


def _assign_stale(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Pick who has a dead or doubtful mailbox, and rewrite their address to match."""
    n = len(df)
    order = rng.permutation(n)
    stale = np.array([None] * n, dtype=object)
    at = 0
    for kind, share in STALE_SHARES.items():
        k = max(1, round(n * share)) if n >= 20 else 0
        stale[order[at : at + k]] = kind
        at += k
    df["stale_kind"] = stale
    emails = df["email"].tolist()
    used = {mailbox_key(e) for e in emails}
    for i in np.flatnonzero(stale != None):  # noqa: E711
        kind = stale[i]
        local, _, dom = emails[i].partition("@")
        before = emails[i]
        if kind == "disposable":
            d = nm.DISPOSABLE_DOMAINS[i % len(nm.DISPOSABLE_DOMAINS)]
            emails[i] = f"{local}@{d}"
        elif kind == "role":
            cdom = df["company_domain"].iat[i]
            cdom = cdom if isinstance(cdom, str) else dom
            emails[i] = f"{nm.ROLE_LOCALS[i % len(nm.ROLE_LOCALS)]}@{cdom}"
        elif kind == "typo_domain":
            # the held-out typos are of global providers; a person of another provider is given
            # a Gmail typo (Gmail is common in every market the demo covers)
            typos = nm.TYPO_DOMAINS.get(dom) or nm.TYPO_DOMAINS["gmail.com"]
            emails[i] = f"{local}@{typos[(i // 7) % len(typos)]}"
        elif kind in ("inactive", "near_inactive"):
            # both sides of the 730-day line: 760 days (stale, half of the inactive) or further
            # back; 700 days is near but inside it (not stale)
            days = 700 if kind == "near_inactive" else 760 if i % 2 else 800 + (i * 37) % 900
            old = days_before(int(days))
            df.iat[i, df.columns.get_loc("last_activity_at")] = old
            if df["created_at"].iat[i] > old:
                df.iat[i, df.columns.get_loc("created_at")] = old - pd.Timedelta(days=200)
        if emails[i] != before:
            if mailbox_key(emails[i]) in used:  # a shared mailbox would make two persons one
                emails[i] = before
                stale[i] = None
            else:
                used.add(mailbox_key(emails[i]))
    df["stale_kind"] = stale
    df["email"] = emails
    return df


def days_before(days: int) -> pd.Timestamp:
    return AS_OF - pd.Timedelta(days=days) + pd.Timedelta(hours=10, minutes=days % 60)


def _unique_emails(df: pd.DataFrame) -> pd.DataFrame:
    """Distinct persons never share a mailbox (Gmail dots and +tags count as the same one):
    a clash gets a number, as mail providers suggest."""
    used: set[str | None] = set()
    out = []
    for e in df["email"].tolist():
        k = mailbox_key(e)
        if k in used:
            local, _, dom = e.partition("@")
            n = 2
            while mailbox_key(f"{local}{n}@{dom}") in used:
                n += 1
            e = f"{local}{n}@{dom}"
            k = mailbox_key(e)
        used.add(k)
        out.append(e)
    df["email"] = out
    return df


GMAIL = ("gmail.com", "googlemail.com")


def mailbox_key(email: object) -> str | None:
    """The mailbox an address reaches: lower-case; Gmail ignores dots and +tags."""
    if not isinstance(email, str) or "@" not in email:
        return None
    local, _, dom = email.strip().lower().rpartition("@")
    if dom in GMAIL:
        local = local.split("+", 1)[0].replace(".", "")
    return f"{local}@{dom}"
