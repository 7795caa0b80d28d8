"""Cross-script matching: KR / JP / CN / TW people in native script and in romanization.

    .venv/bin/python tests/benchmarks/bench_match_xscript.py            # 4 x 2,500 people
    .venv/bin/python tests/benchmarks/bench_match_xscript.py --quick    # 4 x 500 people

Names come from tests/benchmarks/data/xscript_names.csv: real pairs of a native name part and a
romanized spelling people use, from independent public lists (Korean names with conventional
romanizations, a Japanese name dataset with its own romaji, a Chinese surname table from
Wikipedia with mainland and Taiwan spellings) plus a few hand-written given names. The
romanized side is never produced by the code under test. The generator only re-spaces and
re-orders it the way people write it (Min Jun / Min-jun / Minjun, family first or last, the
Japanese long vowels of the source's 'satou' written as Satou / Sato / Satoh / Satō).

Each person has a record in the native sheet (kanji or kana for Japanese people) and one in
the CRM in Latin letters, sharing some of phone, email, company and city. Hard negatives are
written the same way: colleagues sharing a family name and a company, namesakes in one city,
family members at one address with one home phone. Pairwise precision / recall over all pairs.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from audit.config import MatchConfig  # noqa: E402
from audit.match import match  # noqa: E402

REGIONS = ("kr", "jp", "cn", "tw")
CITIES = {
    "kr": ["Seoul", "Busan", "Incheon", "Daegu"],
    "jp": ["Tokyo", "Osaka", "Nagoya", "Fukuoka"],
    "cn": ["Beijing", "Shanghai", "Shenzhen", "Chengdu"],
    "tw": ["Taipei", "Taichung", "Kaohsiung", "Tainan"],
}
CC = {"kr": "+82 10", "jp": "+81 90", "cn": "+86 138", "tw": "+886 9"}


def load_names() -> dict[tuple[str, str], list[tuple[str, str, str]]]:
    path = HERE / "data" / "xscript_names.csv"
    lines = (ln for ln in path.open(encoding="utf-8") if not ln.startswith("#"))
    out: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for r in csv.DictReader(lines):
        out.setdefault((r["region"], r["part"]), []).append((r["native"], r["kana"], r["latin"]))
    return out


def _kata(hira: str) -> str:
    return "".join(chr(ord(c) + 0x60) if "\u3041" <= c <= "\u3096" else c for c in hira)


def _spell(region: str, text: str, rng: np.random.Generator) -> str:
    """The source's romanization, spaced, cased and (Japanese) long-voweled as people do."""
    words = text.replace("-", " ").split()
    if region == "jp":
        style = rng.integers(0, 4)
        t = "".join(words)
        if style == 1:
            t = t.replace("ou", "o").replace("oo", "o").replace("uu", "u")
        elif style == 2:
            t = t.replace("ou", "oh").replace("oo", "oh")
        elif style == 3:
            t = t.replace("ou", "ō").replace("oo", "ō").replace("uu", "ū")
        return t.capitalize()
    if len(words) > 1:
        style = rng.integers(0, 3)
        if style == 0:
            return " ".join(w.capitalize() for w in words)
        if style == 1:
            return words[0].capitalize() + "-" + "".join(words[1:]).lower()
        return "".join(words).capitalize()
    return text[:1].upper() + text[1:]


def generate(per_region: int, seed: int) -> tuple[pd.DataFrame, dict[str, str]]:
    rng = np.random.default_rng(seed)
    names = load_names()
    rows: list[dict] = []
    kind: dict[str, str] = {}  # person id -> 'person' / hard negative kind

    def person(
        region: str,
        fam: tuple,
        giv: tuple,
        pid: str,
        company: str,
        city: str,
        phone: str,
        email: str,
        address: str,
        native_kana: bool,
    ) -> None:
        fam_n, fam_k, fam_l = fam
        giv_n, giv_k, giv_l = giv
        if region == "jp" and native_kana and fam_k and giv_k:
            native = f"{_kata(fam_k)} {_kata(giv_k)}"
        else:
            native = fam_n + (" " if rng.random() < 0.3 else "") + giv_n
        f_l, g_l = _spell(region, fam_l, rng), _spell(region, giv_l, rng)
        latin = f"{f_l} {g_l}" if rng.random() < 0.35 else f"{g_l} {f_l}"
        keep = rng.random(6)
        rows.append(
            dict(
                record_id=f"{pid}-n",
                source="sheet",
                full_name=native,
                phone=phone if keep[0] < 0.85 else None,
                email=email if keep[1] < 0.35 else None,
                company=company if keep[2] < 0.8 else None,
                city=city,
                address=address,
                person=pid,
            )
        )
        rows.append(
            dict(
                record_id=f"{pid}-l",
                source="crm",
                full_name=latin,
                phone=phone if keep[3] < 0.55 else None,
                email=email if keep[4] < 0.9 else None,
                company=company if keep[5] < 0.8 else None,
                city=city,
                address=None,
                person=pid,
            )
        )

    def pick(region: str, part: str) -> tuple:
        pool = names[(region, part)]
        return pool[rng.integers(0, len(pool))]

    n = 0
    for region in REGIONS:
        for _ in range(per_region):
            n += 1
            company = f"{region.upper()} Corp {rng.integers(0, per_region // 8 + 1)}"
            city = CITIES[region][rng.integers(0, 4)]
            fam, giv = pick(region, "family"), pick(region, "given")
            r = rng.random()
            base = dict(company=company, city=city, native_kana=rng.random() < 0.4)
            pid = f"p{n}"

            def contact(p: str, g: tuple, region: str = region) -> dict:
                handle = "".join(ch for ch in g[2].lower() if ch.isalpha())[:10]
                return dict(
                    phone=f"{CC[region]} {rng.integers(1000, 9999)} {rng.integers(1000, 9999)}",
                    email=f"{handle}{rng.integers(100, 99999)}@mail{rng.integers(0, 5)}.example",
                )

            person(region, fam, giv, pid, address=None, **base, **contact(pid, giv))
            kind[pid] = "person"
            if r < 0.08:  # a colleague: same family name, same company and city, another person
                q = pid + "c"
                g2 = pick(region, "given")
                if g2[0] != giv[0]:
                    person(region, fam, g2, q, address=None, **base, **contact(q, g2))
                    kind[q] = "colleague"
            elif r < 0.14:  # a namesake in the same city, another company
                q = pid + "s"
                person(
                    region,
                    fam,
                    giv,
                    q,
                    address=None,
                    **{**base, "company": f"{region.upper()} Group {rng.integers(0, 99)}"},
                    **contact(q, giv),
                )
                kind[q] = "namesake"
            elif r < 0.20:  # family members at one address with one home phone
                q = pid + "f"
                g2 = pick(region, "given")
                if g2[0] != giv[0]:
                    home = f"{CC[region]} 2{rng.integers(100, 999)} {rng.integers(1000, 9999)}"
                    addr = f"{rng.integers(1, 300)} {city} road"
                    rows[-2]["phone"] = rows[-1]["phone"] = home
                    rows[-2]["address"] = addr
                    c2 = contact(q, g2)
                    person(
                        region,
                        fam,
                        g2,
                        q,
                        address=addr,
                        **{**base, "company": None},
                        email=c2["email"],
                        phone=home,
                    )
                    kind[q] = "family"
    df = pd.DataFrame(rows)
    return df, kind


