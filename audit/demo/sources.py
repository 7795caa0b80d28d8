"""Writing each export the way its tool writes it: headers, quoting, encodings, date formats.

Each `write_*` function takes the rows of one source (a view of the true persons, already
duplicated and damaged by `problems`) and writes one file. Bulk writes (pandas `to_csv`,
`audit.xlsx`) keep 100k persons fast.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from audit.demo import names as nm
from audit.demo.people import e164, intl_phone, pick
from audit.demo.problems import Planted, make_duplicates, plant_bad_values
from audit.xlsx import Sheet, write_xlsx

CONTACT_COLS = [
    "person_id", "locale", "country", "first_name", "last_name", "full_name", "email", "phone",
    "company", "company_form", "job_title", "address", "city", "region", "postal_code", "owner",
    "lead_source", "lifecycle", "created_at", "last_activity_at", "stale_kind",
]  # fmt: skip


def contact_rows(
    people: pd.DataFrame, idx: np.ndarray, *, region: str, phone_style: str = "local"
) -> pd.DataFrame:
    """Persons `idx` as rows of a source whose home phone region is `region`."""
    p = people.iloc[np.sort(idx)]
    out = pd.DataFrame(
        {
            "person_id": p["person_id"].to_numpy(),
            "locale": p["locale"].to_numpy(),
            "country": p["country"].to_numpy(),
            "first_name": p["given"].to_numpy(),
            "last_name": p["family"].to_numpy(),
            "full_name": p["full_name"].to_numpy(),
            "email": p["email"].to_numpy(),
        }
    )
    phones = []
    for c, ph in zip(p["country"], p["phone"], strict=True):
        if phone_style == "e164":
            phones.append(e164(c, ph))
        elif c == region and phone_style == "local":
            phones.append(ph)
        else:
            phones.append(intl_phone(c, ph))
    out["phone"] = phones
    for c in CONTACT_COLS:
        if c not in out:
            out[c] = p[c].to_numpy()
    return out


def build_contact_source(
    people: pd.DataFrame,
    idx: np.ndarray,
    rng: np.random.Generator,
    *,
    source: str,
    region: str,
    dup_share: float,
    phone_style: str = "local",
    bad_fields: tuple[str, ...] = ("email", "phone", "name", "company"),
    bad_scale: float = 1.0,
) -> Planted:
    """Rows of one contact source: selected persons, re-typed duplicates, damage, shuffled."""
    base = contact_rows(people, idx, region=region, phone_style=phone_style)
    base["variant"] = None
    dups = make_duplicates(base, dup_share, rng)
    rows = pd.concat([base, dups], ignore_index=True)
    rows["uid"] = [f"{source}:{i}" for i in range(len(rows))]
    planted = Planted(rows)
    plant_bad_values(planted, rng, region=region, fields=bad_fields, scale=bad_scale)
    order = rng.permutation(len(rows))
    planted.rows = rows.iloc[order].reset_index(drop=True)
    planted.rows["source_row"] = np.arange(1, len(rows) + 1)
    return planted


def _fmt(ts: pd.Series, fmt: str) -> pd.Series:
    """Timestamps as text in an export's format; missing stays empty."""
    t = pd.to_datetime(ts)
    return t.dt.strftime(fmt).where(t.notna(), None)


def _money(x: pd.Series) -> pd.Series:
    return x.map(lambda v: "" if v is None or v != v else f"{v:,.2f}")


def write_csv(
    frame: pd.DataFrame,
    path: Path,
    *,
    encoding: str = "utf-8",
    quote_all: bool = False,
    crlf: bool = False,
) -> None:
    """One CSV the way a tool writes it: encoding, quoting and line ends are the tool's."""
    text = frame.to_csv(
        index=False,
        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
        lineterminator="\r\n" if crlf else "\n",
    )
    path.write_bytes(text.encode(encoding))


# ---------------------------------------------------------------- HubSpot


