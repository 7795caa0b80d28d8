"""Bounce detection in inbox exports: which recipients hard- or soft-bounced, and why.

Standard reports (RFC 3464 `multipart/report; report-type=delivery-status`) are parsed field
by field. Many servers (Exchange, Gmail, qmail, Japanese carriers, ...) send plain-text notices
instead, so those are recognized by sender, subject and failure wording, and the failed address
and SMTP codes are taken from the text. Classification finds a reason first: the diagnostic
wording, matched against per-reason phrase tables (bounce_phrases.yaml, ported from sisimai,
BSD-2-Clause) and our own patterns, then the RFC 3463 status and the reply code. A "5.x" reply
for a full mailbox or a spam block is not a dead address, and "user unknown" counts only when
the server said it at RCPT TO or with an address status (5.1.x): filtering gateways answer
"user unknown" to mail they drop after DATA. Autoreplies, spam-complaint reports (ARF) and
delivery receipts are not bounces.

Only `hard` means "this address is dead". Soft covers full mailboxes, expired retries, blocks,
policy and reputation rejections: the address may still be fine.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from email.utils import getaddresses
from functools import cache, lru_cache
from pathlib import Path
from typing import NamedTuple

import yaml

from audit.sources.mailtext import CACHED_LEN, decode_header_text, part_text

_ADDR = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-.]*[A-Za-z0-9])?")
_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_REPLY = re.compile(r"(?<![\d.\-])([45][0-5]\d)(?:[\s\-]|$)")
_DAEMON = re.compile(
    r"^(mailer-daemon|mail-daemon|postmaster|post_master|mailerdaemon|mail\.daemon|mdaemon|"
    r"mail delivery (subsystem|system)|mailer_daemon|nobody|root)$|mailer-daemon@|postmaster@",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery (status notification|failure|has failed|failed|problem|"
    r"notification)|failure notice|returned mail|mail delivery fail|non[- ]?delivery|"
    r"could not be delivered|not delivered|delivery report|mail system error|bounce|"
    r"rejected|permanent (error|failure)|nondeliverable|message (not|could not be) delivered|"
    r"warning: could not send|mail failure|deliver(y)? error|"
    r"配信|不達|エラー|未達|送信失敗|退信|退回|发送失败|投递失败|未送達|반송|전송 ?실패|배달 ?실패",
    re.IGNORECASE,
)
_FAILURE_TEXT = re.compile(
    r"could not be delivered|couldn't be delivered|delivery (has )?failed|failed permanently|"
    r"permanent (error|failure|fatal)|undeliverable|unable to deliver|not be delivered|"
    r"delivery to the following|following (address|recipient)|was not delivered|"
    r"returned to sender|user unknown|unknown user|no such user|does not exist|"
    r"mailbox (is )?(full|unavailable|not found)|over ?quota|host unknown|"
    r"rejected|refused|deferred|delayed|retry|bounced|"
    r"no mailbox|invalid (recipient|address|mailbox)|not found|not listed|"
    r"invalid .{0,20}user ?id|lookup fail|"
    r"配信できません|届きませんでした|宛先不明|送信できませんでした|退信|无法投递|반송",
    re.IGNORECASE,
)
_AUTOREPLY_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto(matic)?[- ]?(reply|response)|out of (the )?office|"
    r"away from|on vacation|vacation reply|"
    r"自動応答|自動返信|자동 ?회신|자동 ?응답|自动答复|自动回复)",
    re.IGNORECASE,
)

# Wording that names a temporary or sender-side problem: soft, whatever the reply class.
_SOFT = (
    (
        "mailbox_full",
        r"mailbox (is )?full|mail ?box.{0,20}full|over ?quota|quota (exceeded|full)|exceeded "
        r"(the )?(storage|quota)|exceeds? .{0,20}quota|"
        r"insufficient (disk |system )?(space|storage)|"
        r"storage (limit|full)|full mailbox|mailfolder is full|disk full|space.{0,15}exceeded|"
        r"too much mail|\b[45]\.2\.2\b",
    ),
    (
        "message_too_big",
        r"message (size )?(is )?too (big|large)|size (limit|exceeds)|\b5\.3\.4\b|"
        r"exceeds? (the )?(maximum|size)|message length exceeds",
    ),
    (
        "suspended",
        r"(account|mailbox|user|address)\b.{0,30}\b(disabled|suspended|inactive|locked|"
        r"deactivated|frozen|blocked|expired|is not active)|suspended|account has been disabled",
    ),
    (
        "blocked",
        r"spam|blacklist|black list|blocklist|block ?list|\bblocked\b|\bRBL\b|spamhaus|"
        r"reputation|policy|denied|not allowed|prohibited|poor|junk|virus|malware|"
        r"content (rejected|filter)|filtered|banned|not authori[sz]ed|authenticat|\bspf\b|\bdkim\b|"
        r"\bdmarc\b|reverse (dns|lookup)|\bptr\b|rdns|relay(ing)? (denied|not|access)|"
        r"not permitted|unsolicited|bulk mail|abuse|frequency limited|rate limit|"
        r"too many|throttl|greylist|try (again )?later|temporar|starttls|\btls\b|certificate|"
        r"\bsecurity\b|not accepted for policy|sender (address )?rejected|rejected by",
    ),
    (
        "expired",
        r"expired|timed? ?out|time-?out|retry (time|timeout)|gave up|giving up|"
        r"too long|delayed|could not be delivered within|not found, try again|"
        r"connection (refused|reset|lost)|"
        r"network|no route|unreachable|deferred|not yet been delivered|will retry",
    ),
    ("syntax", r"syntax error|command unrecognized|bad sequence|\b5\.5\.[0-4]\b"),
)
# Wording that says the address itself is dead.
_HARD = (
    (
        "user_unknown",
        r"user unknown|unknown user|unknown (local[- ]part|recipient|mailbox|address)|"
        r"no such (user|mailbox|recipient|address|account|person|local user)|"
        r"(user|mailbox|recipient|address|account|addressee)\b.{0,40}"
        r"(does not exist|doesn'?t exist|not exist|unknown|not found|invalid|is not valid|"
        r"not listed|no longer (exists|valid|available|active)|unavailable|not recognized)|"
        r"invalid (recipient|mailbox|address|user)|"
        r"(mailbox|user|recipient) not found|RecipNotFound|no mailbox|not a valid (user|mailbox|"
        r"recipient|address)|unrouteable address|unknown or illegal alias|addressee unknown|"
        r"does not have an (email )?account|delivery to the following recipient failed "
        r"permanently|bad destination (mailbox )?address|mailbox unavailable|"
        r"address (is )?not (in use|available)|not our customer|no valid recipients|"
        r"(this|the) (e-?mail )?account (that you tried to reach )?does not exist|"
        r"address couldn'?t be found|(doesn'?t|does not) have an? .{0,40}account|"
        r"destinataire invalide|unknown address|no such address|recipient unknown|"
        r"invalid .{0,20}user ?id|"
        r"宛先不明|存在しない|不存在|없는 (계정|사용자|주소)",
    ),
    (
        "host_unknown",
        r"host (or domain name )?not found|unknown host|host unknown|"
        r"domain (not found|does not exist|name not found|unknown)|unknown domain|"
        r"no (mx|mail exchanger)|unrouteable (mail )?domain|nxdomain|"
        r"dns (lookup )?(fail|error)|domain .{0,30}(does not exist|not exist)|\b5\.1\.2\b|"
        r"host or domain name not found|no such domain|invalid domain|host \S+ not found|"
        r"couldn'?t find a mail exchanger|no smtp service|domain is not reachable",
    ),
    ("moved", r"has moved|moved to|\b5\.1\.6\b|no longer at this address"),
    ("not_accept", r"does not accept (any )?(e-?)?mail|null mx|\b5\.1\.10\b|accepts no mail"),
)
_SOFT_RE = tuple((n, re.compile(p, re.IGNORECASE)) for n, p in _SOFT)
_HARD_RE = tuple((n, re.compile(p, re.IGNORECASE)) for n, p in _HARD)
_HARD_STATUS = {
    "5.1.1": "user_unknown",
    "5.1.2": "host_unknown",
    "5.1.6": "moved",
    "5.1.10": "not_accept",
    "5.1.0": "user_unknown",
}


_PHRASE_FILE = Path(__file__).with_name("bounce_phrases.yaml")


@cache
def _phrase_tables() -> dict[str, tuple[tuple[str, re.Pattern[str]], ...]]:
    """Per group (soft, hard), one compiled pattern per reason, in the file's order.

    Phrases and pairs are literal server wording; a pair's two halves may be at most 80
    characters apart so that they stay in one sentence of a long notice.
    """
    data = yaml.safe_load(_PHRASE_FILE.read_text(encoding="utf-8"))
    out: dict[str, tuple[tuple[str, re.Pattern[str]], ...]] = {}
    for group in ("soft", "hard"):
        reasons = []
        for reason, spec in data[group].items():
            alts = [re.escape(p) for p in spec.get("phrases", [])]
            alts += [f"{re.escape(a)}.{{0,80}}?{re.escape(b)}" for a, b in spec.get("pairs", [])]
            alts += list(spec.get("patterns", []))
            reasons.append((reason, re.compile("|".join(f"(?:{a})" for a in alts))))
        out[group] = tuple(reasons)
    return out


def phrase_reason(text: str, group: str) -> str | None:
    """The first reason of `group` (soft|hard) whose wording appears in the text."""
    low = re.sub(r"\s+", " ", text).lower()
    for reason, rx in _phrase_tables()[group]:
        if rx.search(low):
            return reason
    return None


@dataclass(frozen=True)
class Bounce:
    address: str
    status: str | None
    classification: str  # hard | soft
    reason: str  # user_unknown, host_unknown, mailbox_full, blocked, expired, ...
    diagnostic: str  # the server's words, shortened


@dataclass
class Report:
    """What a message is, from the point of view of deliverability."""

    kind: str  # bounce | delay | autoreply | complaint | delivered | message
    bounces: list[Bounce] = field(default_factory=list)


# Evidence that the message body had been sent when the server refused it. A bare ">>> DATA"
# in a Sendmail transcript is not: with PIPELINING the RCPT TO replies are printed after it.
_AFTER_DATA = re.compile(
    r"(in reply to|after) (the )?end of data|end of data command|>>> \.(\s|$)|"
    r"after data\b|in reply to data\b",
    re.IGNORECASE,
)
# the recipient's own directory said so: a lookup result, not a filter's generic refusal
_DIRECTORY = re.compile(
    r"not recogni[sz]ed|mail\.local: unknown user|not listed|couldn'?t be found|"
    r"unrouteable address|invalid .{0,20}user ?id|"
    r"no longer (exists|valid|active|in use)|has been (deleted|removed|closed)",
    re.IGNORECASE,
)
_AT_RCPT = re.compile(
    r"rcpt([ _]to)?\b|in reply to rcpt|recipient address rejected|does not like recipient",
    re.IGNORECASE,
)
_SENDER_SIDE = re.compile(
    r"sender (address |domain )?(rejected|refused|verify failed|unknown|invalid|denied)|"
    r"(domain of )?sender (address|domain)\b.{0,60}(does not exist|not exist|invalid|unknown|"
    r"rejected|not found)|from address (rejected|invalid)|\b5\.1\.[78]\b|"
    r"(after|in reply to) mail from",
    re.IGNORECASE,
)


def classify(
    status: str | None, diagnostic: str, *, transient: bool = False, context: str = ""
) -> tuple[str, str]:
    """(hard|soft, reason) for one failed recipient.

    Order of evidence:
    1. transient (4.x.x, Action: delayed) is always soft;
    2. wording of a specific soft cause from the phrase tables (full mailbox, suspended or
       filtered account, relaying, IP block, rejected sender) wins over everything else;
    3. broader soft wording (spam, policy, expired, ...) wins unless wording for a dead address
       (phrase tables or our own patterns) is there too, and 5.1.7/5.1.8 or a rejection at
       MAIL FROM are about the *sender*;
    4. an explicit address status (5.1.1, 5.1.2, 5.1.6, 5.1.10, also found inside the
       diagnostic text when the report's own status is generic) is hard, and so is a 521/556
       reply (RFC 7504: the host or domain accepts no mail);
    5. a status whose subject is mailbox state (5.2), the mail system (5.3), content (5.6) or
       policy (5.7) is soft unless the server's words say the address does not exist;
    6. "user unknown"-style wording is hard, except after DATA (the server had accepted the
       recipient at RCPT TO: a content filter) or, for our own looser patterns, when the reply
       is generic, gives no SMTP stage and no directory wording (filtering gateways answer that
       way for mail they drop).
    """
    text = re.sub(r"\s+", " ", diagnostic or "")
    context = re.sub(r"\s+", " ", context)
    if (status and status.startswith("4")) or transient:
        for name, rx in _SOFT_RE:
            if rx.search(text):
                return "soft", name
        return "soft", "temporary"
    soft_words = phrase_reason(text, "soft")
    if soft_words:
        return "soft", soft_words
    hard_words = phrase_reason(text, "hard")
    reply = _REPLY.search(text)
    if (
        reply
        and reply.group(1) in ("521", "556")
        and not (status or "").startswith("5.7")
        and not _SENDER_SIDE.search(text)
        and not _BLOCK_WORDS.search(text)
    ):
        return "hard", "not_accept"
    # wording for a dead address beats a generic soft word ("rejected by", "policy", "denied")
    dead = bool(hard_words or _STRONG_HARD.search(text)) and not _SPECIFIC_SOFT.search(text)
    for name, rx in _SOFT_RE:
        if rx.search(text) and not dead:
            return "soft", name
    if _SENDER_SIDE.search(text):
        return "soft", "sender_rejected"
    if status in (None, "5.0.0") or (status or "").startswith("5.5."):
        # a generic or protocol-class status (Sendmail reports the reply to DATA as 5.5.x)
        # says nothing about the address: a more specific code in the server's words does
        inner = [".".join(m.groups()) for m in _STATUS.finditer(text)]
        inner = [c for c in inner if c.startswith("5.") and c != status]
        specific = [c for c in inner if c in _HARD_STATUS] or inner
        if specific:
            status = specific[0]
    if status in _HARD_STATUS:
        return "hard", _HARD_STATUS[status]
    subject = status.split(".")[1] if status and status.count(".") == 2 else ""
    if subject in ("2", "3", "6", "7") and not _DIRECTORY.search(text) and not hard_words:
        # the server classed the failure itself: mailbox state (disabled, full), mail system,
        # content, security/policy; none of them says the address does not exist
        return "soft", {"2": "mailbox_disabled", "3": "mail_system", "6": "content"}.get(
            subject, "blocked"
        )
    matches = [hard_words] if hard_words else []
    matches += [name for name, rx in _HARD_RE if rx.search(text)]
    for name in matches:
        if _AFTER_DATA.search(text) or _AFTER_DATA.search(context):
            return "soft", "filtered"
        if (
            name == "user_unknown"
            and not (status or "").startswith("5.1.")
            and not (_AT_RCPT.search(text) or _AT_RCPT.search(context))
            and not _DIRECTORY.search(text)
        ):
            return "soft", "unconfirmed_user_unknown"
        return "hard", name
    return "soft", {"4": "network", "5": "protocol"}.get(subject, "other")


# a 521 is also what some servers send to a blocked client IP
_BLOCK_WORDS = re.compile(r"block|spam|\b(dns)?bl\b|dnsbl|blacklist|reputation", re.IGNORECASE)
_SPECIFIC_SOFT = re.compile(
    r"full|quota|spam|blacklist|blocklist|reputation|suspend|disabled|inactive|too (big|large)|"
    r"expired|timed? ?out|rate|too many|virus|spf|dkim|dmarc|not found, try again",
    re.IGNORECASE,
)


_STRONG_HARD = re.compile(
    r"user unknown|unknown user|no such (user|mailbox|recipient)|does not exist|"
    r"RecipNotFound|mailbox not found|user not found|invalid recipient|host unknown|"
    r"host not found|domain not found",
    re.IGNORECASE,
)


_DSN_TYPES = ("message/delivery-status", "message/global-delivery-status")
# delivery-status fields pasted into a notice's own text
_INLINE_DSN = re.compile(r"^(Final|Original)-Recipient:", re.IGNORECASE | re.MULTILINE)


def analyze(msg: Message) -> Report:
    """Decide whether a message is a bounce and, if so, which recipients failed and how."""
    if not msg.is_multipart():
        return _analyze_single(msg)
    return _analyze_tree(msg)


def _analyze_tree(msg: Message) -> Report:
    """`analyze` for any message, walking its parts (multipart reports, attached originals)."""
    parts = list(msg.walk())
    ctypes = [p.get_content_type() for p in parts]
    report_type = (msg.get_param("report-type") or "") if msg.is_multipart() else ""
    if "message/feedback-report" in ctypes or str(report_type).lower() == "feedback-report":
        return Report("complaint")
    # a returned message may itself be a bounce (a bounce of a bounce): its report is not ours,
    # unless the notice has none of its own and only wraps the real report (relaying gateways)
    dsn_types = _DSN_TYPES
    dsn_parts = [p for p in _outer_parts(msg) if p.get_content_type() in dsn_types]
    looks: list[bool] = []  # _looks_like_bounce(msg), worked out once when first asked

    def looks_like_bounce() -> bool:
        if not looks:
            looks.append(_looks_like_bounce(msg))
        return looks[0]

    if not dsn_parts and looks_like_bounce():
        for attached in _outer_parts(msg):
            inner = attached.get_payload() if attached.get_content_type() == "message/rfc822" else 0
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                dsn_parts = [p for p in _outer_parts(inner[0]) if p.get_content_type() in dsn_types]
                if dsn_parts:
                    break
    if dsn_parts:
        rep = _from_dsn(msg, dsn_parts)
        if rep is not None:
            return rep
    else:
        inline = _human_text(msg)
        if _INLINE_DSN.search(inline):
            rep = _from_dsn(msg, [], blocks=_parse_blocks(inline))
            if rep is not None:
                return rep
    raw_body = msg.get_payload() if not msg.is_multipart() else ""
    return _last_questions(msg, raw_body, lambda: _human_text(msg), looks_like_bounce)


def _last_questions(
    msg: Message, raw_body: object, human: Callable[[], str], looks: Callable[[], bool]
) -> Report:
    """What `analyze` and `_analyze_single` ask once no delivery-status part answered: an SES
    notification in the body, a bounce told in prose, an automatic reply; in that order."""
    if isinstance(raw_body, str) and "notificationType" in raw_body:
        rep = _from_notification(human())
        if rep is not None:
            return rep
    if looks():
        rep = _from_text(msg)
        if rep is not None:
            return rep
    if _is_autoreply(msg):
        return Report("autoreply")
    return Report("message")


def _analyze_single(msg: Message) -> Report:
    """`analyze` for a message that is not multipart (nearly every message in a mailbox): the
    same questions in the same order, without walking a tree of one part.

    The body is still read: a notice may carry delivery-status fields or an SES notification
    in its own text under headers that say nothing of a failure.
    """
    ctype = msg.get_content_type()
    if ctype == "message/feedback-report":
        return Report("complaint")
    human: str | None = None
    if ctype in _DSN_TYPES:
        rep = _from_dsn(msg, [msg])
        if rep is not None:
            return rep
    else:
        human = _human_text(msg)
        if _INLINE_DSN.search(human):
            rep = _from_dsn(msg, [], blocks=_parse_blocks(human))
            if rep is not None:
                return rep
    text = human
    return _last_questions(
        msg,
        msg.get_payload(),
        lambda: _human_text(msg) if text is None else text,
        lambda: _looks_like_bounce(msg),
    )


def _outer_parts(msg: Message) -> Iterator[Message]:
    """Every part of the message except what is inside an attached message/rfc822."""
    yield msg
    if msg.get_content_type() in ("message/rfc822", "text/rfc822-headers"):
        return
    payload = msg.get_payload()
    if msg.is_multipart() and isinstance(payload, list):
        for sub in payload:
            if isinstance(sub, Message):
                yield from _outer_parts(sub)


def _blocks(part: Message) -> list[dict[str, str]]:
    """The header blocks of a delivery-status body (lower-case keys)."""
    payload = part.get_payload()
    blocks: list[dict[str, str]] = []
    if isinstance(payload, list):
        subs = [sub for sub in payload if isinstance(sub, Message)]
        for sub in subs:
            blocks.append({k.lower(): decode_header_text(str(v)) for k, v in sub.items()})
        # some writers put the whole body in one block with no blank lines between recipients
        if len(blocks) <= 2 and any(_count_final(sub) > 1 for sub in subs):
            blocks = _parse_blocks("\n".join(_as_text(s) for s in subs))
        return blocks
    text = payload if isinstance(payload, str) else part_text(part)
    return _parse_blocks(text)


def _count_final(sub: Message) -> int:
    return (
        len(sub.get_all("Final-Recipient") or [])
        + len(sub.get_all("Original-Recipient") or []) // 2
    )


def _as_text(sub: Message) -> str:
    return "\n".join(f"{k}: {v}" for k, v in sub.items())


def _parse_blocks(text: str) -> list[dict[str, str]]:
    blocks: list[dict[str, str]] = []
    cur: dict[str, str] = {}
    last = None
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            if cur:
                blocks.append(cur)
                cur, last = {}, None
            continue
        if line[:1] in " \t" and last:
            cur[last] += " " + line.strip()
            continue
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip().lower()
        if key == "final-recipient" and "final-recipient" in cur:
            blocks.append(cur)
            cur = {}
        cur[key] = value.strip()
        last = key
    if cur:
        blocks.append(cur)
    return blocks


def _address(value: str) -> str | None:
    value = value.split(";", 1)[1] if ";" in value else value
    m = _ADDR.search(value)
    return m.group(0).strip(".").lower() if m else None


def _from_dsn(
    msg: Message, dsn_parts: list[Message], blocks: list[dict[str, str]] | None = None
) -> Report | None:
    bounces: list[Bounce] = []
    delivered = delayed = 0
    human = _human_text(msg)
    all_blocks = [b for part in dsn_parts for b in _blocks(part)] + (blocks or [])
    for block in all_blocks:
        if True:
            rcpt = block.get("final-recipient") or block.get("original-recipient")
            if not rcpt:
                continue
            address = _address(rcpt) or _address(block.get("original-recipient", ""))
            if not address:
                continue
            action = block.get("action", "").strip().lower()
            status_m = _STATUS.search(block.get("status", ""))
            status = ".".join(status_m.groups()) if status_m else None
            # "Status: 5.0.0 (Remote SMTP server has rejected address)": the comment says more
            status_note = block.get("status", "").partition("(")[2].rstrip(")")
            diag = block.get("diagnostic-code", "")
            # "X-Unix; ..." is a local delivery program's own error (procmail, a full disk, a
            # missing home directory): the mail system failed, not the address
            local_program = diag.lower().startswith("x-unix")
            diag = diag.split(";", 1)[1].strip() if ";" in diag[:12] else diag.strip()
            if action in ("delivered", "relayed", "expanded") or (status or "").startswith("2"):
                delivered += 1
                continue
            judged = status
            if action == "failed" and status in ("4.1.1", "4.1.2") and phrase_reason(diag, "hard"):
                # the sender gave up on an address the server called unknown, only with a
                # temporary code (Postfix's 450 "User unknown in virtual alias table")
                judged = "5" + status[1:]
            transient = action == "delayed" or (judged or "").startswith("4")
            if transient:
                delayed += 1
            text = diag or _near(human, address) or human[:2000]
            if status == "5.0.0" or not status or status.startswith("5.5."):
                # generic status: let the server's words decide, and the human part if silent
                text = f"{text} {_near(human, address)}"
            if not diag:
                # no per-recipient words at all: the notice's opening sentence is the reason
                # ("The user(s) account is disabled.")
                opening = _ADDR.search(human)
                text = f"{human[: opening.start() if opening else 300][-300:]} {text}"
            cls, reason = classify(
                judged,
                f"{text} {status_note}" if status_note else text,
                transient=transient,
                context=_near(human, address, 600),
            )
            if local_program and cls == "hard":
                cls, reason = "soft", "mailer_error"
            bounces.append(Bounce(address, status, cls, reason, _short(diag or text)))
    if bounces:
        kind = (
            "delay"
            if all(b.classification == "soft" for b in bounces) and delayed == len(bounces)
            else "bounce"
        )
        return Report(kind, _dedupe(bounces))
    if delivered:
        return Report("delivered")
    return None


_NOTIFICATION = re.compile(r'"notificationType"\s*:\s*"(Bounce|Complaint|Delivery)"')
_SES_RECIPIENT = re.compile(
    r'"emailAddress"\s*:\s*"([^"]+)"(?:\s*,\s*"action"\s*:\s*"([^"]*)")?'
    r'(?:\s*,\s*"status"\s*:\s*"([^"]*)")?(?:\s*,\s*"diagnosticCode"\s*:\s*"([^"]*)")?'
)


def _from_notification(text: str) -> Report | None:
    """Amazon SES event JSON mailed through SNS (the common 'bounce to an inbox' setup).

    The JSON is often wrapped by the mailer, so fields are read by pattern, not json.loads.
    """
    if '\\"notificationType\\"' in text:
        # the SNS envelope holds the SES event as a JSON string: quotes escaped once
        text = text.replace('\\"', '"')
    m = _NOTIFICATION.search(text)
    if not m:
        return None
    if m.group(1) == "Complaint":
        return Report("complaint")
    if m.group(1) == "Delivery":
        return Report("delivered")
    section = text[m.end() :]
    cut = section.find('"mail"')
    section = section[:cut] if cut > 0 else section
    transient = bool(re.search(r'"bounceType"\s*:\s*"Transient"', section))
    bounces = []
    for r in _SES_RECIPIENT.finditer(section):
        address, _action, status, diag = r.groups()
        status_m = _STATUS.search(status or "")
        status = ".".join(status_m.groups()) if status_m else None
        cls, reason = classify(status, diag or "", transient=transient, context="rcpt")
        bounces.append(Bounce(address.lower(), status, cls, reason, _short(diag or "")))
    if not bounces:
        return None
    return Report("delay" if transient else "bounce", _dedupe(bounces))


def _looks_like_bounce(msg: Message) -> bool:
    sender = decode_header_text(msg.get("From", ""))
    subject = _subject_signs(decode_header_text(msg.get("Subject", "")))
    return (
        bool(msg.get("X-Failed-Recipients") or _daemon_sender(sender) or subject.bounce)
        and not subject.autoreply
    )


class _SubjectSigns(NamedTuple):
    bounce: bool  # the wording of a delivery failure
    autoreply: bool  # the wording of an automatic reply


def _subject_signs(subject: str) -> _SubjectSigns:
    """What a subject says, once per distinct subject up to CACHED_LEN characters: a mailbox
    repeats its subjects (threads, "Re:", notices), and the two patterns are long alternations
    that try every position of the text."""
    if len(subject) <= CACHED_LEN:
        return _subject_signs_cached(subject)
    return _subject_signs_uncached(subject)


def _subject_signs_uncached(subject: str) -> _SubjectSigns:
    return _SubjectSigns(
        bool(_BOUNCE_SUBJECT.search(subject)), bool(_AUTOREPLY_SUBJECT.search(subject))
    )


_subject_signs_cached = lru_cache(maxsize=1 << 16)(_subject_signs_uncached)


def _daemon_sender(sender: str) -> bool:
    """Whether the From header names a mail system (MAILER-DAEMON, postmaster, ...); once per
    distinct sender up to CACHED_LEN characters."""
    if len(sender) <= CACHED_LEN:
        return _daemon_sender_cached(sender)
    return _daemon_sender_uncached(sender)


_SYSTEM_WORDS = re.compile(r"daemon|postmaster|delivery|nobody|root", re.IGNORECASE)


def _daemon_sender_uncached(sender: str) -> bool:
    if not _SYSTEM_WORDS.search(sender):
        return False
    names = getaddresses([sender])
    daemon = any(_DAEMON.search(n.strip()) or _DAEMON.search(a) for n, a in names)
    local = [a.split("@", 1)[0].lower() for _, a in names if "@" in a]
    return daemon or any(_DAEMON.match(x) for x in local)


_daemon_sender_cached = lru_cache(maxsize=1 << 16)(_daemon_sender_uncached)


def _human_text(msg: Message) -> str:
    """The notice's own text, without the returned original message."""
    out = []
    for part in _walk_own(msg):
        main = part.get_content_maintype()
        # a multipart whose boundary never appears keeps its whole body as one text
        broken = main == "multipart" and isinstance(part.get_payload(), str)
        if (main == "text" and part.get_content_type() != "text/rfc822-headers") or broken:
            out.append(part_text(part))
    return "\n".join(out)


def _walk_own(msg: Message) -> Iterator[Message]:
    """Parts of the message, not descending into attached message/rfc822 originals."""
    if msg.is_multipart():
        for sub in msg.get_payload() or []:
            if isinstance(sub, Message):
                if sub.get_content_type() in ("message/rfc822", "message/delivery-status"):
                    continue
                yield from _walk_own(sub)
    else:
        yield msg


_ORIGINAL_MARK = re.compile(
    r"^(-+ ?(original message|this is a copy of the message|message text follows|"
    r"included is a copy|the header of the original|original message follows|"
    r"below this line is a copy|unsent message follows)|original message follows|"
    r"message headers follow|"
    r"content-type: message/rfc822|received: ?from|return-path:|bounced e-?mail:|"
    r"from \S+@\S+ +\w{3} \w{3} +\d)",
    re.IGNORECASE | re.MULTILINE,
)


def _from_text(msg: Message) -> Report | None:
    human = _human_text(msg)
    cut = _ORIGINAL_MARK.search(human)
    notice = human[: cut.start()] if cut else human
    if (
        not _FAILURE_TEXT.search(notice)
        and not _STATUS.search(notice)
        and not msg.get("X-Failed-Recipients")
    ):
        return None
    own = {a.lower() for _, a in getaddresses(msg.get_all("To", []) + msg.get_all("From", []))}
    senders = {
        a.lower() for _, a in getaddresses(msg.get_all("From", []) + msg.get_all("Sender", []))
    }
    candidates: list[str] = []
    for _, a in getaddresses(msg.get_all("X-Failed-Recipients", [])):
        if a and "@" in a:
            candidates.append(a.lower())
    if not candidates:
        unquoted = "\n".join(
            ln
            for ln in notice.splitlines()
            if not ln.lstrip().startswith(">") and not _ID_HEADER.match(ln)
        )
        for m in _ADDR.finditer(unquoted):
            a = m.group(0).strip(".").lower()
            if a in own or a in senders or re.match(r"(mailer-?daemon|mail-daemon)@", a):
                continue
            candidates.append(a)
        # "please contact postmaster@..." is help, not a failed recipient
        helpdesk = {a for a in candidates if _HELP_DESK.match(a)}
        if helpdesk != set(candidates):
            candidates = [a for a in candidates if a not in helpdesk]
    if not candidates:
        orig_to = _original_to(msg)
        candidates = [a for a in orig_to if a not in own]
    if not candidates:
        return None
    bounces = []
    for address in dict.fromkeys(candidates):
        near = _near(notice, address, ignore=frozenset(own | senders)) or notice
        status_m = _STATUS.search(near) or _STATUS.search(notice)
        status = ".".join(status_m.groups()) if status_m else None
        reply = _REPLY.search(near)
        if status is None and reply:
            status = {"5": "5.0.0", "4": "4.0.0"}[reply.group(1)[0]]
        transient = bool(status and status.startswith("4")) or (
            bool(
                re.search(
                    r"will (continue to )?(retry|try)|not yet been delivered|delayed|"
                    r"warning:",
                    notice[:3000],
                    re.IGNORECASE,
                )
            )
            and not re.search(r"permanent|gave up|giving up|failed", notice[:3000], re.IGNORECASE)
        )
        # the recipient's own lines decide when they carry a code; the whole notice only when
        # they say nothing (one shared reason for every recipient)
        own_code = _STATUS.search(near) or _REPLY.search(near)
        text = near if own_code or len(near) >= 80 else near + " " + notice[:3000]
        # a relay that quotes the remote server's reply line ("The error that the other server
        # returned was: 550 5.1.0 Recipient rejected") wraps it in its own generic sentence
        # ("it was rejected by the server for the recipient domain"): the reply decides, unless
        # the words before it name the SMTP stage (after MAIL FROM: about the sender)
        quoted = _QUOTED_REPLY.search(text)
        if quoted and not _SMTP_STAGE.search(text[: quoted.start()]):
            text = text[quoted.start() :]
        cls, reason = classify(status, text, transient=transient, context=near)
        bounces.append(Bounce(address, status, cls, reason, _short(near)))
    kind = (
        "delay"
        if all(b.classification == "soft" and b.reason in ("temporary", "expired") for b in bounces)
        and transient
        else "bounce"
    )
    return Report(kind, bounces)


# an SMTP reply with an enhanced status code on a line of its own (RFC 5321 / RFC 3463)
_QUOTED_REPLY = re.compile(r"^[ \t]*[45]\d\d[ -][245]\.\d{1,3}\.\d{1,3}\b", re.MULTILINE)
_SMTP_STAGE = re.compile(r"MAIL FROM|RCPT TO|\bDATA\b|in reply to|after end of", re.IGNORECASE)
_HELP_DESK = re.compile(r"(postmaster|hostmaster|abuse|support|helpdesk|noc)@", re.IGNORECASE)
_ID_HEADER = re.compile(r"\s*(message-id|references|in-reply-to|x-[\w-]+-id)\s*:", re.IGNORECASE)


def _original_to(msg: Message) -> list[str]:
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, Message):
                return [a.lower() for _, a in getaddresses(inner.get_all("To", [])) if a]
        if ctype == "text/rfc822-headers":
            text = part_text(part)
            m = re.search(r"^To:(.*(?:\n[ \t].*)*)", text, re.IGNORECASE | re.MULTILINE)
            if m:
                return [a.lower() for _, a in getaddresses([m.group(1)]) if a]
    return []


