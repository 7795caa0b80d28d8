"""List exports' dated columns become email events (list growth, stale-email evidence)."""

from __future__ import annotations

from pathlib import Path

from audit.config import SourceConfig
from audit.sources import read_sources

HEADER = "Email Address,First Name,Last Name,MEMBER_RATING,OPTIN_TIME,UNSUB_TIME,LEID\n"


def test_mailchimp_unsubscribed_gives_subscribe_and_unsubscribe_events(tmp_path: Path) -> None:
    f = tmp_path / "unsubscribed_members_export_1.csv"
    f.write_text(
        HEADER
        + "kim@example.kr,Minjun,Kim,2,2026-01-05 10:00:00,2026-03-01 09:00:00,11\n"
        + "sato@example.jp,Hanako,Sato,3,2026-02-10 08:30:00,,12\n",
        encoding="utf-8",
    )
    ingest = read_sources([SourceConfig(name="mc", path=str(f))], base_dir=tmp_path)
    ev = ingest.records["email_events"].sort_values(["address", "event"])
    got = list(zip(ev["address"], ev["event"], ev["occurred_at"], ev["source_row"], strict=True))
    assert got == [
        ("kim@example.kr", "subscribe", "2026-01-05 10:00:00", "1"),
        ("kim@example.kr", "unsubscribe", "2026-03-01 09:00:00", "1"),
        ("sato@example.jp", "subscribe", "2026-02-10 08:30:00", "2"),
    ]
    assert ingest.records["contacts"]["email_status"].tolist() == ["unsubscribed"] * 2
    counts = ingest.counts.set_index("entity")
    assert counts.loc["email_events", "rows_read"] == 3
    assert counts.loc["contacts", "rows_read"] == 2


def test_mailchimp_cleaned_is_a_list_drop_not_an_inbox_bounce(tmp_path: Path) -> None:
    f = tmp_path / "cleaned_members_export_1.csv"
    f.write_text(
        "Email Address,MEMBER_RATING,OPTIN_TIME,CLEAN_TIME,LEID\n"
        "gone@example.com,1,2025-01-05 10:00:00,2026-03-01 09:00:00,21\n",
        encoding="utf-8",
    )
    ingest = read_sources([SourceConfig(name="mc", path=str(f))], base_dir=tmp_path)
    ev = ingest.records["email_events"]
    assert sorted(ev["event"]) == ["cleaned", "subscribe"]
    assert "bounce" not in set(ev["event"])  # contacts.email.bounced is for real bounces
    assert ingest.records["contacts"]["email_status"].tolist() == ["cleaned"]