def write_hubspot_contacts(rows: pd.DataFrame, path: Path, rng: np.random.Generator) -> pd.Series:
    """HubSpot 'all contacts' export: every field quoted, UTF-8, local time 'YYYY-MM-DD HH:MM'."""
    n = len(rows)
    ids = 51 + np.cumsum(rng.integers(1, 400, n))
    rec = pd.Series([str(i) for i in ids])
    lead_status = pick(
        rng, ["New", "Open", "In Progress", "Open Deal", "Connected", "Unqualified"], n
    )
    marketing = np.where(rng.random(n) < 0.8, "Marketing contact", "Non-marketing contact")
    out = pd.DataFrame(
        {
            "Record ID": rec,
            "First Name": rows["first_name"],
            "Last Name": rows["last_name"],
            "Email": rows["email"],
            "Phone Number": rows["phone"],
            "Company Name": rows["company"],
            "Job Title": rows["job_title"],
            "Lifecycle Stage": rows["lifecycle"],
            "Lead Status": lead_status,
            "Contact owner": rows["owner"],
            "Original Source": rows["lead_source"],
            "Street Address": rows["address"],
            "City": rows["city"],
            "State/Region": rows["region"],
            "Postal Code": rows["postal_code"],
            "Country/Region": rows["country"].map(nm.COUNTRY_NAME),
            "Marketing contact status": marketing,
            "Create Date": _fmt(rows["created_at"], "%Y-%m-%d %H:%M"),
            "Last Activity Date": _fmt(rows["last_activity_at"], "%Y-%m-%d %H:%M"),
        }
    )
    write_csv(out, path, quote_all=True)
    return rec


def write_hubspot_deals(deals: pd.DataFrame, path: Path) -> None:
    """HubSpot deals export; 'Associated Contact IDs' holds the contacts' Record IDs."""
    out = pd.DataFrame(
        {
            "Record ID": deals["record_id"],
            "Deal Name": deals["deal_name"],
            "Deal Stage": deals["stage"],
            "Pipeline": deals["pipeline"],
            "Amount": deals["amount"].map(lambda v: f"{v:.2f}"),
            "Currency": deals["currency"],
            "Deal probability": deals["probability"].map(lambda v: f"{v:g}"),
            "Close Date": _fmt(deals["close_date"], "%Y-%m-%d %H:%M"),
            "Create Date": _fmt(deals["created_at"], "%Y-%m-%d %H:%M"),
            "Deal owner": deals["owner"],
            "Deal Type": deals["deal_type"],
            "Closed Lost Reason": deals["lost_reason"],
            "Original Source": deals["lead_source"],
            "Associated Company": deals["company"],
            "Associated Contact IDs": deals["contact_record_id"],
        }
    )
    write_csv(out, path, quote_all=True)


# ---------------------------------------------------------------- Korean Excel CSV


def write_korean_csv(rows: pd.DataFrame, path: Path, rng: np.random.Generator) -> None:
    """'CSV (쉼표로 분리)' from Korean Windows Excel: cp949, CRLF, Korean headers."""
    memo_opts = [
        "",
        "",
        "",
        "VIP 고객",
        "전시회에서 명함 교환",
        "재연락 요망",
        "견적 요청",
        "소개로 연결",
    ]
    out = pd.DataFrame(
        {
            "이름": rows["full_name"],
            "이메일": rows["email"],
            "전화번호": rows["phone"],
            "회사": rows["company"],
            "직함": rows["job_title"],
            "주소": rows["address"],
            "우편번호": rows["postal_code"],
            "담당자": rows["owner"],
            "등록일": _fmt(rows["created_at"], "%Y-%m-%d"),
            "메모": pick(rng, memo_opts, len(rows)),
        }
    )
    write_csv(out, path, encoding="cp949", crlf=True)


# ---------------------------------------------------------------- Excel workbook


def _texts(col: pd.Series) -> list[object]:
    return [None if x != x else x for x in col.tolist()]


def _days(col: pd.Series) -> list[dt.date | None]:
    """Calendar days (date cells, as the office types them); None where there is no date."""
    days = pd.to_datetime(col).dt.floor("D")
    return [None if d is pd.NaT else d.date() for d in days]


