# ruff: noqa: E501  (vocabulary, message templates and YAML text read best unwrapped)
"""The sales team's Gmail Takeout mbox: customer mail, replies, bounces and an out-of-office.

Messages are written as RFC 5322 text directly (not through `email.message`), which is ~20x
faster at 100k persons and gives exact control over what real mail looks like: RFC 2047 encoded
display names, base64 UTF-8 bodies, signatures with phone numbers, RFC 3464 multipart/report
bounces (hard 5.x.x; soft 4.x.x returned after the queue lifetime) and an RFC 3834 autoreply that is not a
bounce.
"""

from __future__ import annotations

import base64
import calendar
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from audit.demo import names as nm
from audit.demo.people import AS_OF, intl_phone

TODAY = AS_OF.to_pydatetime()

TZ = {"en": -5, "ko": 9, "ja": 9, "zh": 8}
HARD = [
    ("5.1.1", "550 5.1.1 <{a}>: Recipient address rejected: User unknown in virtual mailbox table"),
    ("5.1.1", "550-5.1.1 The email account that you tried to reach does not exist."),
    ("5.1.1", "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found"),
    (
        "5.1.2",
        "Host or domain name not found. Name service error for name={d} type=MX: Host not found",
    ),
]
SOFT = [
    ("4.2.2", "452 4.2.2 <{a}>: Mailbox full (quota exceeded)"),
    ("4.4.1", "connect to mx.{d}[198.51.100.7]:25: Connection timed out"),
]
SUBJECTS = {
    "en": ["Question about pricing", "Re: Demo follow-up", "Invoice for October", "Meeting next week?",
           "Renewal quote", "Feature request"],
    "ko": ["견적 문의드립니다", "미팅 일정 관련", "계약서 검토 요청", "서비스 문의", "세금계산서 발행 요청"],
    "ja": ["お見積りのご依頼", "打ち合わせ日程について", "契約更新のご相談", "請求書について", "資料送付のお願い"],
    "zh": ["关于报价的咨询", "下周会议安排", "合同续签", "发票问题", "产品演示"],
}  # fmt: skip
BODIES = {
    "en": "Hi {rep},\n\nThanks for your time last week. Could you send us the updated quote?\n\nBest,\n",
    "ko": "{rep}님 안녕하세요.\n\n지난주 미팅 감사했습니다. 수정된 견적서를 보내주실 수 있을까요?\n\n감사합니다.\n",
    "ja": "{rep}様\n\nいつもお世話になっております。先日はありがとうございました。\n最新のお見積りをお送りいただけますでしょうか。\n\nよろしくお願いいたします。\n",
    "zh": "{rep}您好，\n\n感谢上周的会议。能否请您发送最新的报价单？\n\n谢谢！\n",
}  # fmt: skip
REPLY = "Hello,\n\nThank you for your message. Please find the details below.\n\nKind regards,\n{rep}\n{company}\n"
AUTO = {
    "en": ("Automatic reply: {s}", "I am out of the office until November 10 with limited access to e-mail."),
    "ko": ("자동 회신: {s}", "11월 10일까지 휴가 중입니다. 급한 용무는 회사 대표번호로 연락 주세요."),
    "ja": ("自動応答: {s}", "11月10日まで不在にしております。ご不便をおかけします。"),
    "zh": ("自动答复: {s}", "我将于11月10日前休假，期间无法及时回复邮件。"),
}  # fmt: skip
SPECIALS = set('()<>@,;:\\".[]')


@dataclass
class Mailbox:
    """Messages (as text) and what the truth needs to know about each."""

    messages: list[tuple[dt.datetime, str, list[tuple[str, str, str]], dict]] = field(
        default_factory=list
    )  # (date, text, [(header, address, person_id)], info)


def _enc(text: str) -> str:
    """A display name as a header word: RFC 2047 base64 when it is not ASCII."""
    if text.isascii():
        return f'"{text}"' if any(c in SPECIALS for c in text) else text
    return "=?UTF-8?B?" + base64.b64encode(text.encode()).decode() + "?="


def _addr(name: str | None, email: str) -> str:
    return f"{_enc(name)} <{email}>" if name else f"<{email}>"


