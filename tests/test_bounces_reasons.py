"""Bounce reasons: the phrase tables and the per-recipient rules, on self-made messages."""

from __future__ import annotations

import email
import re
from email import policy

import yaml

from audit.sources.bounces import _PHRASE_FILE, analyze, classify, phrase_reason


def _msg(text: str):
    return email.message_from_string(text, policy=policy.compat32)


def _dsn(*recipients: str, human: str = "Your message could not be delivered.") -> str:
    blocks = "\n".join(recipients)
    return (
        "From: MAILER-DAEMON@mx.example.com\nTo: me@example.com\nSubject: Undelivered Mail\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
        f"--B\nContent-Type: text/plain\n\n{human}\n\n"
        f"--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.com\n\n"
        f"{blocks}\n--B--\n"
    )


def test_phrase_file_is_well_formed_and_credits_its_source():
    raw = _PHRASE_FILE.read_text(encoding="utf-8")
    assert "sisimai" in raw and "BSD 2-Clause" in raw
    data = yaml.safe_load(raw)
    assert set(data) == {"soft", "hard"}
    assert {"user_unknown", "host_unknown", "moved", "not_accept"} <= set(data["hard"])
    for group in data.values():
        for reason, spec in group.items():
            # an unquoted "a: b" entry would silently become a mapping and never match
            assert all(isinstance(p, str) for p in spec.get("phrases", [])), reason
            assert all(len(p) == 2 for p in spec.get("pairs", [])), reason
            for pattern in spec.get("patterns", []):
                re.compile(pattern)


def test_phrase_reason_reads_common_mta_wording():
    assert phrase_reason("550 5.1.1 <a@b.example>... User Unknown", "hard") == "user_unknown"
    assert phrase_reason(
        "554 delivery error: dd This user doesn't have a b.example account", "hard"
    )
    assert phrase_reason("Host or domain name not found. Name service error", "hard") == (
        "host_unknown"
    )
    assert phrase_reason("552 5.2.2 Mailbox full", "soft") == "mailbox_full"
    assert phrase_reason("550 Relaying denied", "soft") == "no_relaying"
    assert phrase_reason("550 5.7.1 nothing to see here", "hard") is None
    # a pair's halves must be near each other, not anywhere in a long notice
    assert phrase_reason("bad weather today" + " x" * 100 + " recipient", "hard") is None


def test_user_unknown_wording_needs_the_rcpt_stage_or_an_address_status():
    # 5.2.1 + "User Unknown": hard when refused at RCPT TO ...
    rcpt = "SMTP error from remote mail server after RCPT TO:<a@b.example>: 550 5.2.1 User Unknown"
    assert classify("5.2.1", rcpt) == ("hard", "user_unknown")
    # ... soft when nothing says when (filtering gateways answer "user unknown" to mail they drop)
    assert classify("5.2.1", "550 5.2.1 <a@b.example>... User Unknown")[0] == "soft"
    # an address status is enough on its own
    assert classify("5.1.1", "550 5.1.1 <a@b.example>... User Unknown")[0] == "hard"
    # Microsoft 365 directory-based edge blocking: the recipient is not in the directory
    assert classify("5.4.1", "550 5.4.1 Recipient address rejected: Access denied")[0] == "hard"


def test_specific_soft_wording_wins_over_a_dead_address_look():
    assert classify("5.1.1", "550 5.1.1 Refused due to recipient preferences") == (
        "soft",
        "filtered",
    )
    assert classify("5.2.1", "550 5.2.1 The email account that you tried to reach is disabled") == (
        "soft",
        "suspended",
    )
    # au (KDDI): without the address the refusal is the recipient's filter
    assert classify(None, "550 : User unknown (in reply to RCPT TO command)")[0] == "soft"
    assert classify(None, "550 <a@ezweb.ne.jp>: User unknown (in reply to RCPT TO command)")[0] == (
        "hard"
    )