_NEXT_ENTRY = re.compile(r"\n(?=[45]\d\d[ -])")


def _near(text: str, address: str, width: int = 400, ignore: frozenset[str] = frozenset()) -> str:
    """The text about one recipient: from its address to the next other address.

    Addresses in `ignore` (the notice's own sender and receiver, quoted in qmail's
    "From: <...> RCPT: <...>" lines) do not end the recipient's text.
    """
    low = text.lower()
    i = low.find(address.lower())
    if i < 0:
        return ""
    end = i + len(address)
    window = text[end : end + width]
    for m in _ADDR.finditer(window):
        other = m.group(0).strip(".").lower()
        if other != address.lower() and other not in ignore:
            window = window[: m.start()]
            break
    # before the address: its own line, plus the line above when that one names no other
    # address (Domino and Exchange put the reason on the line before the recipient)
    line_start = text.rfind("\n", 0, i) + 1
    before = text[line_start:i]
    # a Sendmail transcript gives each recipient one "550 <addr>... reason" line; once the
    # recipient has its reply, a new line with a reply code or a new session is someone else's
    for m in _NEXT_ENTRY.finditer(window):
        line = window[m.start() + 1 :].split("\n", 1)[0]
        if address.lower() in line.lower():
            continue  # Sendmail's own summary line for this recipient
        if _REPLY.search(before + window[: m.start()]):
            window = window[: m.start()]
            break
    prev_start = text.rfind("\n", 0, max(line_start - 1, 0)) + 1
    prev_line = text[prev_start:line_start] if line_start else ""
    if prev_line.strip() and not _ADDR.search(prev_line):
        before = prev_line + before
    return before[-200:] + address + window


def _short(text: str, n: int = 300) -> str:
    return re.sub(r"\s+", " ", text).strip()[:n]


def _dedupe(bounces: list[Bounce]) -> list[Bounce]:
    seen: dict[str, Bounce] = {}
    for b in bounces:
        seen.setdefault(b.address, b)
    return list(seen.values())


def _is_autoreply(msg: Message) -> bool:
    auto = (msg.get("Auto-Submitted") or "").strip().lower()
    if auto and auto != "no":
        return True
    if msg.get("X-Autoreply") or msg.get("X-Autorespond"):
        return True
    if (msg.get("Precedence") or "").strip().lower() == "auto_reply":
        return True
    return _subject_signs(decode_header_text(msg.get("Subject", ""))).autoreply