def _date(ts: dt.datetime, tz: int) -> str:
    local = ts + dt.timedelta(hours=tz)
    sign = "+" if tz >= 0 else "-"
    return f"{local:%a, %d %b %Y %H:%M:%S} {sign}{abs(tz):02d}00"


def _body(text: str) -> tuple[str, str]:
    if text.isascii():
        return "7bit", text.replace("\n", "\n")
    raw = base64.b64encode(text.encode()).decode()
    return "base64", "\n".join(raw[i : i + 76] for i in range(0, len(raw), 76)) + "\n"


def _plain(
    frm: str, to: str, cc: str | None, subject: str, date: str, msgid: str, body: str,
    labels: str, extra: str = "",
) -> str:  # fmt: skip
    cte, payload = _body(body)
    subj = subject if subject.isascii() else _enc(subject)
    head = (
        f"X-GM-THRID: {int(msgid[1:13], 16)}\nX-Gmail-Labels: {labels}\n"
        f"MIME-Version: 1.0\nDate: {date}\nMessage-ID: {msgid}\nSubject: {subj}\n"
        f"From: {frm}\nTo: {to}\n" + (f"Cc: {cc}\n" if cc else "") + extra
        + f'Content-Type: text/plain; charset="UTF-8"\nContent-Transfer-Encoding: {cte}\n'
    )  # fmt: skip
    return head + "\n" + payload


def _greeting(rep: str, lc: str) -> str:
    """How a customer addresses our rep: 'Emily', '김지현', '佐藤' (+様 in the template)."""
    if lc == "en":
        return rep.split()[0] if rep.isascii() else rep
    if lc == "ja":
        return rep.split()[0]
    return rep


def _signature(p: dict) -> str:
    lc, phone = p["locale"], intl_phone(p["country"], p["phone"])
    comp = p["company"] if isinstance(p["company"], str) else ""
    if lc == "ko":
        return f"\n--\n{p['full_name']} {p['job_title']}\n{comp}\nM. {p['phone']}\n"
    if lc == "ja":
        return f"\n--\n{p['full_name']}\n{comp}\nTEL: {p['phone']}\n"
    if lc == "zh":
        return f"\n--\n{p['full_name']} | {p['job_title']}\n{comp}\n手机：{phone}\n"
    return f"\n--\n{p['full_name']}\n{p['job_title']}, {comp}\nTel: {phone}\n"


def _dsn(
    rep_mail: str, rep_name: str, rcpt: str, when: dt.datetime, status: str, diag: str,
    orig_subject: str, orig_id: str, qid: str, hard: bool,
) -> str:  # fmt: skip
    dom = rcpt.split("@")[1]
    diag = diag.format(a=rcpt, d=dom)
    # a soft bounce is what Postfix returns once the queue lifetime expires: Action failed,
    # but with the transient 4.x.x status of the last attempt
    action = "failed"
    subject = "Undelivered Mail Returned to Sender"
    human = (
        "This is the mail system at host mx1.asterglobal.com.\n\n"
        "I'm sorry to have to inform you that your message could not\n"
        "be delivered to one or more recipients. It's attached below.\n"
        + ("" if hard else "\nThe message was deferred for 5 days and has been returned.\n")
        + f"\n<{rcpt}>: host mx.{dom}[198.51.100.7] said: {diag}\n"
    )
    date = _date(when, 0)
    b = f"=_{qid}"
    return (
        f"X-GM-THRID: {int(qid, 16)}\nX-Gmail-Labels: Inbox\n"
        f"Return-Path: <>\nDate: {date}\nFrom: Mail Delivery System <MAILER-DAEMON@mx1.asterglobal.com>\n"
        f"To: {_addr(rep_name, rep_mail)}\nSubject: {subject}\n"
        f"Message-ID: <{when:%Y%m%d%H%M%S}.{qid}@mx1.asterglobal.com>\n"
        f"Auto-Submitted: auto-replied\nMIME-Version: 1.0\n"
        f'Content-Type: multipart/report; report-type=delivery-status;\n\tboundary="{b}"\n\n'
        f"This is a MIME-encapsulated message.\n\n"
        f"--{b}\nContent-Description: Notification\nContent-Type: text/plain; charset=us-ascii\n\n"
        f"{human}\n"
        f"--{b}\nContent-Description: Delivery report\nContent-Type: message/delivery-status\n\n"
        f"Reporting-MTA: dns; mx1.asterglobal.com\nX-Postfix-Queue-ID: {qid}\n"
        f"X-Postfix-Sender: rfc822; {rep_mail}\nArrival-Date: {date}\n\n"
        f"Final-Recipient: rfc822; {rcpt}\nOriginal-Recipient: rfc822;{rcpt}\n"
        f"Action: {action}\nStatus: {status}\nRemote-MTA: dns; mx.{dom}\n"
        f"Diagnostic-Code: smtp; {diag}\n"
        + f"\n--{b}\nContent-Description: Undelivered Message Headers\n"
        f"Content-Type: text/rfc822-headers\n\n"
        f"Return-Path: <{rep_mail}>\nFrom: {_addr(rep_name, rep_mail)}\nTo: <{rcpt}>\n"
        f"Subject: {orig_subject if orig_subject.isascii() else _enc(orig_subject)}\n"
        f"Message-ID: {orig_id}\n\n--{b}--\n"
    )