def test_reply_521_556_means_no_mail_accepted_unless_it_is_a_block():
    assert classify("5.3.2", "521 5.3.2 System not accepting network messages") == (
        "hard",
        "not_accept",
    )
    assert classify("5.7.1", "521 5.7.1 client blocked using dnsbl.example.net")[0] == "soft"


def test_local_delivery_program_error_is_not_a_dead_address():
    rep = analyze(
        _msg(
            _dsn(
                "Final-Recipient: rfc822; r@mx.example.org\nAction: failed\nStatus: 5.1.1\n"
                'Diagnostic-Code: x-unix; procmail: Couldn\'t create "/var/mail/r": No such user'
            )
        )
    )
    assert [(b.classification, b.reason) for b in rep.bounces] == [("soft", "mailer_error")]


def test_dsn_without_diagnostic_uses_the_notice_opening():
    rep = analyze(
        _msg(
            _dsn(
                "Final-Recipient: rfc822; gone@example.jp\nAction: failed\nStatus: 5.0.0\n",
                human="The user(s) account is disabled.\n\n<gone@example.jp>: 550 user unknown "
                "(in reply to RCPT TO command)",
            )
        )
    )
    assert [b.classification for b in rep.bounces] == ["soft"]


def test_failed_with_temporary_address_status_and_unknown_user_is_hard():
    rep = analyze(
        _msg(
            _dsn(
                "Final-Recipient: rfc822; a@example.org\nAction: failed\nStatus: 4.1.1\n"
                "Diagnostic-Code: smtp; 450 4.1.1 <a@example.org>: Recipient address rejected: "
                "User unknown in virtual alias table\n"
            )
        )
    )
    assert [(b.status, b.classification) for b in rep.bounces] == [("4.1.1", "hard")]
    delayed = _dsn(
        "Final-Recipient: rfc822; a@example.org\nAction: delayed\nStatus: 4.1.1\n"
        "Diagnostic-Code: smtp; 450 4.1.1 <a@example.org>: User unknown in virtual alias table\n"
    )
    assert analyze(_msg(delayed)).kind == "delay"


def test_sendmail_transcript_gives_each_recipient_its_own_line():
    text = (
        "From: Mail Delivery Subsystem <MAILER-DAEMON@x.example.com>\nTo: me@example.co.jp\n"
        "Subject: Returned mail: User unknown\n\n"
        "   ----- Transcript of session follows -----\n"
        "While talking to mailin.example.org:\n>>> MAIL From:<me@example.co.jp>\n"
        "<<< 501 <me@example.co.jp>... no access from mail server\n"
        "554 <one@example.org>... Remote protocol error\n"
        "550 example.org (smtp)... 550 Host unknown\n"
        "554 <two@example.org>... 550 Host unknown (Authoritative answer from name server)\n"
        "While talking to smtp.example.edu:\n>>> RCPT To:<three@example.edu>\n"
        "<<< 550 <three@example.edu>... User unknown\n"
        "550 <three@example.edu>... User unknown\n"
        "   ----- Unsent message follows -----\n"
    )
    got = {b.address: b.classification for b in analyze(_msg(text)).bounces}
    assert got == {
        "one@example.org": "soft",
        "two@example.org": "hard",
        "three@example.edu": "hard",
    }


def test_qmail_sender_lines_do_not_cut_a_recipient_short():
    text = (
        "From: MAILER-DAEMON@mx.example.jp\nTo: me@mx.example.jp\nSubject: failure notice\n\n"
        "Hi. This is the qmail-send program at mx.example.jp.\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n\n"
        "<full@example.net>:\nFrom: <me@mx.example.jp> RCPT: <full@example.net> "
        "192.0.2.25 does not like recipient.\n"
        "Remote host said: 552 5.2.2 <full@example.net>: Mailbox full\n\n"
        "<gone@example.net>:\nFrom: <me@mx.example.jp> RCPT: <gone@example.net> "
        "192.0.2.25 does not like recipient.\n"
        "Remote host said: 550 5.1.1 <gone@example.net>: Recipient address rejected: User unknown\n"
    )
    got = {b.address: (b.classification, b.status) for b in analyze(_msg(text)).bounces}
    assert got == {"full@example.net": ("soft", "5.2.2"), "gone@example.net": ("hard", "5.1.1")}