def write_workbook(
    customers: pd.DataFrame, leads: pd.DataFrame, path: Path, rng: np.random.Generator
) -> None:
    """The Tokyo office's workbook: a titled customer sheet and an event-leads sheet."""
    headers = ["No.", "氏名", "会社名", "部署", "役職", "メールアドレス", "電話番号", "郵便番号",
               "住所", "担当者", "登録日", "最終接触日", "備考"]  # fmt: skip
    depts = ["営業部", "総務部", "開発部", "経理部", "マーケティング部", "情報システム部"]
    notes = ["", "", "", "要フォロー", "展示会で名刺交換", "見積送付済み", "紹介"]
    n = len(customers)
    dept = pick(rng, depts, n)
    note = pick(rng, notes, n)
    created = _days(customers["created_at"])
    last = _days(customers["last_activity_at"])
    blank_last = (rng.random(n) < 0.05) & customers["stale_kind"].isna().to_numpy()
    fields = (
        "full_name",
        "company",
        "job_title",
        "email",
        "phone",
        "postal_code",
        "address",
        "owner",
    )
    cols = [[None if x != x else x for x in customers[c].tolist()] for c in fields]
    rows: list[list[object]] = []
    for i in range(n):
        name, comp, title_, email, phone, postal, addr, owner = (c[i] for c in cols)
        rows.append(
            [i + 1, name, comp, dept[i], title_, email, phone, postal, addr, owner, created[i],
             None if blank_last[i] else last[i], note[i] or None]
        )  # fmt: skip
    interest = pick(rng, ["Demo", "Pricing", "Partnership", "Just browsing", ""], len(leads))
    scanned = _fmt(leads["created_at"], "%Y-%m-%d %H:%M").tolist()
    lcols = [
        [None if x != x else x for x in leads[c].tolist()]
        for c in ("full_name", "company", "email", "phone")
    ]
    countries = [nm.COUNTRY_NAME[c] for c in leads["country"]]
    lead_rows: list[list[object]] = []
    for i in range(len(leads)):
        name, comp, email, phone = (c[i] for c in lcols)
        lead_rows.append([name, comp, email, phone, countries[i], interest[i] or None, scanned[i]])
    lead_head = ["Name", "Company", "Email", "Phone", "Country", "Interest", "Scanned at"]
    write_xlsx(  # saved the way Excel saves a Japanese office's workbook
        path,
        [
            Sheet("顧客一覧", rows, header=headers, title="2026年度 顧客一覧（社外秘）"),
            Sheet("Expo leads", lead_rows, header=lead_head),
        ],
        stamp=dt.datetime(2026, 10, 30, 9, 0),
        shared_strings=True,
        font="Yu Gothic",
        date_format="yyyy/mm/dd",
        creator="Aster Global Tokyo",
        application="Microsoft Excel",
    )


# ---------------------------------------------------------------- Stripe


def write_stripe_customers(
    rows: pd.DataFrame,
    subs: pd.DataFrame,
    orders: pd.DataFrame,
    path: Path,
    rng: np.random.Generator,
) -> pd.Series:
    """Stripe Dashboard customers export: major-unit amounts, '(metadata)' columns, UTC times."""
    n = len(rows)
    from audit.demo.commerce import _id

    ids = pd.Series(_id(rng, "cus_", n))
    current = subs.sort_values("start", kind="stable").groupby("person_id").last()
    plan = rows["person_id"].map(current["plan"])
    status = rows["person_id"].map(current["status"])
    # what each customer paid: subscription periods so far plus one-off orders
    end = pd.to_datetime(subs["canceled_at"]).fillna(pd.Timestamp("2026-10-31"))
    months = ((end - pd.to_datetime(subs["start"])).dt.days / 30.4).clip(lower=1)
    periods = np.where(subs["interval"] == "month", months.round(), np.ceil(months / 12))
    by_person = subs["person_id"]
    spent = (
        pd.Series(periods * subs["amount"].to_numpy(), index=subs.index).groupby(by_person).sum()
    )
    spent = spent.add(orders.groupby("person_id")["amount"].sum(), fill_value=0)
    count = pd.Series(periods, index=subs.index).groupby(by_person).sum()
    count = count.add(orders.groupby("person_id").size(), fill_value=0)
    total = rows["person_id"].map(spent).fillna(0.0)
    dup_row = rows["variant"].notna().to_numpy()
    total = total.where(~dup_row, 0.0)  # the second customer object never paid
    out = pd.DataFrame(
        {
            "id": ids,
            "Description": rows["company"],
            "Email": rows["email"],
            "Name": rows["full_name"],
            "Phone": rows["phone"],
            "Created (UTC)": _fmt(rows["created_at"], "%Y-%m-%d %H:%M"),
            "Delinquent": np.where(status.eq("past_due"), "true", "false"),
            "Plan": plan.where(~dup_row, None),
            "Status": status.where(~dup_row, None),
            "Total Spend": _money(total),
            "Payment Count": rows["person_id"]
            .map(count)
            .fillna(0)
            .astype(int)
            .where(~dup_row, 0)
            .astype(str),
            "Refunded Volume": "0.00",
            "Dispute Losses": "0.00",
            "company (metadata)": rows["company"],
            "tag (metadata)": pick(rng, ["", "", "vip", "partner", "trial-convert"], n),
        }
    )
    write_csv(out, path)
    return ids