def build_mailbox(
    people: pd.DataFrame, idx: np.ndarray, rng: np.random.Generator
) -> tuple[list[str], pd.DataFrame, pd.DataFrame]:
    """Messages in mbox order, who appears in which header of which message, and the bounces.

    Returns (message texts, address rows: message_index/header/email/person_id, bounce truth).
    """
    items: list[tuple[dt.datetime, str, list[tuple[str, str, str]], dict]] = []
    reps = [(n, f"{m}@{nm.OUR_DOMAIN}", f"rep:{m}") for n, m in nm.REPS]
    rep_by_name = {n: r for n, r in zip([r[0] for r in nm.REPS], reps, strict=True)}
    rep_tz = {n: TZ[h] for (n, _), h in zip(nm.REPS, nm.REP_HOME, strict=True)}
    sel = people.iloc[np.sort(idx)]
    recs = sel.to_dict("records")
    autoreplied = False  # the first customer thread always gets one, so every size has it
    rand = rng.random((len(sel), 8))
    ids = rng.integers(0, 2**62, size=(len(sel), 6))
    days = rng.integers(2, 540, size=(len(sel), 3))
    for i in range(len(sel)):
        p = recs[i]
        lc, pid, email = p["locale"], p["person_id"], p["email"]
        rep_name, rep_mail, rep_id = rep_by_name[p["owner"]]
        name = p["full_name"]
        if lc != "en" and rand[i, 0] < 0.3:  # CJK senders often set a romanized display name
            name = f"{p['given_rom'].capitalize()} {p['family_rom'].capitalize()}"
        subj = SUBJECTS[lc][int(rand[i, 1] * len(SUBJECTS[lc]))]
        stale = p["stale_kind"]
        if stale in ("hard_bounce", "soft_bounce"):
            when = TODAY - dt.timedelta(days=int(days[i, 0]) + 7, seconds=int(ids[i, 0] % 80000))
            mid = f"<{ids[i, 1]:016x}@mail.gmail.com>"
            text = _plain(
                _addr(rep_name, rep_mail), _addr(p["full_name"], email), None, subj,
                _date(when, TZ[lc]), mid, REPLY.format(rep=rep_name, company=nm.OUR_COMPANY), "Sent",
            )  # fmt: skip
            items.append((when, text, [("From", rep_mail, rep_id), ("To", email, pid)], {}))
            hard = stale == "hard_bounce"
            status, diag = (HARD if hard else SOFT)[int(rand[i, 2] * 10) % (4 if hard else 2)]
            qid = f"{ids[i, 2] % 16**10:010X}"
            bounce_at = when + (dt.timedelta(minutes=1) if hard else dt.timedelta(days=5))
            dsn = _dsn(rep_mail, rep_name, email, bounce_at, status, diag, subj, mid, qid, hard)
            items.append(
                (
                    bounce_at,
                    dsn,
                    [
                        ("From", "MAILER-DAEMON@mx1.asterglobal.com", "system:mailer-daemon"),
                        ("To", rep_mail, rep_id),
                    ],
                    {
                        "kind": "bounce_hard" if hard else "bounce_soft",
                        "recipient": email,
                        "status": status,
                    },
                )
            )
            if hard or rand[i, 3] < 0.5:
                continue
        n_threads = 1 + int(rand[i, 4] * 3)
        for t in range(n_threads):
            when = TODAY - dt.timedelta(
                days=int(days[i, t]), seconds=int(ids[i, 3 + t % 3] % 80000)
            )
            mid = f"<{ids[i, t % 6]:016x}{t}@mail.gmail.com>"
            cc_rep = reps[(int(rand[i, 5] * 8) + 1) % len(reps)] if rand[i, 6] < 0.3 else None
            body = BODIES[lc].format(rep=_greeting(rep_name, lc)) + _signature(p)
            text = _plain(
                _addr(name, email), _addr(rep_name, rep_mail),
                _addr(cc_rep[0], cc_rep[1]) if cc_rep else None, subj, _date(when, TZ[lc]), mid, body,
                "Inbox,Opened,Category Personal",
            )  # fmt: skip
            who = [("From", email, pid), ("To", rep_mail, rep_id)]
            if cc_rep:
                who.append(("Cc", cc_rep[1], cc_rep[2]))
            items.append((when, text, who, {}))
            if rand[i, 7] < 0.6 and autoreplied:
                r_when = when + dt.timedelta(hours=3)
                r_id = f"<{ids[i, (t + 1) % 6]:016x}r{t}@mail.gmail.com>"
                reply = _plain(
                    _addr(rep_name, rep_mail), _addr(name, email), None, "Re: " + subj,
                    _date(r_when, rep_tz[rep_name]), r_id, REPLY.format(rep=rep_name, company=nm.OUR_COMPANY),
                    "Sent", f"In-Reply-To: {mid}\nReferences: {mid}\n",
                )  # fmt: skip
                items.append((r_when, reply, [("From", rep_mail, rep_id), ("To", email, pid)], {}))
            elif rand[i, 7] > 0.96 or not autoreplied:  # out-of-office: not a bounce
                autoreplied = True
                a_when = when + dt.timedelta(hours=5)
                a_subj, a_body = AUTO[lc]
                auto = _plain(
                    _addr(name, email), _addr(rep_name, rep_mail), None, a_subj.format(s=subj),
                    _date(a_when, TZ[lc]), f"<{ids[i, 5]:016x}a{t}@mail.gmail.com>", a_body + "\n",
                    "Inbox", "Auto-Submitted: auto-replied\nX-Autoreply: yes\n",
                )  # fmt: skip
                items.append(
                    (
                        a_when,
                        auto,
                        [("From", email, pid), ("To", rep_mail, rep_id)],
                        {"kind": "autoreply", "recipient": email},
                    )
                )
    items.sort(key=lambda it: (it[0], it[1]))
    texts, who_rows, mail_rows = [], [], []
    for k, (when, text, who, info) in enumerate(items, start=1):
        texts.append(_from_line(when) + text)
        for header, addr, pid in who:
            who_rows.append({"message_index": k, "header": header, "email": addr, "person_id": pid})
        mail_rows.append(
            {
                "message_index": k,
                "kind": info.get("kind", "mail"),
                "recipient": info.get("recipient"),
                "status": info.get("status"),
                "classification": {"bounce_hard": "hard", "bounce_soft": "soft"}.get(
                    info.get("kind", "")
                ),
                "date": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        )
    return texts, pd.DataFrame(who_rows), pd.DataFrame(mail_rows)


def _from_line(when: dt.datetime) -> str:
    return f"From {calendar.timegm(when.timetuple()) * 1000 + 123}@xxx {when:%a %b %d %H:%M:%S} +0000 {when:%Y}\n"


def write_mbox(texts: list[str], path: Path) -> None:
    """mbox: 'From ' separator lines, body lines starting with 'From ' escaped."""
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for text in texts:
            lines = text.split("\n")
            head = lines[0]
            rest = [(">" + ln) if ln.startswith("From ") else ln for ln in lines[1:]]
            f.write(head + "\n" + "\n".join(rest).rstrip("\n") + "\n\n")