def test_ses_notification_with_escaped_json_is_read():
    body = (
        '{\n  "Type" : "Notification",\n  "Message" : "{\\"notificationType\\":\\"Bounce\\",'
        '\\"bounce\\":{\\"bounceType\\":\\"Permanent\\",\\"bouncedRecipients\\":[{'
        '\\"emailAddress\\":\\"gone@example.com\\",\\"action\\":\\"failed\\",'
        '\\"status\\":\\"5.1.1\\",\\"diagnosticCode\\":\\"smtp; 550 5.1.1 user unknown\\"}]},'
        '\\"mail\\":{\\"source\\":\\"me@example.jp\\"}}"\n}\n'
    )
    text = (
        "From: SES <no-reply@sns.amazonaws.com>\nTo: me@example.jp\n"
        f"Subject: AWS Notification Message\nContent-Type: text/plain\n\n{body}"
    )
    rep = analyze(_msg(text))
    assert [(b.address, b.classification) for b in rep.bounces] == [("gone@example.com", "hard")]


def test_a_returned_bounce_inside_the_notice_does_not_add_recipients():
    inner = (
        _dsn(
            "Final-Recipient: rfc822; other@example.net\nAction: failed\nStatus: 5.3.5\n"
            "Diagnostic-Code: smtp; 553 5.3.5 system config error\n"
        )
        .replace('boundary="B"', 'boundary="C"')
        .replace("--B", "--C")
    )
    outer = _dsn(
        "Final-Recipient: rfc822; gone@example.org\nAction: failed\nStatus: 5.1.1\n"
        "Diagnostic-Code: smtp; 550 5.1.1 User unknown\n"
    ).replace("--B--\n", f"--B\nContent-Type: message/rfc822\n\n{inner}\n--B--\n")
    assert [b.address for b in analyze(_msg(outer)).bounces] == ["gone@example.org"]
    # a gateway that only wraps the real report: the wrapped report is the one to read
    wrapper = (
        "From: MAILER-DAEMON@gw.example.com\nTo: me@example.com\nSubject: Returned mail\n"
        'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="W"\n\n'
        "--W\nContent-Type: text/plain\n\nSee the attached report.\n\n"
        f"--W\nContent-Type: message/rfc822\n\n{outer}\n--W--\n"
    )
    assert [b.address for b in analyze(_msg(wrapper)).bounces] == ["gone@example.org"]


def test_help_desk_and_quoted_original_addresses_are_not_recipients():
    text = (
        "From: MAILER-DAEMON@mx.example.jp\nTo: me@example.jp\n"
        "Subject: Undelivered Mail Returned to Sender\n\n"
        "I'm sorry to have to inform you that the message returned\n"
        "below could not be delivered to one or more destinations.\n"
        "For further assistance, please contact <support@isp.example.jp>\n\n"
        "<gone@example.or.jp>: host mx.example.or.jp[192.0.2.22] said: 550 5.1.1\n"
        "    <gone@example.or.jp>: Recipient address rejected: User unknown (in reply to RCPT\n"
        "    TO command)\n\n"
        "From me@example.jp  Sat Oct  4 08:00:07 2025\n"
        "From: Me <someone-else@example.jp>\nTo: gone@example.or.jp\n"
    )
    got = [(b.address, b.classification) for b in analyze(_msg(text)).bounces]
    assert got == [("gone@example.or.jp", "hard")]


def test_sender_side_refusals_stay_soft_despite_dead_address_words():
    # "does not exist" / "invalid address" are in the user-unknown table, but here they are
    # about the sender
    for status, words in [
        ("5.7.1", "554 5.7.1 <me@x.example>: Sender address rejected: Domain does not exist."),
        ("5.1.8", "550 5.1.8 <me@x.example>: Sender address rejected: Domain not found"),
        (None, "550 Invalid address (in reply to MAIL FROM command)"),
    ]:
        assert classify(status, words) == ("soft", "sender_rejected"), words