def write_stripe_subscriptions(
    subs: pd.DataFrame, cust_of: dict[str, tuple[str, str, str]], path: Path
) -> None:
    """Stripe subscriptions export; customer id, name and e-mail as the customer object has them."""
    cid = subs["person_id"].map(lambda p: cust_of.get(p, (None, None, None))[0])
    cname = subs["person_id"].map(lambda p: cust_of.get(p, (None, None, None))[1])
    cmail = subs["person_id"].map(lambda p: cust_of.get(p, (None, None, None))[2])
    f = "%Y-%m-%d %H:%M"
    out = pd.DataFrame(
        {
            "id": subs["id"],
            "Customer ID": cid,
            "Customer Name": cname,
            "Customer Email": cmail,
            "Plan": subs["plan"],
            "Product": subs["product"],
            "Quantity": "1",
            "Currency": "usd",
            "Interval": subs["interval"],
            "Amount": subs["amount"].map(lambda v: f"{v:,.2f}"),
            "Status": subs["status"],
            "Cancellation Reason": subs["reason"],
            "Created (UTC)": _fmt(subs["created"], f),
            "Start Date (UTC)": _fmt(subs["start"], f),
            "Current Period Start (UTC)": _fmt(subs["current_period_start"], f),
            "Current Period End (UTC)": _fmt(subs["current_period_end"], f),
            "Trial Start (UTC)": None,
            "Trial End (UTC)": None,
            "Canceled At (UTC)": _fmt(subs["canceled_at"], f),
            "Ended At (UTC)": _fmt(subs["ended_at"], f),
            "Coupon": None,
            "change (metadata)": subs["change"],
        }
    )
    write_csv(out, path)


# ---------------------------------------------------------------- Mailchimp


LEID_BASE = {"subscribed": 100_000_000, "unsubscribed": 400_000_000, "cleaned": 700_000_000}
UNSUB_REASONS = ["", "I no longer want to receive these emails", "Too frequent", "Other"]
CAMPAIGNS = ["October Newsletter", "Product update", "Webinar invite", "Spring promotion"]


def write_mailchimp(
    rows: pd.DataFrame, path: Path, rng: np.random.Generator, status: str = "cleaned"
) -> None:
    """One file of a Mailchimp audience export zip: `<status>_members_export_<id>.csv`.

    The status lives in the file name; unsubscribed and cleaned files add their UNSUB_* and
    CLEAN_* columns before LEID.
    """
    n = len(rows)
    f = "%Y-%m-%d %H:%M:%S"
    optin = pd.to_datetime(rows["created_at"])
    # the unsubscribe / clean event, and LAST_CHANGED, fall inside the person's active years, so
    # an address that is alive elsewhere never looks idle here (the truth has no such case)
    recent = pd.Timestamp("2026-10-31") - pd.to_timedelta(
        rng.integers(86400, 600 * 86400, n), unit="s"
    )
    later = np.maximum(recent, optin + pd.Timedelta(days=1))
    if status == "subscribed":
        later = np.maximum(pd.to_datetime(rows["last_activity_at"]), optin)
    cols: dict[str, object] = {
        "Email Address": rows["email"],
        "First Name": rows["first_name"],
        "Last Name": rows["last_name"],
        "Address": rows["address"],
        "Phone Number": rows["phone"],
        "MEMBER_RATING": rng.integers(1, 6, n).astype(str) if status == "subscribed" else "1",
        "OPTIN_TIME": _fmt(optin, f),
        "OPTIN_IP": None,
        "CONFIRM_TIME": _fmt(optin + pd.Timedelta(minutes=3), f),
        "CONFIRM_IP": [f"203.0.113.{x}" for x in rng.integers(1, 255, n)],
        "LATITUDE": None,
        "LONGITUDE": None,
        "GMTOFF": None,
        "DSTOFF": None,
        "TIMEZONE": None,
        "CC": rows["country"],
        "REGION": None,
        "LAST_CHANGED": _fmt(pd.Series(later), f),
    }
    campaign = pick(rng, CAMPAIGNS, n)
    campaign_id = [f"{x:010x}" for x in rng.integers(0, 2**40, n)]
    if status == "unsubscribed":
        cols |= {
            "UNSUB_TIME": _fmt(later, f),
            "UNSUB_CAMPAIGN_TITLE": campaign,
            "UNSUB_CAMPAIGN_ID": campaign_id,
            "UNSUB_REASON": pick(rng, UNSUB_REASONS, n),
            "UNSUB_REASON_OTHER": None,
        }
    elif status == "cleaned":
        cols |= {
            "CLEAN_TIME": _fmt(later, f),
            "CLEAN_CAMPAIGN_TITLE": campaign,
            "CLEAN_CAMPAIGN_ID": campaign_id,
        }
    cols |= {
        # unique per audience: each status file draws from its own range
        "LEID": [str(x) for x in LEID_BASE[status] + np.cumsum(rng.integers(1, 300, n))],
        "EUID": [f"{x:010x}" for x in rng.integers(0, 2**40, n)],
        "NOTES": None,
        "TAGS": pick(rng, ["", "", '"VIP"', '"Webinar","Blog"', '"Customer"'], n),
    }
    write_csv(pd.DataFrame(cols), path)