def evaluate(pairs: pd.DataFrame, truth: pd.Series, kinds: pd.Series, bands: tuple) -> dict:
    sel = pairs[pairs["band"].isin(bands)]
    pl = truth.reindex(sel["record_id_l"]).to_numpy()
    pr = truth.reindex(sel["record_id_r"]).to_numpy()
    tp = int((pl == pr).sum())
    sizes = truth.value_counts().to_numpy()
    n_true = int((sizes * (sizes - 1) // 2).sum())
    p = tp / len(sel) if len(sel) else 1.0
    r = tp / n_true if n_true else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    # hard negatives: a pair joining a person to their colleague / namesake / family member
    fp = sel[pl != pr]
    base_l = pd.Series(pl[pl != pr]).str.rstrip("csf")
    base_r = pd.Series(pr[pl != pr]).str.rstrip("csf")
    hard = fp[(base_l == base_r).to_numpy()]
    hk = kinds.reindex(truth.reindex(hard["record_id_r"]).to_numpy()).fillna("?")
    hk2 = kinds.reindex(truth.reindex(hard["record_id_l"]).to_numpy()).fillna("?")
    hard_kinds = pd.concat([hk[hk != "person"], hk2[hk2 != "person"]]).value_counts().to_dict()
    return dict(
        pairs=len(sel),
        tp=tp,
        true=n_true,
        p=p,
        r=r,
        f1=f1,
        fp=len(fp),
        hard=len(hard),
        hard_kinds=hard_kinds,
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-region", type=int, default=2500)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    per = 500 if args.quick else args.per_region
    df, kinds = generate(per, args.seed)
    truth = pd.Series(df["person"].to_numpy(), index=df["record_id"].to_numpy())
    kinds_s = pd.Series(kinds)
    t = time.perf_counter()
    m = match(df.drop(columns=["person"]), MatchConfig())
    wall = time.perf_counter() - t
    n_hard = int((kinds_s != "person").sum())
    print(
        f"{len(df):,} records ({per:,} people per region, {n_hard:,} hard negatives); "
        f"match {wall:.2f} s"
    )
    for label, bands in (("auto", ("auto",)), ("auto+review", ("auto", "review"))):
        e = evaluate(m.pairs, truth, kinds_s, bands)
        print(
            f"  {label:12s} precision {e['p']:.4f} recall {e['r']:.4f} F1 {e['f1']:.4f} "
            f"({e['tp']:,} of {e['pairs']:,} pairs true; {e['true']:,} true pairs); "
            f"hard negatives inside: {e['hard']} {e['hard_kinds']}"
        )
    # recall of the cross-script true pairs (a person's native record and romanized record)
    pairs = m.pairs
    found = set(zip(pairs["record_id_l"], pairs["record_id_r"], strict=True))
    is_auto = pairs["band"] == "auto"
    auto = set(
        zip(pairs.loc[is_auto, "record_id_l"], pairs.loc[is_auto, "record_id_r"], strict=True)
    )
    region_of = {f"p{k * per + p}": r for k, r in enumerate(REGIONS) for p in range(1, per + 1)}
    rec = df.set_index("record_id")
    stats: dict[str, list[int]] = {r: [0, 0, 0] for r in ("all", *REGIONS, "with contact")}
    for pid in kinds:
        pair = (f"{pid}-l", f"{pid}-n")  # record ids sort l < n
        a, b = rec.loc[pair[0]], rec.loc[pair[1]]
        shared = any(pd.notna(a[c]) and a[c] == b[c] for c in ("phone", "email", "company"))
        keys = ["all", region_of[pid.rstrip("csf")]] + (["with contact"] if shared else [])
        for key in keys:
            stats[key][0] += 1
            stats[key][1] += pair in found
            stats[key][2] += pair in auto
    # 'with contact': the pairs that share a phone, an email or a company, not just name + city
    for key, (tot, rev, au) in stats.items():
        print(
            f"  cross-script true pairs {key:12s}: {tot:6,}  recall auto+review {rev / tot:.4f}  "
            f"auto {au / tot:.4f}"
        )


if __name__ == "__main__":
    main()