# ---------------------------------------------------------------- support, surveys, business tables


def write_zendesk_tickets(t: pd.DataFrame, path: Path) -> None:
    """Zendesk ticket export with the display headers and minutes-based metrics."""
    f = "%Y-%m-%d %H:%M"

    def minutes(a: pd.Series, b: pd.Series) -> pd.Series:
        d = (pd.to_datetime(b) - pd.to_datetime(a)).dt.total_seconds() / 60
        return d.round().map(lambda v: "" if v != v else str(int(v)))

    domain = t["requester_email"].map(
        lambda e: e.split("@")[-1] if isinstance(e, str) and "@" in e else None
    )
    out = pd.DataFrame(
        {
            "Id": t["external_id"],
            "Requester": t["requester"],
            "Requester id": t["requester_id"],
            "Requester email": t["requester_email"],
            "Requester domain": domain,
            "Assignee": t["assignee"],
            "Group": "Support",
            "Subject": t["subject"],
            "Status": t["status"],
            "Priority": t["priority"],
            "Via": t["via"],
            "Ticket type": "question",
            "Created at": _fmt(t["created_at"], f),
            "Updated at": _fmt(t["solved_at"].fillna(t["first_reply_at"]), f),
            "Solved at": _fmt(t["solved_at"], f),
            "First reply time in minutes": minutes(t["created_at"], t["first_reply_at"]),
            "First resolution time in minutes": minutes(t["created_at"], t["first_solved_at"]),
            "Full resolution time in minutes": minutes(t["created_at"], t["solved_at"]),
            "Reopens": t["reopens"].astype(str),
            "SLA target (hours) [int]": t["sla_hours"].map(lambda v: f"{v:g}"),
        }
    )
    write_csv(out, path)


NPS_QUESTION = "How likely are you to recommend Aster Global to a friend or colleague?"
NPS_REASON = "What is the main reason for your score?"


def write_typeform_nps(nps: pd.DataFrame, path: Path, rng: np.random.Generator) -> None:
    """Typeform responses: '#' token, one column per question, hidden fields, then metadata."""
    f = "%Y-%m-%d %H:%M:%S"
    sub = pd.to_datetime(nps["submitted"])
    out = pd.DataFrame(
        {
            "#": nps["token"],
            NPS_QUESTION: nps["score"].astype(str),
            NPS_REASON: nps["reason"],
            "email": nps["email"],
            "survey": "nps",
            "Response Type": np.where(nps["partial"], "partial", "completed"),
            "Start Date (UTC)": _fmt(
                sub - pd.to_timedelta(rng.integers(20, 300, len(nps)), unit="s"), f
            ),
            "Stage Date (UTC)": _fmt(sub, f),
            "Submit Date (UTC)": _fmt(sub.where(~nps["partial"]), f),
            "Network ID": [f"{x:010x}" for x in rng.integers(0, 2**40, len(nps))],
            "Tags": None,
        }
    )
    write_csv(out, path)


def write_canonical(frame: pd.DataFrame, path: Path, dates: dict[str, str] | None = None) -> None:
    """Tables with no vendor behind them (spend, quotas, stage history): canonical headers."""
    out = frame.copy()
    for c, f in (dates or {}).items():
        out[c] = _fmt(out[c], f)
    for c in out.columns:
        if out[c].dtype.kind == "f":
            out[c] = out[c].map(lambda v: "" if v != v else f"{v:.2f}")
    write_csv(out, path)
